"""What a process killed with SIGKILL leaves behind (no clean-up runs then) is removed by the
next run: a download's `.NAME.PID-RANDOM.part`, a `--via batch` request file of prompt text
in the temporary folder, a copy of stdin. Only leftovers of processes that are gone, and only
this user's files, are touched."""

from __future__ import annotations

import os
import signal
import sys
import tempfile
import threading
import time

import pytest

from mistral_cli.commands.shared import watching
from tests.fakeapi import Stub
from tests.fakeapi.analysis import online_embeddings
from tests.fakeapi.batch_jobs import BatchJobs
from tests.fakeapi import json_response
from tests.fakeapi.defaults import BATCH_ID, FILE_ID, batch_job
from tests.process_helpers import READ_TIMEOUT, start_mcli

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")


class Stall:
    """A download that sends its first bytes, then waits until released, then ends."""

    def __init__(self) -> None:
        self.sent, self.release = threading.Event(), threading.Event()

    def write(self, handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/octet-stream")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        handler.wfile.write(b"10\r\n" + b"x" * 16 + b"\r\n")
        handler.wfile.flush()
        self.sent.set()
        self.release.wait(READ_TIMEOUT)
        handler.close_connection = True


def wait_for(found, what: str):
    """FOUND() once it is truthy; fail after READ_TIMEOUT seconds."""
    deadline = time.monotonic() + READ_TIMEOUT
    while not (value := found()):
        assert time.monotonic() < deadline, f"never saw {what}"
        time.sleep(0.01)
    return value


def kill(proc) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()  # reaped: its pid now names no process
    assert proc.returncode == -signal.SIGKILL


def test_a_download_killed_midway_leaves_a_part_file_the_next_run_removes(api, cli, tmp_path, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    stall = Stall()
    api.add("GET", f"/v1/files/{FILE_ID}/content", stall, times=1)
    proc = start_mcli("files", "download", FILE_ID, cwd=work)
    try:
        assert stall.sent.wait(READ_TIMEOUT)
        [part] = wait_for(lambda: [p for p in work.iterdir() if p.name.endswith(".part")], "a .part file")
    finally:
        kill(proc)
        stall.release.set()
    assert part.name.startswith(f".train.jsonl.{proc.pid}-") and part.exists()
    live = work / f".other.bin.{os.getppid()}-0badf00d.part"  # a live process's download: kept
    live.write_text("being written")
    monkeypatch.chdir(work)
    result = cli("files", "download", FILE_ID)
    assert result.exit_code == 0, result
    assert sorted(path.name for path in work.iterdir()) == sorted([live.name, "train.jsonl"])


def test_batch_results_clears_the_part_files_of_dead_processes_from_its_folder(api, cli, tmp_path):
    api.add("GET", "/v1/batch/jobs/{job_id}", json_response({**batch_job(status="SUCCESS"), "output_file": FILE_ID}))
    out = tmp_path / "out"
    out.mkdir()
    dead = out / f".{BATCH_ID}.error.jsonl.{dead_pid()}-0badf00d.part"
    live = out / f".{BATCH_ID}.error.jsonl.{os.getppid()}-0badf00d.part"
    for path in (dead, live):
        path.write_text("answers")
    result = cli("batch", "results", BATCH_ID, "--dir", out)
    assert result.exit_code == 0, result
    assert sorted(path.name for path in out.iterdir()) == sorted([f"{BATCH_ID}.output.jsonl", live.name])


@pytest.fixture
def sim(api, monkeypatch):
    jobs = BatchJobs(api, queued_for=1, per_request=1, dims=4, seed=3).install()
    monkeypatch.setattr(watching, "CLOCK", watching.Clock(sleep=jobs.advance, now=lambda: jobs.now))
    api.add("POST", "/v1/embeddings", online_embeddings(4), optional=True)
    return jobs


def test_a_request_file_of_a_killed_run_is_removed_by_the_next_one(api, sim, cli, tmp_path, monkeypatch):
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("a secret prompt\n")
    reached, release = threading.Event(), threading.Event()

    def upload_hangs(_request):
        reached.set()
        release.wait(READ_TIMEOUT)
        return None

    api.stubs.insert(0, Stub("POST", "/v1/files", upload_hangs, times=1))
    proc = start_mcli("embeddings", "--via", "batch", "-f", corpus)
    try:
        assert reached.wait(READ_TIMEOUT)
    finally:
        kill(proc)
        release.set()
    [left] = temp.iterdir()
    assert left.name.startswith(f"mcli-requests-{proc.pid}-") and "a secret prompt" in left.read_text()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    other = tmp_path / "other.txt"
    other.write_text("another prompt\n")
    result = cli("embeddings", "--via", "batch", "-f", other)
    assert result.exit_code == 0, result
    assert list(temp.iterdir()) == []


def test_a_stdin_copy_of_a_killed_process_is_removed_by_the_next_copy(tmp_path, monkeypatch):
    from mistral_cli.env import Env
    from mistral_cli.inputs import stdin_as_file

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    dead = tmp_path / f"mcli-stdin-{dead_pid()}-abcd1234"
    dead.mkdir()
    (dead / "stdin").write_text("a secret prompt")
    alive = tmp_path / f"mcli-stdin-{os.getppid()}-abcd1234"
    alive.mkdir()
    env = Env(stdin=open(os.devnull), stdout=sys.stdout, stderr=sys.stderr, stdin_isatty=False,
              stdout_isatty=False, stderr_isatty=False, environ={})
    with stdin_as_file(env, "-f") as path:
        assert path.parent.name.startswith(f"mcli-stdin-{os.getpid()}-")
    assert [path for path in tmp_path.iterdir() if path.name.startswith("mcli-stdin-")] == [alive]


def dead_pid() -> int:
    """The pid of a process that has ended (and been waited for)."""
    import subprocess

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid
