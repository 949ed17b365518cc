"""`mcli fine-tuning watch` (and `create --watch`) against simulated jobs on a test clock."""

from __future__ import annotations

import json
import signal
import sys
import time

import pytest

from mistral_cli.commands.shared import watching
from tests.fakeapi import error_empty, error_proxy_text
from tests.fakeapi.defaults import FILE_ID
from tests.fakeapi.ft_jobs import FAILED, FineTuningSim
from tests.process_helpers import read_line, start_mcli


@pytest.fixture
def sim(api, monkeypatch):
    simulated = FineTuningSim(api).install()
    monkeypatch.setattr(watching, "CLOCK", watching.Clock(sleep=simulated.clock.advance))
    return simulated


def fields(line: str) -> list[str]:
    return line.split("\t")


def test_watch_off_a_terminal_prints_a_line_per_change_and_exits_0(api, cli, sim):
    job_id = sim.add_job()
    result = cli("fine-tuning", "watch", job_id, "--interval", "10")
    assert result.exit_code == 0, result
    lines = [fields(line) for line in result.stdout.splitlines()]
    assert [(kind, detail) for _when, kind, detail, *_rest in lines] == [
        ("event", "status-updated"), ("event", "status-updated"), ("event", "status-updated"),
        ("event", "status-updated"), ("checkpoint", "step 10"), ("checkpoint", "step 20"),
        ("checkpoint", "step 30"), ("event", "status-updated")]
    assert [json.loads(line[3])["status"] for line in lines if line[1] == "event"] == [
        "QUEUED", "VALIDATING", "VALIDATED", "RUNNING", "SUCCESS"]
    assert lines[4][3].startswith("train_loss 1.6  valid_loss 1.722")
    assert "ended SUCCESS: fine-tuned model ft:open-mistral-7b" in result.stderr
    assert "\x1b" not in result.stdout


def test_changes_within_one_second_come_in_the_order_of_a_job_s_life():
    from mistral_cli.bodies.fine_tuning import FineTuningJob
    from mistral_cli.commands.fine_tuning.watch import Tracker, change_lines

    second = 1_718_000_000
    events = [{"name": "status-updated", "created_at": second, "data": {"status": status}}
              for status in ("SUCCESS", "RUNNING", "VALIDATED", "VALIDATING", "QUEUED")]  # newest first, as the API lists
    job = FineTuningJob.parse({"id": "j", "status": "SUCCESS", "modified_at": second, "events": events,
                               "checkpoints": [{"step_number": 3, "created_at": second, "metrics": {}}]}, "GET job")
    lines = change_lines(Tracker().changes(job), second)
    told = [line.split("\t")[3] if "\tevent\t" in line else line.split("\t")[2] for line in lines]
    assert told == ['{"status":"QUEUED"}', '{"status":"VALIDATING"}', '{"status":"VALIDATED"}',
                    '{"status":"RUNNING"}', "step 3", '{"status":"SUCCESS"}']
    assert [event.data["status"] for event in job.sorted_events()][:2] == ["QUEUED", "VALIDATING"]


def test_watch_polls_with_a_growing_interval_back_to_the_start_on_change(api, cli, sim):
    job_id = sim.add_job()
    assert cli("fine-tuning", "watch", job_id, "--interval", "2").exit_code == 0
    sleeps = sim.clock.sleeps
    assert sleeps[0] == 2 and max(sleeps) > 2  # grew while nothing changed
    assert any(a > b == 2 for a, b in zip(sleeps, sleeps[1:]))  # and fell back on a change


@pytest.mark.parametrize("final", ["FAILED", "FAILED_VALIDATION", "CANCELLED"])
def test_watch_exits_5_when_the_job_ends_badly(api, cli, monkeypatch, final):
    sim = FineTuningSim(api, final=final).install()
    monkeypatch.setattr(watching, "CLOCK", watching.Clock(sleep=sim.clock.advance))
    job_id = sim.add_job()
    result = cli("fine-tuning", "watch", job_id)
    assert result.exit_code == 5, result
    assert f"job {job_id} ended {final}" in result.stderr
    if final == FAILED:
        assert "ran out of memory" in result.stderr  # the event's error


def test_watch_jsonl_prints_the_whole_body_once_per_change(api, cli, sim):
    job_id = sim.add_job()
    result = cli("fine-tuning", "watch", job_id, "-o", "jsonl")
    assert result.exit_code == 0, result
    bodies = [json.loads(line) for line in result.stdout.splitlines()]
    assert {b["id"] for b in bodies} == {job_id}
    assert all(a != b for a, b in zip(bodies, bodies[1:]))  # only what changed
    statuses = [b["status"] for b in bodies]
    assert statuses[0] == "QUEUED" and statuses[-1] == "SUCCESS"
    assert {"VALIDATING", "VALIDATED", "RUNNING"} <= set(statuses)
    assert len(bodies[-1]["checkpoints"]) == 3


def test_watch_json_prints_the_final_body_and_text_the_model(api, cli, sim):
    job_id = sim.add_job(suffix="bot")
    body = json.loads(cli("fine-tuning", "watch", job_id, "-o", "json").stdout)
    assert body["status"] == "SUCCESS" and len(body["checkpoints"]) == 3
    assert cli("fine-tuning", "watch", job_id, "-o", "text").stdout.strip() == body["fine_tuned_model"]


def test_watch_survives_a_503_and_a_proxy_error_in_the_middle(api, cli, sim):
    job_id = sim.add_job()
    sim.clock.advance(35)
    sim.fail_next(1, error_empty(503))
    sim.fail_next(1, error_proxy_text(502))
    result = cli("--max-retries", "0", "fine-tuning", "watch", job_id)
    assert result.exit_code == 0, result
    assert result.stderr.count("mcli: warning:") == 2 and "still watching, next try in" in result.stderr
    assert sim.gets >= 4
    assert "SUCCESS" in result.stdout


def test_watch_gives_up_on_a_404(api, cli, sim):
    result = cli("fine-tuning", "watch", "0b9c9a38-53b4-4a4e-9a5c-3c1f6a0f7e21")
    assert result.exit_code == 4 and "not found" in result.stderr.lower()


def test_watch_ctrl_c_says_how_to_resume_and_exits_130(api, cli, sim, monkeypatch):
    job_id = sim.add_job()

    def interrupted(_seconds):
        raise KeyboardInterrupt

    monkeypatch.setattr(watching, "CLOCK", watching.Clock(sleep=interrupted))
    result = cli("fine-tuning", "watch", job_id)
    assert result.exit_code == 130
    assert f"Resume with: mcli fine-tuning watch {job_id}" in result.stderr
    assert sim.status(sim.jobs[job_id]) == "QUEUED"  # the job goes on; nothing was cancelled


def test_watch_on_a_terminal_is_a_live_view(api, cli, sim, monkeypatch):
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setenv("COLUMNS", "100")
    job_id = sim.add_job()
    result = cli("fine-tuning", "watch", job_id, tty=True)
    assert result.exit_code == 0, result
    for text in (job_id, "SUCCESS", "events", "checkpoints", "* train loss", "o valid loss"):
        assert text in result.stdout
    assert "\x1b[" in result.stdout  # redrawn in place


def test_watch_on_a_terminal_shows_a_passing_failure(api, cli, sim, monkeypatch):
    monkeypatch.setenv("TERM", "xterm-256color")
    job_id = sim.add_job()
    sim.fail_next(1, error_empty(503))
    result = cli("--max-retries", "0", "fine-tuning", "watch", job_id, tty=True)
    assert result.exit_code == 0, result
    assert "mcli: warning:" in result.stdout and "still watching" in result.stdout


def test_create_watch_runs_the_whole_job_in_one_command(api, cli, sim, tmp_path):
    train = tmp_path / "train.jsonl"
    train.write_text('{"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]}\n')
    result = cli("fine-tuning", "create", "--model", "open-mistral-7b", "--training-file", train,
                 "--training-file", FILE_ID, "--watch", "--interval", "10", "-o", "text")
    assert result.exit_code == 0, result
    job_id = next(iter(sim.jobs))
    assert result.stdout.strip() == f"ft:open-mistral-7b:x:{job_id[:8]}"
    assert [r.target for r in api.requests[:2]] == ["POST /v1/files", "POST /v1/fine_tuning/jobs"]
    assert f"created fine-tuning job {job_id}" in result.stderr


@pytest.mark.parametrize("interval", ["0", "-1"])
def test_watch_refuses_a_bad_interval(api, cli, interval):
    result = cli("fine-tuning", "watch", FILE_ID, "--interval", interval)
    assert result.exit_code == 2 and "--interval" in result.stderr
    assert api.requests == []


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_in_a_real_process_exits_130(api, tmp_path):
    sim = FineTuningSim(api).install()
    job_id = sim.add_job()  # the clock never moves: the job stays QUEUED
    proc = start_mcli("fine-tuning", "watch", job_id, "--interval", "0.5", cwd=tmp_path)
    try:
        first = read_line(proc.stdout)  # the first change: the job is being watched
        assert b"QUEUED" in first
        deadline = time.monotonic() + 30
        while sim.gets < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130
    assert f"mcli fine-tuning watch {job_id}".encode() in err


def test_watch_takes_a_status_the_spec_does_not_list(api, cli, monkeypatch):
    sim = FineTuningSim(api, schedule=((0, "QUEUED"), (10, "PAUSED_BY_OPERATOR"), (30, "RUNNING"),
                                       (60, "SUCCESS"))).install()
    monkeypatch.setattr(watching, "CLOCK", watching.Clock(sleep=sim.clock.advance))
    job_id = sim.add_job()
    result = cli("fine-tuning", "watch", job_id, "-o", "jsonl")
    assert result.exit_code == 0, result
    statuses = [json.loads(line).get("status") for line in result.stdout.splitlines()]
    assert "PAUSED_BY_OPERATOR" in statuses and statuses[-1] == "SUCCESS"


def test_job_model_keeps_unknown_fields_and_tolerates_missing_ones():
    from mistral_cli.bodies.fine_tuning import FineTuningJob

    job = FineTuningJob.parse({"id": "j", "status": "NEW_STATE", "shiny": {"a": 1},
                               "checkpoints": [{"step_number": 2, "metrics": {"train_loss": 1.5, "extra": 3}},
                                               {"step_number": 1, "metrics": {}}]}, "GET job")
    assert job.status == "NEW_STATE" and not job.is_final and not job.failed
    assert job.model_extra == {"shiny": {"a": 1}}
    assert [c.step_number for c in job.sorted_checkpoints()] == [1, 2]
    assert job.sorted_checkpoints()[1].metrics.model_extra == {"extra": 3}
    assert FineTuningJob.parse(None, "GET job").id == ""
    assert FineTuningJob.parse({"status": "CANCELLED"}, "GET job").failed


def test_loss_chart_draws_each_series_and_skips_what_it_cannot_draw():
    from mistral_cli.render.chart import line_chart

    assert line_chart([("train", []), ("valid", [(1.0, float("nan"))])]) == []
    lines = line_chart([("train", [(10, 2.0), (20, 1.0), (30, 0.5)]), ("valid", [(10, 2.2), (30, 0.7)])],
                       width=30, height=6)
    grid = lines[:6]
    assert grid[0].lstrip().startswith("2.2 |") and grid[-1].lstrip().startswith("0.5 |")
    assert sum(row.count("*") for row in grid) == 3 and sum(row.count("o") for row in grid) == 2
    assert lines[-1].strip() == "* train   o valid"
    assert "10" in lines[-2] and lines[-2].rstrip().endswith("30")
    flat = line_chart([("train", [(1, 1.0)])], width=10, height=3)
    assert flat[1].endswith("|*" + " " * 9)  # one point, mid-height, first column


def test_loss_chart_shows_where_train_and_valid_points_meet():
    from mistral_cli.render.chart import line_chart

    lines = line_chart([("train loss", [(1, 2.0), (2, 1.5), (3, 1.0)]), ("valid loss", [(1, 2.0), (2, 1.5), (3, 1.0)])],
                       width=30, height=6)
    grid = lines[:6]
    assert sum(row.count("@") for row in grid) == 3 and "*" not in "".join(grid)
    assert lines[-1].strip() == "* train loss   o valid loss   @ both"
    apart = line_chart([("train", [(1, 2.0), (3, 1.0)]), ("valid", [(2, 1.5)])], width=30, height=6)
    assert "@" not in "".join(apart)


def test_watch_on_a_terminal_ends_tidily_on_a_404(api, cli, sim, monkeypatch):
    monkeypatch.setenv("TERM", "xterm-256color")
    result = cli("fine-tuning", "watch", "0b9c9a38-53b4-4a4e-9a5c-3c1f6a0f7e21", tty=True)
    assert result.exit_code == 4
    assert result.stdout.rfind("\x1b[?25h") > result.stdout.rfind("\x1b[?25l")  # the cursor is shown again
