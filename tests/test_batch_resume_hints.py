"""Every resume hint of a batch run, followed word for word: a `--new` run of each resumable
command (`batch create --watch --results-dir`, `embeddings --via batch`, `classifiers
moderate --via batch`) is interrupted with SIGINT (Ctrl-C) at a moment picked on the server's
side; the command it printed ("batch run TAG resumes with: mcli ...") is taken from stderr and
run exactly as printed (split as a shell would, `mcli` found on PATH), interrupted again at
the next moment, and so on; the last one runs to its end. Whatever the moments, the server
accepted one upload and created one job, and the output is complete.

As in test_batch_kill.py, the server answers each request late, and each process sends its
own API key, so a hook acts on that process's requests only.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.fakeapi import Stub
from tests.fakeapi.analysis import online_embeddings, online_moderations
from tests.fakeapi.batch_jobs import BatchJobs
from tests.process_helpers import At, default_sigint
from tests.resume_helpers import run_hint_command

MODEL = "mistral-small-latest"
TIMEOUT = 30  # seconds any one process may take before the test gives up on it
DELAY = 0.1

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child, a shell-like PATH")


UPLOAD_IN_FLIGHT = At("received", "POST", "/v1/files")
CREATE_IN_FLIGHT = At("received", "POST", "/v1/batch/jobs")
CREATE_ANSWERED = At("answered", "POST", "/v1/batch/jobs")
WATCHING = At("answered", "GET", "/v1/batch/jobs/{job_id}")
DOWNLOADING = At("received", "GET", "/v1/files/{file_id}/content")


@pytest.fixture
def slow(api):
    """The batch simulator behind a server that answers each request late; a job is QUEUED at
    its first poll and done at the next."""
    sim = BatchJobs(api, queued_for=0.5, per_request=0.001, advance_per_poll=1.0, dims=4).install()
    api.add("POST", "/v1/embeddings", online_embeddings(4), optional=True)
    api.add("POST", "/v1/moderations", online_moderations, optional=True)
    api.delay = DELAY
    return sim


@pytest.fixture
def path_with_mcli(tmp_path) -> str:
    """A PATH whose first folder holds `mcli`: this Python running mistral_cli."""
    folder = tmp_path / "bin"
    folder.mkdir()
    program = folder / "mcli"
    program.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m mistral_cli "$@"\n')
    program.chmod(0o755)
    return f"{folder}{os.pathsep}{os.environ.get('PATH', '')}"


def start(argv: list[str], cwd: Path, path: str, key: str) -> subprocess.Popen:
    """Start ARGV (a command line whose first word is found on PATH) with its own API KEY."""
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                            env={**os.environ, "PATH": path, "MISTRAL_API_KEY": key}, cwd=cwd,
                            preexec_fn=default_sigint)


def interrupt_at(api, argv: list[str], moment: At, tmp_path: Path, path: str, number: int) -> str:
    """Run ARGV (start NUMBER), send it SIGINT at MOMENT; its stderr (it must exit 130)."""
    key = f"test-key-start-{number}"
    proc = start(argv, tmp_path, path, key)
    fired = threading.Event()

    def hook(stage: str, req) -> None:
        if (stage == moment.stage and not fired.is_set() and req.headers.get("Authorization") == f"Bearer {key}"
                and Stub(moment.method, moment.path, None).match(req.method, req.path, {}) is not None):
            fired.set()
            proc.send_signal(signal.SIGINT)

    api.hooks.append(hook)
    try:
        _out, err = proc.communicate(timeout=TIMEOUT)
    finally:
        api.hooks.remove(hook)
        proc.kill()
        proc.wait()
    text = err.decode()
    assert fired.is_set(), f"the run never got to {moment}: {text[-2000:]}"
    assert proc.returncode == 130, text[-2000:]
    return text


def follow_the_hints(api, tmp_path: Path, path: str, argv: list[str], moments: list[At]) -> tuple[str, str]:
    """Run ARGV, interrupt it at the first of MOMENTS, run what it printed, interrupt that at
    the next moment...; run the last command printed to its end: its stdout and stderr."""
    for number, moment in enumerate(moments, 1):
        argv = run_hint_command(interrupt_at(api, argv, moment, tmp_path, path, number))
    proc = start(argv, tmp_path, path, "test-key-last")
    try:
        out, err = proc.communicate(timeout=TIMEOUT)
    finally:
        proc.kill()
    assert proc.returncode == 0, err.decode()[-3000:]
    return out.decode(), err.decode()


# -- batch create ----------------------------------------------------------------------------------

PROMPTS = 5


@pytest.mark.parametrize("moments", [
    pytest.param([UPLOAD_IN_FLIGHT, CREATE_IN_FLIGHT, WATCHING, DOWNLOADING], id="in-flight"),
    pytest.param([WATCHING, DOWNLOADING], id="watching"),
])
def test_batch_create_new_interrupted_then_each_hint_run_as_printed_pays_once(api, slow, tmp_path, path_with_mcli,
                                                                           moments):
    prompts = tmp_path / "my prompts.txt"
    prompts.write_text("".join(f"question {n}\n" for n in range(1, PROMPTS + 1)))
    argv = ["mcli", "batch", "create", "--from-prompts", str(prompts), "--new", "-m", MODEL, "--watch",
            "--results-dir", str(tmp_path / "out"), "--interval", "0.5"]
    out, err = follow_the_hints(api, tmp_path, path_with_mcli, argv, moments)
    assert (slow.uploads, len(slow.jobs)) == (1, 1), err[-3000:]
    [job_id] = slow.jobs
    assert out.splitlines()[-1] == f"SUCCESS {PROMPTS}/{PROMPTS} ({PROMPTS} succeeded, 0 failed)"
    lines = (tmp_path / "out" / f"{job_id}.output.jsonl").read_text().splitlines()
    assert sorted(json.loads(line)["custom_id"] for line in lines) == [str(n) for n in range(1, PROMPTS + 1)]


# -- the --via batch route ----------------------------------------------------------------------------

TEXTS = 6


@pytest.mark.parametrize("command, moments", [
    pytest.param(["embeddings"], [CREATE_ANSWERED, WATCHING, DOWNLOADING], id="embeddings"),
    pytest.param(["classifiers", "moderate"], [WATCHING], id="moderate"),
])
def test_via_batch_new_interrupted_then_each_hint_run_as_printed_pays_once(api, slow, tmp_path, path_with_mcli,
                                                                        command, moments):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("".join(f"sentence {n}\n" for n in range(TEXTS)))
    argv = ["mcli", *command, "-f", str(corpus), "--new", "-o", "jsonl", "--via", "batch", "--interval", "0.5"]
    out, err = follow_the_hints(api, tmp_path, path_with_mcli, argv, moments)
    assert (slow.uploads, len(slow.jobs)) == (1, 1), err[-3000:]
    assert len(out.splitlines()) == TEXTS
