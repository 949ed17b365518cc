"""`mcli fine-tuning create / list / get / cancel / start / validate` against the fake API."""

from __future__ import annotations

import json
import re

import pytest

from tests.fakeapi import error_422, json_response
from tests.fakeapi.defaults import FILE_ID, JOB_ID, completion_job
from tests.fakeapi.ft_jobs import ESTIMATE
from tests.fine_tuning_helpers import CHAT_LINE, sim, train  # noqa: F401 (fixtures)

WANDB_KEY = "w" * 40


def tsv(text: str) -> dict[str, str]:
    return dict(line.split("\t", 1) for line in text.splitlines() if "\t" in line)


# -- create ------------------------------------------------------------------------------


def test_create_validates_uploads_then_creates_with_every_option(api, cli, sim, train, tmp_path, monkeypatch):
    valid = tmp_path / "valid.jsonl"
    valid.write_text(json.dumps(CHAT_LINE) + "\n")
    monkeypatch.setenv("WANDB_API_KEY", WANDB_KEY)
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_secret")
    result = cli("fine-tuning", "create", "--model", "open-mistral-7b",
                 "--training-file", f"{train}:2", "--training-file", FILE_ID,
                 "--validation-file", valid, "--suffix", "support", "--no-auto-start",
                 "--invalid-sample-skip-percentage", "0.1", "--learning-rate", "0.0002",
                 "--epochs", "2.5", "--training-steps", "20", "--warmup-fraction", "0.1",
                 "--weight-decay", "0.2", "--seq-len", "4096", "--fim-ratio", "0.5",
                 "--wandb-project", "ft", "--wandb-name", "n", "--wandb-run-name", "r",
                 "--repository", "mistralai/client-python@main:0.5", "-o", "json")
    assert result.exit_code == 0, result
    assert [r.target for r in api.requests] == ["POST /v1/files", "POST /v1/files", "POST /v1/fine_tuning/jobs"]
    uploads = api.requests[:2]
    assert [r.form for r in uploads] == [{"purpose": "fine-tune"}] * 2
    names = [r.file("file").filename for r in uploads]  # the file's own name, then the run's tag
    assert [re.sub(r"mcli-run-[0-9a-f]{8}-[0-9a-f]{8}", "TAG", name) for name in names] == [
        "train.TAG-1.jsonl", "valid.TAG-2.jsonl"]
    train_id, valid_id = list(api.files)
    assert api.requests[2].query == {}
    assert api.requests[2].json == {
        "model": "open-mistral-7b",
        "training_files": [{"file_id": train_id, "weight": 2.0}, {"file_id": FILE_ID}],
        "validation_files": [valid_id],
        "hyperparameters": {"learning_rate": 0.0002, "epochs": 2.5, "training_steps": 20,
                            "warmup_fraction": 0.1, "weight_decay": 0.2, "seq_len": 4096,
                            "fim_ratio": 0.5},
        "suffix": "support", "auto_start": False, "invalid_sample_skip_percentage": 0.1,
        "integrations": [{"type": "wandb", "project": "ft", "api_key": WANDB_KEY, "name": "n",
                          "run_name": "r"}],
        "repositories": [{"type": "github", "owner": "mistralai", "name": "client-python",
                          "token": "ghp_secret", "ref": "main", "weight": 0.5}],
    }
    body = json.loads(result.stdout)
    assert body["id"] in sim.jobs and body["status"] == "QUEUED"
    assert WANDB_KEY not in result.stderr and "ghp_secret" not in result.stderr


def test_create_classifier_with_targets(api, cli, sim, tmp_path):
    data = tmp_path / "labels.jsonl"
    data.write_text('{"text": "great", "labels": {"sentiment": "positive"}}\n'
                    '{"text": "meh", "labels": {"sentiment": ["neutral"], "topic": "food"}}\n')
    targets = tmp_path / "targets.json"
    targets.write_text(json.dumps([{"name": "topic", "labels": ["food", "sport"], "loss_function": "multi_class"}]))
    result = cli("fine-tuning", "create", "--model", "ministral-3b-latest", "--job-type", "classifier",
                 "--training-file", data,
                 "--classifier-target", "sentiment=positive,negative,neutral;weight=2;loss=single_class",
                 "--classifier-targets", targets, "-o", "text")
    assert result.exit_code == 0, result
    sent = api.last("POST", "/v1/fine_tuning/jobs").json
    assert sent["job_type"] == "classifier"
    assert sent["classifier_targets"] == [
        {"name": "sentiment", "labels": ["positive", "negative", "neutral"], "weight": 2.0,
         "loss_function": "single_class"},
        {"name": "topic", "labels": ["food", "sport"], "loss_function": "multi_class"}]
    assert result.stdout.strip() in sim.jobs


def test_create_classifier_file_with_an_unknown_label_is_refused_before_upload(api, cli, tmp_path):
    data = tmp_path / "labels.jsonl"
    data.write_text('{"text": "great", "labels": {"sentiment": "glad"}}\n')
    result = cli("fine-tuning", "create", "--model", "ministral-3b-latest", "--job-type", "classifier",
                 "--training-file", data, "--classifier-target", "sentiment=positive,negative")
    assert result.exit_code == 2
    assert f"{data}:1: labels.sentiment: unknown label 'glad'" in result.stderr
    assert api.requests == []


def test_create_dry_run_shows_the_estimate_and_starts_nothing(api, cli, sim):
    result = cli("fine-tuning", "create", "--model", "open-mistral-7b", "--training-file", FILE_ID, "--dry-run")
    assert result.exit_code == 0, result
    assert api.last().query == {"dry_run": ["true"]}
    rows = tsv(result.stdout)
    assert rows["cost"] == "2.75 EUR" and rows["training tokens"] == "1310720"
    assert rows["expected duration (s)"] == "420" and rows["data tokens"] == "305375"
    assert sim.jobs == {}
    as_json = cli("fine-tuning", "create", "--model", "open-mistral-7b", "--training-file", FILE_ID,
                  "--dry-run", "-o", "json")
    assert json.loads(as_json.stdout) == ESTIMATE


def test_create_dry_run_on_a_terminal_is_a_table(api, cli, sim):
    result = cli("fine-tuning", "create", "--model", "open-mistral-7b", "--training-file", FILE_ID,
                 "--dry-run", tty=True)
    assert "COST" in result.stdout and "2.75 EUR" in result.stdout and "dry run" in result.stdout


def test_create_with_body_base_and_options_on_top(api, cli, sim, tmp_path):
    base = tmp_path / "job.json"
    base.write_text(json.dumps({"model": "codestral-latest", "training_files": [{"file_id": FILE_ID}],
                                "hyperparameters": {"epochs": 1}}))
    result = cli("fine-tuning", "create", "--body", base, "--learning-rate", "0.001")
    assert result.exit_code == 0, result
    assert api.last("POST", "/v1/fine_tuning/jobs").json == {
        "model": "codestral-latest", "training_files": [{"file_id": FILE_ID}],
        "hyperparameters": {"epochs": 1, "learning_rate": 0.001}}


@pytest.mark.parametrize("args, message", [
    (["--learning-rate", "2"], "--learning-rate must be between 1e-08 and 1"),
    (["--learning-rate", "0"], "--learning-rate must be between 1e-08 and 1"),
    (["--epochs", "0"], "--epochs must be greater than 0"),
    (["--training-steps", "0"], "--training-steps must be at least 1"),
    (["--warmup-fraction", "1.5"], "--warmup-fraction must be between 0 and 1"),
    (["--weight-decay", "-0.1"], "--weight-decay must be between 0 and 1"),
    (["--seq-len", "99"], "--seq-len must be at least 100"),
    (["--fim-ratio", "1.1"], "--fim-ratio must be between 0 and 1"),
    (["--invalid-sample-skip-percentage", "0.6"], "--invalid-sample-skip-percentage must be between 0 and 0.5"),
    (["--suffix", "x" * 19], "--suffix must be at most 18"),
    (["--job-type", "classifier", "--fim-ratio", "0.5"], "--fim-ratio applies to completion jobs only"),
    (["--classifier-target", "a=b"], "--classifier-target needs --job-type classifier"),
    (["--wandb-project", "p"], "WANDB_API_KEY"),
    (["--wandb-name", "n"], "--wandb-project"),
    (["--repository", "mistralai/x"], "GITHUB_TOKEN"),
    (["--training-file", "missing.jsonl"], "neither a file here nor a file id"),
    (["--training-file", f"{FILE_ID}:0"], "the weight must be greater than 0"),
])
def test_create_refuses_bad_options_before_any_request(api, cli, args, message):
    result = cli("fine-tuning", "create", "--model", "open-mistral-7b", "--training-file", FILE_ID, *args)
    assert result.exit_code == 2, result
    assert message in result.stderr
    assert api.requests == []


def test_create_needs_a_model_and_training_data(api, cli):
    assert "--model is required" in cli("fine-tuning", "create", "--training-file", FILE_ID).stderr
    assert "--training-file" in cli("fine-tuning", "create", "--model", "open-mistral-7b").stderr
    assert cli("fine-tuning", "create", "--model", "gpt-4", "--training-file", FILE_ID).exit_code == 2
    assert api.requests == []


def test_create_with_a_bad_training_file_uploads_nothing(api, cli, tmp_path, train):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"messages": [{"role": "user", "content": "Hi"}]}\nnot json\n')
    result = cli("fine-tuning", "create", "--model", "open-mistral-7b", "--training-file", train,
                 "--training-file", bad)
    assert result.exit_code == 2
    assert f"{bad}:1: messages[0].role: the last message must be from the assistant" in result.stderr
    assert f"{bad}:2: not valid JSON" in result.stderr
    assert f"problems in the training file {bad}; nothing was uploaded" in result.stderr
    assert api.requests == []


def test_create_names_a_bad_validation_file_as_such(api, cli, tmp_path, train):
    bad = tmp_path / "valid.jsonl"
    bad.write_text("not json\n")
    result = cli("fine-tuning", "create", "--model", "open-mistral-7b", "--training-file", train,
                 "--validation-file", bad)
    assert result.exit_code == 2
    assert f"problems in the validation file {bad}" in result.stderr
    assert "training file" not in result.stderr
    assert api.requests == []


def test_validate_accepts_blank_lines_with_a_note(api, cli, tmp_path):
    path = tmp_path / "valid.jsonl"
    path.write_text(json.dumps(CHAT_LINE) + "\n\n")
    result = cli("fine-tuning", "validate", path)
    assert result.exit_code == 0, result
    assert result.stdout == f"{path}\tok\t1\t{path.stat().st_size}\n"
    assert f"{path}: 1 blank line skipped" in result.stderr
    assert json.loads(cli("fine-tuning", "validate", path, "-o", "json").stdout)[0]["blank_lines"] == 1


def test_create_is_not_retried_on_a_5xx(api, cli):
    api.add("POST", "/v1/fine_tuning/jobs", json_response({"message": "boom"}, 503), times=1)
    result = cli("fine-tuning", "create", "--model", "open-mistral-7b", "--training-file", FILE_ID)
    assert result.exit_code == 1
    assert len(api.requests_to("POST", "/v1/fine_tuning/jobs")) == 1


def test_create_server_refusal_exits_2(api, cli):
    api.add("POST", "/v1/fine_tuning/jobs", error_422(("body", "suffix"), "too long"))
    result = cli("fine-tuning", "create", "--model", "open-mistral-7b", "--training-file", FILE_ID)
    assert result.exit_code == 2 and "too long" in result.stderr


# -- list --------------------------------------------------------------------------------


def test_list_sends_every_filter(api, cli):
    result = cli("fine-tuning", "list", "--model", "open-mistral-7b", "--status", "RUNNING",
                 "--created-after", "2026-11-01T00:00:00Z", "--created-before", "2026-11-30",
                 "--created-by-me", "--wandb-project", "p", "--wandb-name", "n", "--suffix", "s",
                 "--page", "1", "--page-size", "5")
    assert result.exit_code == 0, result
    assert api.last().query == {
        "model": ["open-mistral-7b"], "status": ["RUNNING"],
        "created_after": ["2026-11-01T00:00:00+00:00"], "created_before": ["2026-11-30T00:00:00+00:00"],
        "created_by_me": ["true"], "wandb_project": ["p"], "wandb_name": ["n"], "suffix": ["s"],
        "page": ["1"], "page_size": ["5"]}
    assert result.stdout.split("\t")[:2] == [JOB_ID, "QUEUED"]


def test_list_several_statuses_asks_once_each_and_merges(api, cli, sim):
    sim.add_job()
    sim.clock.advance(95)
    sim.add_job()
    result = cli("fine-tuning", "list", "--status", "SUCCESS", "--status", "QUEUED", "-o", "json")
    assert result.exit_code == 0, result
    assert [r.query["status"] for r in api.requests] == [["SUCCESS"], ["QUEUED"]]
    body = json.loads(result.stdout)
    assert [job["status"] for job in body["data"]] == ["QUEUED", "SUCCESS"]  # newest first
    assert body["total"] == 2 and body["object"] == "list"


def test_list_all_follows_every_page(api, cli, sim):
    for _ in range(5):
        sim.add_job()
    result = cli("fine-tuning", "list", "--all", "--page-size", "2", "-o", "text")
    assert result.exit_code == 0, result
    assert sorted(result.stdout.split()) == sorted(sim.jobs)
    assert [r.query["page"] for r in api.requests] == [["0"], ["1"], ["2"]]


@pytest.mark.parametrize("args", [["--created-after", "yesterday"], ["--page", "-1"],
                                  ["--all", "--page", "1"], ["--status", "DONE"]])
def test_list_refuses_bad_filters(api, cli, args):
    assert cli("fine-tuning", "list", *args).exit_code == 2
    assert api.requests == []


def test_list_on_a_terminal_is_a_table(api, cli):
    result = cli("fine-tuning", "list", tty=True)
    assert "STATUS" in result.stdout and "QUEUED" in result.stdout


# -- get, cancel, start ------------------------------------------------------------------


def test_get_off_a_terminal_prints_fields_events_and_checkpoints(api, cli, sim):
    job_id = sim.add_job(suffix="bot")
    sim.clock.advance(75)
    result = cli("fine-tuning", "get", job_id)
    assert result.exit_code == 0, result
    rows = tsv(result.stdout)
    assert rows["status"] == "RUNNING" and rows["model"] == "open-mistral-7b" and rows["suffix"] == "bot"
    assert "training_steps=10" in rows["hyperparameters"]
    lines = result.stdout.splitlines()
    assert [line.split("\t")[1] for line in lines if "\tevent\t" in line] == ["event"] * 4
    checkpoints = [line for line in lines if "\tcheckpoint\t" in line]
    assert len(checkpoints) == 2 and "step 10\ttrain_loss 1.6" in checkpoints[0]


def test_get_on_a_terminal_shows_events_checkpoints_and_a_loss_chart(api, cli, sim):
    job_id = sim.add_job()
    sim.clock.advance(200)
    result = cli("fine-tuning", "get", job_id, tty=True)
    assert result.exit_code == 0, result
    for text in ("SUCCESS", "events", "checkpoints", "TRAIN LOSS", "loss", "* train loss", "o valid loss"):
        assert text in result.stdout


def test_get_json_is_the_body_unchanged(api, cli):
    result = cli("fine-tuning", "get", JOB_ID, "-o", "json")
    assert json.loads(result.stdout) == completion_job(JOB_ID, "RUNNING", detailed=True)


def test_get_refuses_a_bad_id(api, cli):
    result = cli("fine-tuning", "get", "nope")
    assert result.exit_code == 2 and "job id" in result.stderr
    assert api.requests == []


def test_cancel_needs_yes_off_a_terminal(api, cli):
    result = cli("fine-tuning", "cancel", JOB_ID)
    assert result.exit_code == 2 and "--yes" in result.stderr
    assert api.requests == []


def test_cancel_then_watch_ends_cancelled(api, cli, sim, monkeypatch):
    from mistral_cli.commands.shared import watching

    monkeypatch.setattr(watching, "CLOCK", watching.Clock(sleep=sim.clock.advance))
    job_id = sim.add_job()
    sim.clock.advance(40)
    result = cli("fine-tuning", "cancel", job_id, "--yes", "-o", "json")
    assert result.exit_code == 0, result
    assert json.loads(result.stdout)["status"] == "CANCELLATION_REQUESTED"
    assert f"cancel requested for {job_id}" in result.stderr
    watched = cli("fine-tuning", "watch", job_id)
    assert watched.exit_code == 5
    assert f"job {job_id} ended CANCELLED" in watched.stderr


def test_cancel_is_retried_on_a_5xx(api, cli):
    api.add("POST", "/v1/fine_tuning/jobs/{job_id}/cancel", json_response({"message": "busy"}, 503), times=1)
    result = cli("fine-tuning", "cancel", JOB_ID, "--yes")
    assert result.exit_code == 0, result
    assert len(api.requests_to("POST", "/v1/fine_tuning/jobs/{job_id}/cancel")) == 2


def test_start_a_job_created_without_auto_start(api, cli, sim, monkeypatch):
    from mistral_cli.commands.shared import watching

    monkeypatch.setattr(watching, "CLOCK", watching.Clock(sleep=sim.clock.advance))
    job_id = sim.add_job(auto_start=False)
    sim.clock.advance(500)
    assert tsv(cli("fine-tuning", "get", job_id).stdout)["status"] == "VALIDATED"
    result = cli("fine-tuning", "start", job_id, "-o", "text")
    assert result.exit_code == 0, result
    assert result.stdout.strip() == job_id and f"start requested for {job_id}" in result.stderr
    assert cli("fine-tuning", "watch", job_id).exit_code == 0
    assert sim.status(sim.jobs[job_id]) == "SUCCESS"


# -- validate ----------------------------------------------------------------------------


def test_validate_summarises_good_files(api, cli, train):
    result = cli("fine-tuning", "validate", train)
    assert result.exit_code == 0, result
    assert result.stdout == f"{train}\tok\t3\t{train.stat().st_size}\n"
    assert api.requests == []


def test_validate_reports_line_numbers_and_exits_2(cli, tmp_path, train):
    bad = tmp_path / "bad.jsonl"
    lines = [json.dumps(CHAT_LINE)] * 2 + [json.dumps({"messages": [{"role": "bot", "content": "x"}]})] * 30
    bad.write_text("\n".join(lines) + "\n")
    result = cli("fine-tuning", "validate", train, bad, "-o", "json")
    assert result.exit_code == 2
    reports = json.loads(result.stdout)
    assert [r["ok"] for r in reports] == [True, False]
    assert reports[1]["problem_count"] == 90  # bad role, no user message, last not from the assistant
    assert f"{bad}:3: messages[0].role: unknown role 'bot'" in result.stderr
    assert "... and 70 more" in result.stderr
    assert "1 of 2 file(s) have problems" in result.stderr


def test_validate_classifier_format(cli, tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text('{"text": "x", "labels": {"a": "b"}}\n{"text": "", "labels": {}}\n')
    result = cli("fine-tuning", "validate", path, "--job-type", "classifier")
    assert result.exit_code == 2
    assert f"{path}:2: text: must be a non-empty string" in result.stderr
    assert f"{path}:2: labels: must be an object" in result.stderr


def test_validate_missing_file_exits_2(cli, tmp_path):
    result = cli("fine-tuning", "validate", tmp_path / "nope.jsonl")
    assert result.exit_code == 2 and "no such file" in result.stderr


def test_create_on_a_terminal_shows_upload_progress_and_the_job(api, cli, sim, train, monkeypatch):
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setenv("COLUMNS", "160")
    result = cli("fine-tuning", "create", "--model", "open-mistral-7b", "--training-file", train, tty=True)
    assert result.exit_code == 0, result
    assert "uploading train.mcli-run-" in result.stderr  # the Rich progress bar
    job_id = next(iter(sim.jobs))
    assert job_id in result.stdout and "QUEUED" in result.stdout and "MODEL" in result.stdout


def test_a_local_file_wins_over_the_weight_syntax(api, cli, sim, tmp_path):
    odd = tmp_path / "part:2"
    odd.write_text(json.dumps(CHAT_LINE) + "\n")
    result = cli("fine-tuning", "create", "--model", "open-mistral-7b", "--training-file", odd, "-o", "text")
    assert result.exit_code == 0, result
    assert api.requests[0].file("file").filename.startswith("part:2.mcli-run-")
    assert api.last("POST", "/v1/fine_tuning/jobs").json["training_files"] == [{"file_id": next(iter(api.files))}]


@pytest.mark.parametrize("args", [["fine-tuning", "--help"], ["fine-tuning", "create", "--help"],
                                  ["fine-tuning", "watch", "--help"]])
def test_help_loads_neither_pydantic_nor_httpx(args):
    import os
    import subprocess
    import sys

    code = ("import io, json, sys\n"
            "from mistral_cli.app import main\n"
            "from mistral_cli.env import Env\n"
            f"code = main({args!r}, Env(io.StringIO(), io.StringIO(), io.StringIO(), environ={{}}))\n"
            "print(json.dumps([code, [m for m in ('pydantic', 'httpx', 'mistral_cli.bodies.fine_tuning')"
            " if m in sys.modules]]))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env=dict(os.environ)).stdout
    assert json.loads(out) == [0, []]


@pytest.mark.parametrize("name", ["-", "/dev/stdin"])
def test_validate_reads_standard_input(cli, name):
    result = cli("fine-tuning", "validate", name, input=json.dumps(CHAT_LINE) + "\nnot json\n")
    assert result.exit_code == 2, result
    assert "standard input:2: not valid JSON" in result.stderr


def test_a_training_file_the_api_would_refuse_stops_before_any_upload(api, cli, tmp_path):
    wrong = tmp_path / "train.json"
    wrong.write_text(json.dumps(CHAT_LINE) + "\n")
    big = tmp_path / "big.jsonl"
    with big.open("wb") as handle:
        handle.truncate(513 * 1024 * 1024)  # sparse, and never read: the size refuses it first
    for path, said in ((wrong, "is not a .jsonl file"), (big, "over the 512 MB")):
        result = cli("fine-tuning", "create", "--model", "open-mistral-7b", "--training-file", path)
        assert result.exit_code == 2 and said in result.stderr, result
        assert "the fine-tuning API takes .jsonl files of at most 512 MB" in result.stderr
    assert api.requests == []
