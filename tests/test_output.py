"""The output contract: table / json / jsonl / text, on and off a terminal, with and without
colour. Unit tests drive render/output.py through an in-memory Env; end-to-end tests go
through `mcli models list|get` against the fake server and compare with what it sent."""

from __future__ import annotations

import io
import json

import pytest

from mistral_cli.env import Env, GlobalOptions
from mistral_cli.render import human
from mistral_cli.render.output import (Column, OutputFormat, emit_list, emit_object, tsv_cell,
                                       write_json, write_jsonl, write_lines)
from tests.fakeapi import json_response
from tests.fakeapi.defaults import base_model, ft_model

ANSI = "\x1b["
NOW = 1_718_000_000


def make_env(tty: bool = False, color: str = "auto", environ: dict | None = None) -> Env:
    return Env(stdin=io.StringIO(), stdout=io.StringIO(), stderr=io.StringIO(),
               stdin_isatty=tty, stdout_isatty=tty, stderr_isatty=tty,
               environ={"TERM": "xterm-256color"} if environ is None else environ,
               options=GlobalOptions(color=color))


ITEMS = [
    {"id": "file-1", "bytes": 1536, "created_at": NOW, "status": "processed",
     "updated": "2024-06-10T06:13:20Z", "meta": {"a": 1, "b": [1, 2]}, "ok": True,
     "note": "tab\there\nnewline", "missing": None},
    {"id": "file-2", "bytes": 5 * 1024 * 1024, "created_at": NOW - 3600, "status": "FAILED",
     "updated": "2024-06-10T07:13:20+00:00", "meta": None, "ok": False, "note": "",
     "missing": None},
]
COLUMNS = (
    Column("ID", "id", "id"), Column("SIZE", "bytes", "size"),
    Column("CREATED", "created_at", "time"), Column("STATUS", "status", "status"),
    Column("UPDATED", "updated", "time"), Column("META", "meta"), Column("OK", "ok", "bool"),
    Column("NOTE", "note"), Column("MISSING", "missing"), Column("A", "meta.a"),
)


def out(env: Env) -> str:
    return env.stdout.getvalue()


# -- table off a terminal ----------------------------------------------------------------


def test_table_off_terminal_is_tsv_with_raw_values():
    env = make_env(tty=False)
    emit_list(env, OutputFormat.table, ITEMS, COLUMNS)
    lines = out(env).splitlines()
    assert lines == [
        "file-1\t1536\t1718000000\tprocessed\t2024-06-10T06:13:20Z\t"
        '{"a":1,"b":[1,2]}\ttrue\ttab here newline\t\t1',
        "file-2\t5242880\t1717996400\tFAILED\t2024-06-10T07:13:20+00:00\t\tfalse\t\t\t",
    ]
    assert ANSI not in out(env)
    assert env.stderr.getvalue() == ""


def test_table_off_terminal_has_no_header_even_with_color_always():
    env = make_env(tty=False, color="always")
    emit_list(env, OutputFormat.table, ITEMS, COLUMNS)
    assert "ID" not in out(env)
    assert len(out(env).splitlines()) == len(ITEMS)


def test_table_off_terminal_empty_list_prints_nothing():
    env = make_env(tty=False)
    emit_list(env, OutputFormat.table, [], COLUMNS)
    assert out(env) == ""


def test_object_off_terminal_is_key_tab_value():
    env = make_env(tty=False)
    emit_object(env, OutputFormat.table, ITEMS[0])
    lines = out(env).splitlines()
    assert lines[0] == "id\tfile-1"
    assert "created_at\t1718000000" in lines
    assert 'meta\t{"a":1,"b":[1,2]}' in lines
    assert "missing\t" in lines
    assert len(lines) == len(ITEMS[0])


def test_object_off_terminal_with_fields():
    env = make_env(tty=False)
    emit_object(env, OutputFormat.table, ITEMS[0], fields=[Column("ID", "id"),
                                                           Column("Size", "bytes", "size")])
    assert out(env) == "id\tfile-1\nsize\t1536\n"


@pytest.mark.parametrize("value, cell", [
    (None, ""), (True, "true"), (False, "false"), (0, "0"), (1.5, "1.5"),
    ("a\tb\nc", "a b c"), ({"k": "v"}, '{"k":"v"}'), ([1, "é"], '[1,"é"]'),
])
def test_tsv_cell(value, cell):
    assert tsv_cell(value) == cell


# -- table on a terminal ------------------------------------------------------------------


def test_table_on_terminal_has_header_and_human_values():
    env = make_env(tty=True)
    emit_list(env, OutputFormat.table, ITEMS, COLUMNS)
    text = out(env)
    assert "ID" in text and "SIZE" in text
    assert "1.5 KiB" in text
    assert "5.0 MiB" in text
    assert "ago" in text
    assert "1718000000" not in text
    assert ANSI in text


def test_table_on_terminal_empty_list_says_so_on_stderr():
    env = make_env(tty=True)
    emit_list(env, OutputFormat.table, [], COLUMNS)
    assert out(env) == ""
    assert "no results" in env.stderr.getvalue()


def test_object_on_terminal_is_a_panel():
    env = make_env(tty=True)
    emit_object(env, OutputFormat.table, {"id": "file-1", "bytes": 1536}, title="file-1",
                fields=[Column("ID", "id"), Column("Size", "bytes", "size")])
    text = out(env)
    assert "file-1" in text and "1.5 KiB" in text
    assert "╭" in text or "+" in text


def test_rich_markup_in_values_is_shown_literally():
    env = make_env(tty=True, color="never")
    emit_list(env, OutputFormat.table, [{"id": "[bold]x[/bold]", "name": "[red]y"}],
              [Column("ID", "id", "id"), Column("NAME", "name")])
    assert "[bold]x[/bold]" in out(env)
    assert "[red]y" in out(env)


@pytest.mark.parametrize("environ, color", [
    ({"TERM": "xterm-256color", "NO_COLOR": "1"}, "auto"),
    ({"TERM": "dumb"}, "auto"),
    ({"TERM": "xterm-256color"}, "never"),
])
def test_no_ansi_on_terminal_when_colour_is_off(environ, color):
    env = make_env(tty=True, color=color, environ=environ)
    emit_list(env, OutputFormat.table, ITEMS, COLUMNS)
    emit_object(env, OutputFormat.table, ITEMS[0])
    emit_list(env, OutputFormat.table, [], COLUMNS)
    assert "ID" in out(env)
    assert ANSI not in out(env) + env.stderr.getvalue()


# -- json / jsonl / text ------------------------------------------------------------------


def test_json_prints_the_body_unchanged():
    body = {"object": "list", "data": ITEMS, "extra": {"unknown": "field"}, "total": 2}
    env = make_env(tty=True)
    emit_list(env, OutputFormat.json, ITEMS, COLUMNS, body=body)
    assert json.loads(out(env)) == body
    assert ANSI not in out(env)


def test_json_default_body_is_the_items():
    env = make_env()
    emit_list(env, OutputFormat.json, ITEMS, COLUMNS)
    assert json.loads(out(env)) == ITEMS


def test_json_keeps_non_ascii():
    env = make_env()
    write_json(env, {"name": "café ☕"})
    assert "café ☕" in out(env)


def test_jsonl_one_object_per_line():
    env = make_env(tty=True)
    emit_list(env, OutputFormat.jsonl, ITEMS, COLUMNS, body={"ignored": True})
    lines = out(env).splitlines()
    assert [json.loads(line) for line in lines] == ITEMS


def test_jsonl_of_one_object():
    env = make_env()
    emit_object(env, OutputFormat.jsonl, ITEMS[0])
    assert out(env).count("\n") == 1
    assert json.loads(out(env)) == ITEMS[0]


def test_text_is_bare_ids():
    env = make_env(tty=True)
    emit_list(env, OutputFormat.text, ITEMS, COLUMNS)
    assert out(env) == "file-1\nfile-2\n"


def test_text_with_another_id_key():
    env = make_env()
    emit_object(env, OutputFormat.text, {"url": "https://x.example/f"}, id_key="url")
    assert out(env) == "https://x.example/f\n"


def test_write_helpers():
    env = make_env()
    write_jsonl(env, iter([{"a": 1}, [2]]))
    write_lines(env, ["x", None, 3])
    assert out(env) == '{"a":1}\n[2]\nx\n\n3\n'


# -- human formatting ------------------------------------------------------------------------


@pytest.mark.parametrize("value, text", [
    (0, "0 B"), (1023, "1023 B"), (1536, "1.5 KiB"), (1024 ** 3, "1.0 GiB"),
    (None, ""), ("n/a", "n/a"),
])
def test_size(value, text):
    assert human.size(value) == text


@pytest.mark.parametrize("value, text", [
    (NOW - 10, "just now"), (NOW - 60, "1 minute ago"), (NOW - 7200, "2 hours ago"),
    (NOW - 3 * 86400, "3 days ago"), (NOW + 300, "in 5 minutes"),
    ("2024-06-10T06:13:20Z", "just now"), ("2024-06-10T05:13:20+00:00", "1 hour ago"),
    ("not a time", "not a time"), (None, ""),
])
def test_relative_time(value, text):
    assert human.relative_time(value, now=NOW) == text


@pytest.mark.parametrize("value, text", [
    ("a,b", "a, b"), (["a", "b"], "a, b"), ("", ""), (None, ""), ("[x]", r"\[x]"),
])
def test_list_kind(value, text):
    assert human.format_value(value, "list") == text


def test_status_colour_markup():
    assert human.status("FAILED") == "[red]FAILED[/red]"
    assert human.status("SOMETHING_NEW") == "SOMETHING_NEW"


# -- end to end through `mcli models` --------------------------------------------------------


@pytest.fixture
def models_body():
    return {"object": "list", "data": [base_model(), ft_model()]}


def test_models_list_off_terminal_is_tsv(api, cli, models_body):
    api.add("GET", "/v1/models", json_response(models_body))
    result = cli("models", "list")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    first = lines[0].split("\t")
    assert first == ["mistral-small-latest", "base", "mistralai", "32768",
                     "completion_chat,function_calling,fine_tuning", "1718000000"]
    assert ANSI not in result.stdout
    assert "ID" not in first


def test_models_list_on_terminal_is_a_table(api, cli, models_body, monkeypatch):
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setenv("COLUMNS", "120")
    api.add("GET", "/v1/models", json_response(models_body))
    result = cli("models", "list", tty=True)
    assert result.exit_code == 0
    assert "ID" in result.stdout and "CREATED" in result.stdout
    assert "ago" in result.stdout
    assert "chat, tools," in result.stdout and "fine-tuning" in result.stdout  # short names on a terminal
    assert "1718000000" not in result.stdout
    assert ANSI in result.stdout


@pytest.mark.parametrize("how", ["NO_COLOR", "--color never", "--color=never"])
def test_models_list_on_terminal_without_colour(api, cli, models_body, monkeypatch, how):
    monkeypatch.setenv("TERM", "xterm-256color")
    args = ["models", "list"]
    if how == "NO_COLOR":
        monkeypatch.setenv("NO_COLOR", "1")
    else:
        args += how.split()
    api.add("GET", "/v1/models", json_response(models_body))
    result = cli(*args, tty=True)
    assert result.exit_code == 0
    assert "ID" in result.stdout and "mistral-small-latest" in result.stdout
    assert ANSI not in result.stdout + result.stderr


@pytest.mark.parametrize("tty", [False, True])
def test_models_list_json_is_the_body(api, cli, models_body, tty):
    models_body["unknown_field"] = {"kept": [1, 2]}
    stub = json_response(models_body)
    api.add("GET", "/v1/models", stub)
    result = cli("models", "list", "-o", "json", tty=tty)
    assert result.exit_code == 0
    assert json.loads(result.stdout) == stub.json


def test_models_list_jsonl(api, cli, models_body):
    api.add("GET", "/v1/models", json_response(models_body))
    result = cli("models", "list", "-o", "jsonl")
    assert [json.loads(line) for line in result.stdout.splitlines()] == models_body["data"]


def test_models_list_text(api, cli, models_body):
    api.add("GET", "/v1/models", json_response(models_body))
    result = cli("models", "list", "-o", "text")
    assert result.stdout.splitlines() == [m["id"] for m in models_body["data"]]


def test_models_get_json_and_tsv(api, cli):
    stub = json_response(base_model())
    api.add("GET", "/v1/models/{model_id}", stub, times=2)
    as_json = cli("models", "get", "mistral-small-latest", "-o", "json")
    assert json.loads(as_json.stdout) == stub.json
    as_tsv = cli("models", "get", "mistral-small-latest")
    lines = as_tsv.stdout.splitlines()
    assert "id\tmistral-small-latest" in lines
    assert "created\t1718000000" in lines
    assert "deprecation\t" in lines


def test_output_format_is_case_insensitive_and_validated(api, cli):
    assert cli("models", "list", "-o", "JSON").exit_code == 0
    bad = cli("models", "list", "-o", "yaml")
    assert bad.exit_code == 2
    assert len(api.requests) == 1


@pytest.mark.parametrize("items", [[], ITEMS, [{"s": "é\x1b[31m\x7f\u2028", "n": float("nan"), "l": [[], {}]}], [1, "x"]])
def test_a_streamed_json_list_prints_the_same_bytes_as_the_whole_list(items):
    whole, streamed = make_env(), make_env()
    write_json(whole, items)
    emit_list(streamed, OutputFormat.json, iter(items), COLUMNS)
    assert streamed.stdout.getvalue() == whole.stdout.getvalue()


@pytest.mark.parametrize("fmt", [OutputFormat.json, OutputFormat.jsonl, OutputFormat.text, OutputFormat.table])
def test_a_list_given_as_an_iterator_is_printed_before_it_ends(fmt):
    env = make_env()

    def items():
        yield ITEMS[0]
        assert "file-1" in env.stdout.getvalue(), "nothing printed yet"
        yield ITEMS[1]

    emit_list(env, fmt, items(), COLUMNS)
    assert "file-2" in env.stdout.getvalue()


def test_short_path_is_relative_to_the_working_folder_then_home(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    assert human.short_path(tmp_path / "work" / "results" / "run") == "results/run"
    assert human.short_path(tmp_path / "elsewhere") == "~/elsewhere"
    assert human.short_path("/somewhere/else") == "/somewhere/else" and human.short_path(None) == ""
