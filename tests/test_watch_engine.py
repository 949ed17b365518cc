"""The one watch engine (commands/shared/watching.py) as both adapters see it: one --interval
rule checked before anything is sent, a tidy Ctrl-C, cancel of a job that already ended, and
a loss chart that survives what the server sends."""

from __future__ import annotations

import json
import math

import pytest

from mistral_cli.commands.shared import watching
from mistral_cli.render.chart import line_chart
from tests.fakeapi import json_response
from tests.fakeapi.defaults import BATCH_ID, FILE_ID, JOB_ID, batch_job, completion_job
from tests.fakeapi.ft_jobs import FineTuningSim

BAD_INTERVALS = ["0.4", "0", "-1", "1e23", "86401", "inf", "nan"]


@pytest.mark.parametrize("interval", BAD_INTERVALS)
@pytest.mark.parametrize("command", [("fine-tuning", "watch", JOB_ID), ("batch", "watch", BATCH_ID)])
def test_both_watches_refuse_the_same_bad_intervals_before_sending(api, cli, command, interval):
    result = cli(*command, "--interval", interval)
    assert result.exit_code == 2, result
    assert "--interval" in result.stderr and "Traceback" not in result.stderr
    assert api.requests == []


@pytest.mark.parametrize("interval", ["0.5", "86400"])
def test_the_bounds_of_the_interval_are_taken(api, cli, monkeypatch, interval):
    monkeypatch.setattr(watching, "CLOCK", watching.Clock(sleep=lambda _seconds: None))
    api.add("GET", f"/v1/fine_tuning/jobs/{JOB_ID}", json_response(completion_job(status="SUCCESS")))
    assert cli("fine-tuning", "watch", JOB_ID, "--interval", interval).exit_code == 0


@pytest.mark.parametrize("interval", ["1e23", "0.4"])
def test_fine_tuning_create_watch_refuses_a_bad_interval_before_creating(api, cli, interval):
    result = cli("fine-tuning", "create", "--model", "open-mistral-7b", "--training-file", FILE_ID,
                 "--watch", "--interval", interval)
    assert result.exit_code == 2, result
    assert "--interval" in result.stderr
    assert api.requests == []  # no job created: a retry will not make a second one


def test_batch_create_watch_refuses_a_huge_interval_before_creating(api, cli, tmp_path):
    path = tmp_path / "requests.jsonl"
    path.write_text(json.dumps({"custom_id": "1", "body": {"messages": [{"role": "user", "content": "hi"}]}}) + "\n")
    result = cli("batch", "create", "-i", path, "--endpoint", "/v1/chat/completions", "-m", "mistral-small-latest",
                 "--watch", "--interval", "1e23")
    assert result.exit_code == 2 and "--interval" in result.stderr
    assert api.requests == []


def test_ctrl_c_on_a_live_view_leaves_the_cursor_on_a_fresh_line(api, cli, monkeypatch):
    sim = FineTuningSim(api).install()
    job_id = sim.add_job()

    def interrupted(_seconds):
        raise KeyboardInterrupt

    monkeypatch.setenv("TERM", "dumb")  # a terminal Rich does not drive: it ends no line itself
    monkeypatch.setattr(watching, "CLOCK", watching.Clock(sleep=interrupted))
    result = cli("fine-tuning", "watch", job_id, tty=True)
    assert result.exit_code == 130
    assert result.stdout.endswith("\n")  # the message on stderr starts on its own line
    assert result.stderr.startswith("stopped watching;")


@pytest.mark.parametrize("command, path, body", [
    (("fine-tuning", "cancel", JOB_ID), f"/v1/fine_tuning/jobs/{JOB_ID}/cancel", completion_job(status="SUCCESS")),
    (("batch", "cancel", BATCH_ID), f"/v1/batch/jobs/{BATCH_ID}/cancel", batch_job(status="SUCCESS")),
])
def test_cancel_of_a_job_that_already_ended_says_so(api, cli, command, path, body):
    api.add("POST", path, json_response(body))
    result = cli(*command, "--yes", "-o", "json")
    assert result.exit_code == 0, result
    assert "had already ended (SUCCESS): nothing to cancel" in result.stderr
    assert "cancel requested" not in result.stderr


def test_cancel_of_a_running_batch_job_says_it_was_asked(api, cli):
    api.add("POST", f"/v1/batch/jobs/{BATCH_ID}/cancel", json_response(batch_job(status="CANCELLATION_REQUESTED")))
    result = cli("batch", "cancel", BATCH_ID, "--yes", "-o", "json")
    assert result.exit_code == 0, result
    assert f"cancel requested for {BATCH_ID} (CANCELLATION_REQUESTED)" in result.stderr


@pytest.mark.parametrize("points", [
    [(1.0, 1.0), (2.0, math.nan), (3.0, 0.5)],
    [(1.0, 1e308), (2.0, -1e308)],
    [(1.0, 1e308), (2.0, 1.0), (3.0, -1e308)],
    [(-1e308, 1.0), (1e308, 2.0)],
    [(1.0, 5e-324), (2.0, 0.0)],
])
def test_loss_chart_survives_nan_and_huge_values(points):
    lines = line_chart([("train loss", points)], width=40, height=8)
    assert lines and all(len(line) < 200 for line in lines)
