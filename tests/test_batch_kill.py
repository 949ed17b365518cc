"""Kill tests: `mcli batch create --from-prompts ... --watch --results-dir` killed with SIGKILL at
many moments and started again, against a fake server slowed to 200 ms a request. Whatever
the moment, the server accepts exactly one upload and creates exactly one job per run, and
the last start prints the final state and leaves complete results (in the order the server
wrote them: it shuffles them, as the real service may).

Moments are picked from the server's side (a request read in full but not answered yet, or
just answered) or from the journal, never by sleeping: a hook on the server's handler
thread, or a loop reading the journal, kills the process the moment it gets there. Each
process sends its own API key, so a hook acts on that process's requests only: the next
start may well begin while the server still works on a request of the one just killed.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.fakeapi import Stub
from tests.fakeapi.batch_jobs import BatchJobs
from tests.process_helpers import At

MODEL = "mistral-small-latest"
PROMPTS = 20
TIMEOUT = 30  # seconds any one process may take before the test gives up on it
DELAY = 0.2

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")


BEFORE_UPLOAD = At("journal", path="new")            # the run is recorded, nothing sent yet (or just)
UPLOAD_IN_FLIGHT = At("received", "POST", "/v1/files")
UPLOAD_ANSWERED = At("answered", "POST", "/v1/files")
CREATE_IN_FLIGHT = At("received", "POST", "/v1/batch/jobs")
CREATE_SENT = At("journal", path="creating")         # the create is about to go out
CREATE_ANSWERED = At("answered", "POST", "/v1/batch/jobs")
WATCHING = At("answered", "GET", "/v1/batch/jobs/{job_id}")
DOWNLOADING = At("received", "GET", "/v1/files/{file_id}/content")


@pytest.fixture
def slow(api):
    """The batch simulator behind a server that answers each request 200 ms late; a job is
    QUEUED at its first poll and done at the next (the clock moves on every poll)."""
    sim = BatchJobs(api, queued_for=0.5, per_request=0.001, advance_per_poll=1.0).install()
    api.delay = DELAY
    return sim


@pytest.fixture
def command(tmp_path):
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("".join(f"question {n}\n" for n in range(1, PROMPTS + 1)))
    return ["batch", "create", "--from-prompts", str(prompts), "-m", MODEL, "--watch",
            "--results-dir", str(tmp_path / "out"), "--interval", "0.5"]


def start(args: list[str], cwd: Path, key: str = "test-key-last") -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "mistral_cli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                            env={**os.environ, "MISTRAL_API_KEY": key}, cwd=cwd)


def kill_at(api, args: list[str], moment: At, tmp_path: Path, number: int) -> None:
    """Run ARGS (start NUMBER) and SIGKILL it at MOMENT; fail if it never gets there."""
    key = f"test-key-start-{number}"
    proc = start(args, tmp_path, key)
    fired = threading.Event()

    def hook(stage: str, req) -> None:
        if (stage == moment.stage and not fired.is_set() and req.headers.get("Authorization") == f"Bearer {key}"
                and Stub(moment.method, moment.path, None).match(req.method, req.path, {}) is not None):
            fired.set()
            proc.kill()

    api.hooks.append(hook)
    try:
        if moment.stage == "journal":
            _kill_on_journal(proc, tmp_path / "mcli-data" / "history.db", moment.path, fired)
        _out, err = proc.communicate(timeout=TIMEOUT)
    finally:
        api.hooks.remove(hook)
        proc.kill()
        proc.wait()
    assert fired.is_set(), f"the run never got to {moment}: {err.decode()[-2000:]}"
    assert proc.returncode == -signal.SIGKILL, err.decode()[-2000:]


def _kill_on_journal(proc: subprocess.Popen, db: Path, state: str, fired: threading.Event) -> None:
    """Kill PROC as soon as the journal holds a run whose state is STATE (or later)."""
    from mistral_cli.store.runs import STATES as order

    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline and proc.poll() is None:
        if db.exists():
            try:
                with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
                    states = [row[0] for row in conn.execute("SELECT state FROM batch_runs")]
            except sqlite3.Error:  # the schema is being created: look again
                states = []
            if any(order.index(s) >= order.index(state) for s in states):
                fired.set()
                proc.kill()
                return
        time.sleep(0.005)


def finish(args: list[str], tmp_path: Path) -> tuple[int, str, str]:
    proc = start(args, tmp_path)
    try:
        out, err = proc.communicate(timeout=TIMEOUT)
    finally:
        proc.kill()
    return proc.returncode, out.decode(), err.decode()


def assert_once_and_complete(sim, tmp_path: Path, code: int, out: str, err: str) -> None:
    assert code == 0, err[-3000:]
    assert (sim.uploads, len(sim.jobs)) == (1, 1), err[-3000:]
    [job_id] = sim.jobs
    assert out.splitlines()[-1] == f"SUCCESS {PROMPTS}/{PROMPTS} ({PROMPTS} succeeded, 0 failed)"
    folder = tmp_path / "out"
    assert [path.name for path in folder.iterdir()] == [f"{job_id}.output.jsonl"]  # no leftovers
    lines = [json.loads(line) for line in (folder / f"{job_id}.output.jsonl").read_text().splitlines()]
    ids = [line["custom_id"] for line in lines]
    assert sorted(ids, key=int) == [str(n) for n in range(1, PROMPTS + 1)]
    assert ids != sorted(ids, key=int)  # the server's own order was kept, whatever it is
    answers = {line["custom_id"]: line["response"]["body"]["choices"][0]["message"]["content"] for line in lines}
    assert answers == {str(n): f"answer to question {n}" for n in range(1, PROMPTS + 1)}


@pytest.mark.parametrize("moments", [
    pytest.param([UPLOAD_IN_FLIGHT, CREATE_IN_FLIGHT, WATCHING, DOWNLOADING], id="in-flight"),
    pytest.param([UPLOAD_ANSWERED, CREATE_ANSWERED, WATCHING, WATCHING], id="answered"),
    pytest.param([BEFORE_UPLOAD, CREATE_SENT, WATCHING], id="journal"),
])
def test_killed_at_each_moment_then_started_again_runs_once(api, slow, command, tmp_path, moments):
    for number, moment in enumerate(moments, 1):
        kill_at(api, command, moment, tmp_path, number)
    code, out, err = finish(command, tmp_path)
    assert_once_and_complete(slow, tmp_path, code, out, err)
    sent = len(api.requests)
    code, again, err = finish(command, tmp_path)  # a finished run: shown again from the journal
    assert code == 0 and again.splitlines() == out.splitlines()[-1:], err
    assert len(api.requests) == sent


def test_two_starts_at_once_make_one_run(api, slow, command, tmp_path):
    once = command[:command.index("--watch")]  # no watch: the two starts overlap all the way
    first, second = start(once, tmp_path, "test-key-a"), start(once, tmp_path, "test-key-b")
    try:
        results = [(proc.communicate(timeout=TIMEOUT), proc.returncode) for proc in (first, second)]
    finally:
        first.kill()
        second.kill()
    codes = sorted(code for _out, code in results)
    errors = "".join(err.decode() for (_out, err), _code in results)
    assert codes in ([0, 0], [0, 1]), errors
    if codes == [0, 1]:
        assert "is in progress in another mcli process" in errors
    assert (slow.uploads, len(slow.jobs)) == (1, 1)


# -- the --via batch route of an analysis command -------------------------------------------------

TEXTS = 12


@pytest.fixture
def embed_route(api, slow, tmp_path):
    """`mcli embeddings -f corpus.txt --via batch`, and what the online route prints for it."""
    from tests.fakeapi.analysis import online_embeddings

    slow.dims = 4
    api.add("POST", "/v1/embeddings", online_embeddings(4), optional=True)
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("".join(f"sentence {n}\n" for n in range(TEXTS)))
    args = ["embeddings", "-f", str(corpus), "-o", "jsonl"]
    code, online, err = finish(args, tmp_path)
    assert code == 0, err
    return [*args, "--via", "batch", "--interval", "0.5"], online


@pytest.mark.parametrize("moments", [
    pytest.param([UPLOAD_IN_FLIGHT, CREATE_IN_FLIGHT, WATCHING, DOWNLOADING], id="in-flight"),
    pytest.param([UPLOAD_ANSWERED, CREATE_ANSWERED, WATCHING], id="answered"),
])
def test_via_batch_killed_at_each_moment_then_started_again_pays_once_and_prints_all(api, slow, embed_route,
                                                                                    tmp_path, moments):
    command, online = embed_route
    for number, moment in enumerate(moments, 1):
        kill_at(api, command, moment, tmp_path, number)
    code, out, err = finish(command, tmp_path)
    assert code == 0, err[-3000:]
    assert (slow.uploads, len(slow.jobs)) == (1, 1), err[-3000:]
    assert out == online  # complete, in input order, though the server shuffled its lines
    sent = len(api.requests)
    code, again, err = finish(command, tmp_path)
    assert (code, again) == (0, online), err
    assert len(api.requests) == sent  # a finished run prints its saved results, sending nothing
