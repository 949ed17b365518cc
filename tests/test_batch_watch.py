"""`mcli batch watch` and the one-command batch, on a simulated clock: every sleep of the watch
moves the fake jobs forward by that many seconds, so nothing here waits for real."""

from __future__ import annotations

import json

import pytest

from mistral_cli.commands.batch import watch as batch_watch
from mistral_cli.commands.shared import watching
from mistral_cli.times import clock_text
from tests.fakeapi import error_proxy_text
from tests.fakeapi.batch_jobs import BatchJobs

MODEL = "mistral-small-latest"
CHAT = "/v1/chat/completions"


@pytest.fixture
def sim(api, monkeypatch):
    jobs = BatchJobs(api, queued_for=10, per_request=5).install()
    monkeypatch.setattr(watching, "CLOCK", watching.Clock(sleep=jobs.advance, now=lambda: jobs.now))
    return jobs


@pytest.fixture
def styled(monkeypatch):
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setenv("COLUMNS", "160")


def new_job(cli, tmp_path, count: int = 3) -> str:
    path = tmp_path / "requests.jsonl"
    path.write_text("".join(json.dumps({"custom_id": str(i), "body": {"messages": [
        {"role": "user", "content": f"prompt {i}"}]}}) + "\n" for i in range(1, count + 1)))
    result = cli("batch", "create", "-i", path, "--endpoint", CHAT, "-m", MODEL, "-o", "text")
    assert result.exit_code == 0, result
    return result.stdout.strip()


def test_watch_off_a_terminal_prints_a_line_per_change_and_exits_0(api, sim, cli, tmp_path):
    job_id = new_job(cli, tmp_path)
    sim.fail_ids = {"2"}
    result = cli("batch", "watch", job_id, "--interval", "5")
    assert result.exit_code == 0, result
    assert result.stdout.splitlines() == [
        "QUEUED 0/3 (0 succeeded, 0 failed)",
        "RUNNING 0/3 (0 succeeded, 0 failed)",
        "RUNNING 1/3 (1 succeeded, 0 failed)",
        "RUNNING 2/3 (1 succeeded, 1 failed)",
        "SUCCESS 3/3 (2 succeeded, 1 failed)",
    ]
    assert f"1 of 3 request(s) failed; their errors: mcli batch results {job_id}" in result.stderr


def test_watch_jsonl_prints_the_body_once_per_change(api, sim, cli, tmp_path):
    job_id = new_job(cli, tmp_path, count=2)
    result = cli("batch", "watch", job_id, "-o", "jsonl", "--interval", "5")
    assert result.exit_code == 0, result
    states = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(s["status"], s["succeeded_requests"]) for s in states] == [
        ("QUEUED", 0), ("RUNNING", 0), ("RUNNING", 1), ("SUCCESS", 2)]
    assert states[-1]["output_file"] in sim.contents


def test_watch_json_prints_the_final_body(api, sim, cli, tmp_path):
    job_id = new_job(cli, tmp_path, count=1)
    result = cli("batch", "watch", job_id, "-o", "json")
    assert json.loads(result.stdout)["status"] == "SUCCESS"


@pytest.mark.parametrize("outcome", ["FAILED", "TIMEOUT_EXCEEDED"])
def test_watch_exits_5_when_the_job_fails(api, sim, cli, tmp_path, outcome):
    sim.outcome = outcome
    job_id = new_job(cli, tmp_path)
    result = cli("batch", "watch", job_id)
    assert result.exit_code == 5, result
    assert f"batch job {job_id} ended {outcome}" in result.stderr
    assert result.stdout.splitlines()[-1].startswith(outcome)


def test_watch_exits_5_when_the_job_is_cancelled(api, sim, cli, tmp_path):
    job_id = new_job(cli, tmp_path)
    sim.advance(16)
    cancel = cli("batch", "cancel", job_id, "--yes", "-o", "json")
    assert json.loads(cancel.stdout)["status"] == "CANCELLATION_REQUESTED"
    result = cli("batch", "watch", job_id, "--interval", "1")
    assert result.exit_code == 5, result
    assert result.stdout.splitlines() == ["CANCELLATION_REQUESTED 1/3 (1 succeeded, 0 failed)",
                                          "CANCELLED 1/3 (1 succeeded, 0 failed)"]


def test_watch_survives_a_503_in_the_middle(api, sim, cli, tmp_path):
    job_id = new_job(cli, tmp_path)
    sim.outage = {3: error_proxy_text(503, "Service Unavailable"), 4: error_proxy_text(502)}
    result = cli("--max-retries", "0", "batch", "watch", job_id, "--interval", "5")
    assert result.exit_code == 0, result
    assert result.stdout.splitlines()[-1] == "SUCCESS 3/3 (3 succeeded, 0 failed)"
    assert result.stderr.count("still watching, next try in") == 2


def test_watch_stops_on_an_error_that_will_not_pass(api, sim, cli):
    result = cli("batch", "watch", "0b9c9a38-53b4-4a4e-9a5c-3c1f6a0f7e21")
    assert result.exit_code == 4  # a 404 is no passing failure: the watch ends
    assert "Batch job not found" in result.stderr


def test_ctrl_c_says_how_to_resume_and_exits_130(api, sim, cli, tmp_path, monkeypatch):
    job_id = new_job(cli, tmp_path)

    def interrupted(_seconds):
        raise KeyboardInterrupt

    monkeypatch.setattr(watching, "CLOCK", watching.Clock(sleep=interrupted))
    result = cli("batch", "watch", job_id)
    assert result.exit_code == 130
    assert f"stopped watching; job {job_id} goes on. Resume with: mcli batch watch {job_id}" in result.stderr
    assert "Traceback" not in result.stderr


def test_watch_on_a_terminal_draws_a_bar_with_an_eta(api, sim, cli, tmp_path, styled):
    job_id = new_job(cli, tmp_path, count=4)
    seen: list[str] = []
    real_update = batch_watch.BarView.show

    def spy(self, job, body):
        real_update(self, job, body)
        seen.append(self.bar._progress.tasks[0].fields["detail"])

    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setattr(batch_watch.BarView, "show", spy)
    try:
        result = cli("batch", "watch", job_id, "--interval", "5", tty=True)
    finally:
        monkeypatch.undo()
    assert result.exit_code == 0, result
    assert result.stdout == ""
    assert "4/4" in result.stderr and f"batch job {job_id}: SUCCESS" in result.stderr
    assert "RUNNING  1 ok, 0 failed  ETA 0:15" in seen  # 3 left at 5 s each


def test_one_command_batch_end_to_end(api, sim, cli, tmp_path):
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("What is 2+2?\nName a colour.\n\nSay hi.\n")
    out = tmp_path / "results"
    result = cli("batch", "create", "--from-prompts", prompts, "-m", MODEL, "--watch",
                 "--results-dir", out, "--interval", "5")
    assert result.exit_code == 0, result
    [job_id] = sim.jobs
    assert result.stdout.splitlines()[-1] == "SUCCESS 3/3 (3 succeeded, 0 failed)"
    assert [r.target for r in api.requests][:2] == ["POST /v1/files", "POST /v1/batch/jobs"]
    saved = (out / f"{job_id}.output.jsonl").read_text().splitlines()
    assert sorted(json.loads(line)["custom_id"] for line in saved) == ["1", "2", "4"]  # in the job's order
    answers = cli("batch", "results", job_id, "--answers")
    assert sorted(answers.stdout.splitlines()) == ["1\tanswer to What is 2+2?", "2\tanswer to Name a colour.",
                                                   "4\tanswer to Say hi."]


def test_one_command_batch_interrupted_says_how_to_resume(api, sim, cli, tmp_path, monkeypatch):
    def interrupted(_seconds):
        raise KeyboardInterrupt

    monkeypatch.setattr(watching, "CLOCK", watching.Clock(sleep=interrupted))
    result = cli("batch", "create", "--from-prompts", "-", "-m", MODEL, "--watch", "--results-dir", "out",
                 input="hello\n")
    assert result.exit_code == 130
    [job_id] = sim.jobs
    assert f"mcli batch watch {job_id}" in result.stderr
    assert "interrupted: resuming follows the job and saves the results; batch run " in result.stderr
    assert f"resumes with: mcli batch create --from-prompts - -m {MODEL} --watch --results-dir out\n" in result.stderr


def test_eta_comes_from_the_pace_seen(monkeypatch):
    now = [100.0]
    monkeypatch.setattr(watching, "CLOCK", watching.Clock(now=lambda: now[0]))
    eta = watching.Eta()
    assert eta.seconds(10, 100) is None
    now[0] = 110.0
    assert eta.seconds(20, 100) == pytest.approx(80.0)
    assert eta.seconds(20, 20) is None
    assert clock_text(3725) == "1:02:05" and clock_text(75) == "1:15"


def test_sigint_to_a_real_watch_exits_130_with_the_resume_hint(api, sim, cli, tmp_path):
    import signal
    import time

    from tests.process_helpers import start_mcli

    job_id = new_job(cli, tmp_path)  # stays QUEUED: nothing moves the simulated clock now
    polls_before = sim.polls
    proc = start_mcli("batch", "watch", job_id, "--interval", "0.5")
    try:
        deadline = time.monotonic() + 30
        while sim.polls < polls_before + 2 and time.monotonic() < deadline:
            time.sleep(0.02)  # a second poll: the first one's line has been printed by then
        assert sim.polls >= polls_before + 2, "the watch did not poll twice"
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 130
    assert f"Resume with: mcli batch watch {job_id}" in stderr.decode()
    assert b"Traceback" not in stderr
    assert stdout.decode().splitlines() == ["QUEUED 0/3 (0 succeeded, 0 failed)"]
