"""Tables on a terminal fit it (DESIGN.md, Output contract): at 60, 80 and 120 columns every
list command's table keeps ids whole, cuts long text with `…`, keeps each row on one line,
never prints a line wider than the terminal, and names on stderr the columns it left out.
Realistic values: 36-character UUIDs, long file names, `ft:` model ids, capability lists."""

from __future__ import annotations

import io
import re
import time

import pytest

from mistral_cli.commands import files, history, models, usage
from mistral_cli.commands.batch import group as batch_group
from mistral_cli.commands.batch import run as batch_run
from mistral_cli.commands.fine_tuning import group as ft_group
from mistral_cli.env import Env, GlobalOptions
from mistral_cli.render import table_layout
from mistral_cli.render.output import Column, OutputFormat, emit_list, emit_object
from tests.fakeapi import json_response
from tests.fakeapi.defaults import base_model, ft_model

NOW = int(time.time())
WIDTHS = (60, 80, 120)
FT_ID = "ft:open-mistral-7b:a1b2c3d4:20240610:f00dcafe"
UUIDS = ["3fa85f64-5717-4562-b3fc-2c963f66afa6", "7ad642c1-fc6f-4a4a-8ab3-45e3d3c9f0b1",
         "b2c5a1d4-2f8e-4f0c-9b1a-6d3e8f7a9c10"]
LONG_NAME = "customer-support-conversations-2024-06-cleaned-deduplicated-train.jsonl"


def _model(mid: str, **changes) -> dict:
    model = base_model(mid) if not mid.startswith("ft:") else ft_model(mid)
    model["created"] = NOW - 3 * 86400
    return {**model, **changes}


MODELS = [_model("mistral-large-latest"), _model("codestral-2405", capabilities={
    "completion_chat": True, "completion_fim": True, "function_calling": True, "fine_tuning": True,
    "vision": True}), _model(FT_ID)]
FILES = [{"id": UUIDS[0], "object": "file", "bytes": 52_428_800, "created_at": NOW - 7200,
          "filename": LONG_NAME, "purpose": "fine-tune", "sample_type": "instruct", "source": "upload"},
         {"id": UUIDS[1], "object": "file", "bytes": 1234, "created_at": NOW - 60,
          "filename": "batch-input.jsonl", "purpose": "batch", "sample_type": "batch_request",
          "source": "upload"}]
JOBS = [{"id": UUIDS[1], "status": "RUNNING", "model": "open-mistral-7b", "job_type": "completion",
         "fine_tuned_model": FT_ID, "suffix": "support-bot-v2", "created_at": NOW - 3600},
        {"id": UUIDS[2], "status": "FAILED_VALIDATION", "model": "mistral-small-latest",
         "job_type": "classifier", "fine_tuned_model": None, "suffix": None, "created_at": NOW - 86400}]
BATCHES = [{"id": UUIDS[2], "status": "CANCELLATION_REQUESTED", "model": "mistral-small-latest",
            "endpoint": "/v1/chat/completions", "total_requests": 12000, "succeeded_requests": 10450,
            "failed_requests": 3, "created_at": NOW - 5 * 3600},
           {"id": UUIDS[0], "status": "SUCCESS", "model": FT_ID, "endpoint": "/v1/embeddings",
            "total_requests": 10, "succeeded_requests": 10, "failed_requests": 0, "created_at": NOW - 120}]
RUNS = [{"tag": "nightly-support-eval-2024-06-10", "state": "waiting", "kind": "chat", "job_id": UUIDS[2],
         "inputs": [f"data/{LONG_NAME}", "data/extra.jsonl"],
         "results": {"dir": "/home/someone/projects/evals/results/nightly-support-eval"},
         "updated_at": NOW - 300}]
CHATS = [{"id": "20240610-131415-3f9a2c", "kind": "chat", "model": "mistral-large-latest",
          "message_count": 14, "updated_at": NOW - 600,
          "title": "How do I paginate the files list endpoint with a cursor and a page size?"}]
USAGE = [{"model": FT_ID, "prompt_tokens": 1_234_567, "completion_tokens": 234_567,
          "total_tokens": 1_469_134, "requests": 1234, "pages": 12_345, "_cost": "≥1,234.56 USD"}]

LIST_TABLES = {
    "models list": (models.LIST_COLUMNS, MODELS, "id"),
    "files list": (files.LIST_COLUMNS, FILES, "id"),
    "fine-tuning list": (ft_group.LIST_COLUMNS, JOBS, "id"),
    "batch list": (batch_group.LIST_COLUMNS, BATCHES, "id"),
    "batch runs": (batch_run.RUN_COLUMNS, RUNS, "tag"),
    "history list": (history.LIST_COLUMNS, CHATS, "id"),
    "usage --by model": ((usage.GROUP_COLUMNS["model"], *usage.COUNT_COLUMNS, usage.TERMINAL_COST), USAGE, "model"),
}


def render(monkeypatch, width: int, emit) -> tuple[str, str]:
    """What EMIT(env) prints on a terminal WIDTH columns wide (no colour), stdout and stderr."""
    monkeypatch.setenv("COLUMNS", str(width))
    env = Env(stdin=io.StringIO(), stdout=io.StringIO(), stderr=io.StringIO(), stdin_isatty=True,
              stdout_isatty=True, stderr_isatty=True, environ={"TERM": "xterm-256color"},
              options=GlobalOptions(color="never"))
    emit(env)
    return env.stdout.getvalue(), env.stderr.getvalue()


def table_at(monkeypatch, name: str, width: int) -> tuple[str, str]:
    """The table of list command NAME at WIDTH columns."""
    columns, items, _ = LIST_TABLES[name]
    return render(monkeypatch, width, lambda env: emit_list(env, OutputFormat.table, items, columns))


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", sorted(LIST_TABLES))
def test_no_line_is_wider_than_the_terminal(monkeypatch, name, width):
    out, _ = table_at(monkeypatch, name, width)
    assert max(len(line) for line in out.splitlines()) <= width, out


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", sorted(LIST_TABLES))
def test_each_row_is_one_line(monkeypatch, name, width):
    out, _ = table_at(monkeypatch, name, width)
    lines = [line for line in out.splitlines() if line.strip()]
    under = [line for line in lines[2:] if line.startswith(table_layout.STACK_MARK)]
    assert len(lines) == 2 + len(LIST_TABLES[name][1]) + len(under), out  # header, rule, a line a row
    assert len(under) <= len(LIST_TABLES[name][1])  # and at most one value written under its id


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", sorted(LIST_TABLES))
def test_ids_are_whole(monkeypatch, name, width):
    out, _ = table_at(monkeypatch, name, width)
    _, items, id_key = LIST_TABLES[name]
    for item in items:
        assert item[id_key] in out, out


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", sorted(LIST_TABLES))
def test_left_out_columns_are_named_on_stderr(monkeypatch, name, width):
    out, err = table_at(monkeypatch, name, width)
    header = re.split(r"\s{2,}| ↳ ", out.splitlines()[0].strip())
    columns = LIST_TABLES[name][0]
    missing = [col.header for col in columns if col.header not in header]
    err = " ".join(err.split())
    if missing:
        assert f"not shown at {width} columns: {', '.join(missing)}" in err
        assert "-o json" in err
    else:
        assert err == ""


def test_models_list_at_80_keeps_capabilities_cut_with_an_ellipsis(monkeypatch):
    out, err = table_at(monkeypatch, "models list", 80)
    assert "CAPABILITIES" in out and "chat, tools" in out and "…" in out
    assert "not shown at 80 columns:" in err and "CAPABILITIES" not in err


def test_files_list_at_80_cuts_a_long_name_with_an_ellipsis(monkeypatch):
    out, _ = table_at(monkeypatch, "files list", 80)
    assert "customer-support" in out and "…" in out
    assert LONG_NAME not in out


def test_at_120_models_list_leaves_out_only_the_type_an_ft_id_says(monkeypatch):
    out, err = table_at(monkeypatch, "models list", 120)
    for col in models.LIST_COLUMNS:
        assert col.header in out or col.header == "TYPE"
    assert "chat, tools, vision, fim, fine-tuning" in out
    assert "not shown at 120 columns: TYPE;" in err


@pytest.mark.parametrize("name", sorted(LIST_TABLES))
def test_off_a_terminal_every_column_stays(monkeypatch, name):
    columns, items, _ = LIST_TABLES[name]
    env = Env(stdin=io.StringIO(), stdout=io.StringIO(), stderr=io.StringIO(), stdin_isatty=False,
              stdout_isatty=False, stderr_isatty=False, environ={})
    monkeypatch.setenv("COLUMNS", "60")
    emit_list(env, OutputFormat.table, items, columns)
    lines = env.stdout.getvalue().splitlines()
    assert all(len(line.split("\t")) == len(columns) for line in lines)
    assert "…" not in env.stdout.getvalue()


def test_models_list_end_to_end_at_80(api, cli, monkeypatch):
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "80")
    api.add("GET", "/v1/models", json_response({"object": "list", "data": MODELS}))
    result = cli("models", "list", tty=True)
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert max(map(len, lines)) <= 80 and len([line for line in lines if line.strip()]) == 5
    assert FT_ID in result.stdout and "chat, tools" in result.stdout


# -- the layout rule itself ----------------------------------------------------------------


def spec(header: str, natural: int, kind: str = "text", priority: int = 1) -> table_layout.Spec:
    return table_layout.Spec(header, kind, priority, natural)


def test_layout_drops_the_highest_priority_number_then_the_rightmost():
    specs = [spec("ID", 36, "id", 0), spec("A", 20, priority=2), spec("B", 20, priority=2),
             spec("C", 20, priority=1)]
    layout = table_layout.fit(specs, table_layout.table_width([36, 12, 12]))
    assert layout.dropped == [2]
    assert layout.kept == [0, 1, 3]


def test_layout_adds_back_a_narrow_column_once_a_wide_one_is_out():
    specs = [spec("ID", 36, "id", 0), spec("WIDE", 45, "id", 2), spec("NARROW", 15, priority=3)]
    layout = table_layout.fit(specs, table_layout.table_width([36, 15]))
    assert layout.kept == [0, 2] and layout.dropped == [1]


def test_layout_never_drops_priority_zero_nor_cuts_an_id():
    layout = table_layout.fit([spec("ID", 45, "id", 0), spec("T", 30, priority=0)], 40)
    assert layout.kept == [0, 1] and layout.widths[0] == 45


def test_layout_shrinks_the_widest_text_column_first():
    layout = table_layout.fit([spec("ID", 10, "id", 0), spec("NAME", 40), spec("X", 12)],
                              table_layout.table_width([10, 30, 12]))
    assert layout.widths == [10, 30, 12]


# -- panels --------------------------------------------------------------------------------


def test_panel_at_80_wraps_a_long_value_inside_and_cuts_nothing(monkeypatch):
    description = ("A long description of a model that a server sends in one string, far longer "
                   "than one line of a terminal eighty columns wide, so it has to wrap. END")
    obj = {"id": FT_ID, "description": description, "aliases": ["a" * 30, "b" * 30, "c" * 30]}
    fields = [Column("ID", "id", "id"), Column("DESCRIPTION", "description"),
              Column("ALIASES", "aliases", "list")]
    out, _ = render(monkeypatch, 80, lambda env: emit_object(env, OutputFormat.table, obj, fields, title=FT_ID))
    assert max(len(line) for line in out.splitlines()) <= 80, out
    inside = " ".join(re.sub(r"^[│|]\s*|\s*[│|]$", "", line).strip() for line in out.splitlines())
    flat = re.sub(r"\s+", " ", inside)
    assert "END" in flat and "…" not in out
    for word in description.split():
        assert word in flat
    assert FT_ID in out


def test_layout_adds_nothing_back_that_would_cut_a_more_important_column():
    specs = [spec("ID", 45, "id", 0), spec("TITLE", 36, priority=1), spec("TYPE", 10, priority=2),
             spec("CREATED", 12, "time", 3), spec("CONTEXT", 7, priority=4)]
    layout = table_layout.fit(specs, 80)
    assert layout.kept == [0, 1, 2] and layout.widths == [45, 21, 10]


@pytest.mark.parametrize("kind", ["list", "path"])
def test_layout_leaves_out_lesser_columns_before_cutting_a_list_or_a_path(kind):
    specs = [spec("ID", 45, "id", 0), spec("CAPABILITIES", 30, kind, 1), spec("TYPE", 10, priority=2),
             spec("CREATED", 12, "time", 3)]
    layout = table_layout.fit(specs, 80)
    assert layout.kept == [0, 1] and layout.widths == [45, 30]


def test_an_absurdly_long_id_is_cut_and_leaves_room_for_the_other_columns(api, cli, monkeypatch):
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "80")
    huge = "m" * 5000
    api.add("GET", "/v1/models", json_response({"object": "list", "data": [*MODELS, _model(huge)]}), times=1)
    result = cli("models", "list", tty=True)
    assert result.exit_code == 0, result
    lines = result.stdout.splitlines()
    assert max(map(len, lines)) <= 80 and len([line for line in lines if line.strip()]) == 6
    assert FT_ID in result.stdout and "mistral-large-latest" in result.stdout  # real ids stay whole
    assert "m" * (len(FT_ID) - 1) + "…" in result.stdout and "m" * len(FT_ID) not in result.stdout
    assert lines[0].split() == end_to_end_header(api, cli)  # the same columns as without it


def end_to_end_header(api, cli) -> list[str]:
    """The header of `models list` at the same width over MODELS alone."""
    api.add("GET", "/v1/models", json_response({"object": "list", "data": MODELS}))
    return cli("models", "list", tty=True).stdout.splitlines()[0].split()


def test_a_fixed_column_takes_its_widest_cell_of_a_real_length():
    assert table_layout.fixed_width(2, [36, 45, 5000]) == 45
    assert table_layout.fixed_width(2, [5000]) == table_layout.CELL_CAP
    assert table_layout.fixed_width(2, [36, table_layout.CELL_CAP]) == table_layout.CELL_CAP


# -- what each table keeps at 80 columns ------------------------------------------------------


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", ["history list", "batch list", "fine-tuning list"])
def test_a_model_name_is_whole_or_left_out_and_named(monkeypatch, name, width):
    out, err = table_at(monkeypatch, name, width)
    for item in LIST_TABLES[name][1]:
        assert item["model"] in out or "MODEL" in err.split("not shown")[-1], out


def test_history_and_batch_list_at_80_keep_a_model_name_whole(monkeypatch):
    out, _ = table_at(monkeypatch, "history list", 80)
    assert "mistral-large-latest" in out
    running = [{**BATCHES[0], "status": "RUNNING"}]
    out, _ = render(monkeypatch, 80, lambda env: emit_list(env, OutputFormat.table, running, batch_group.LIST_COLUMNS))
    assert "mistral-small-latest" in out and "…" not in out


def test_models_list_at_80_shows_vision_and_a_word_for_every_model(monkeypatch):
    special = [_model("mistral-embed"), _model("mistral-ocr-latest"), _model("mistral-moderation-latest")]
    for model in special:
        model["capabilities"] = {name: False for name in model["capabilities"]}
    items = [*MODELS, *special]
    out, _ = render(monkeypatch, 80, lambda env: emit_list(env, OutputFormat.table, items, models.LIST_COLUMNS))
    rows = {line.split()[0]: line for line in out.splitlines()[2:]}
    assert "vision" in rows["codestral-2405"]
    assert rows["mistral-embed"].split()[1:] == ["embeddings"]
    assert "ocr" in rows["mistral-ocr-latest"] and "moderation" in rows["mistral-moderation-latest"].split()[1:]


def test_fine_tuning_list_keeps_the_result_before_the_date(monkeypatch):
    out, err = table_at(monkeypatch, "fine-tuning list", 120)
    assert "FINE-TUNED MODEL" in out and FT_ID in out


def test_fine_tuning_list_at_80_writes_the_result_whole_under_the_job_id(monkeypatch):
    out, err = table_at(monkeypatch, "fine-tuning list", 80)
    lines = out.splitlines()
    assert lines[0].startswith("ID ↳ FINE-TUNED MODEL") and "STATUS" in lines[0]
    assert lines[2].startswith(UUIDS[1]) and lines[3].strip() == f"↳ {FT_ID}"
    assert lines[4].startswith(UUIDS[2])  # a job with no result: one line
    assert "SUFFIX" in out and "FINE-TUNED MODEL" not in err and "CREATED" in err
    out, err = table_at(monkeypatch, "fine-tuning list", 60)  # the status first: the result named
    assert "STATUS" in out and FT_ID not in out and "FINE-TUNED MODEL" in err


def test_a_column_is_written_under_its_host_only_when_nothing_more_important_goes():
    specs = [table_layout.Spec("ID", "id", 0, 36), table_layout.Spec("STATUS", "status", 1, 17),
             table_layout.Spec("RESULT", "id", 2, 45, under=0)]
    layout = table_layout.fit(specs, 80)
    assert layout.stacked == ((2, 0),) and layout.kept == [0, 1] and layout.widths[0] == 47
    assert table_layout.fit(specs, 60).stacked == ()  # STATUS would go for it
    assert table_layout.fit(specs, 120).stacked == () and table_layout.fit(specs, 120).kept == [0, 1, 2]


def test_batch_runs_at_80_keeps_kind_and_the_end_of_the_results_folder(monkeypatch):
    out, _ = table_at(monkeypatch, "batch runs", 80)
    assert "KIND" in out and "chat" in out.splitlines()[2]
    assert "RESULTS" in out and "/results/nightly-support-eval" in out
