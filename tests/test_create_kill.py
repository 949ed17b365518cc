"""Kill matrix of the creates that bill without a local request file of their own: `fine-tuning
create` with a local training file and with a file id, and `batch create -i FILE_ID`, stopped by
SIGINT, SIGTERM or SIGKILL while an upload is in flight, while the create is in flight (read in
full by the server, not answered yet: the server acts after the process is gone), or just as
its answer came. SIGINT and SIGTERM print the command that resumes; it is run exactly as printed
(the same command when nothing was printed: SIGKILL, or a stop after the job was known), and the
server has made one upload and one job, whatever the moment.

Moments are picked on the server's side by a hook on its handler thread; each process sends its
own API key, so a hook acts on that process's requests only.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

import pytest

from tests.fakeapi import Stub
from tests.fakeapi.batch_jobs import BatchJobs
from tests.fakeapi.defaults import FILE_ID
from tests.fakeapi.ft_jobs import FineTuningSim
from tests.fine_tuning_helpers import train  # noqa: F401 (fixture)
from tests.process_helpers import start_mcli
from tests.resume_helpers import printed_command

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="signals")

TIMEOUT = 30  # seconds any one process may take before the test gives up on it
FT_JOBS, BATCH_JOBS, FILES = "/v1/fine_tuning/jobs", "/v1/batch/jobs", "/v1/files"
FT = ["fine-tuning", "create", "--model", "open-mistral-7b", "--training-steps", "10"]
BATCH = ["batch", "create", "-i", FILE_ID, "--endpoint", "/v1/chat/completions", "-m", "mistral-small-latest"]


@pytest.fixture
def servers(api):
    """The fine-tuning and batch simulators on one fake server (jobs created on the real clock)."""
    BatchJobs(api).install()
    FineTuningSim(api).install().epoch = int(time.time())
    return api


def stop_at(api, args: list[str], stage: str, path: str, sig: int, cwd) -> tuple[int, str]:
    """Run ARGS and send SIG when the server is at STAGE of its POST PATH; wait until the server
    has answered that request (it acts after the process is gone); the exit code and stderr."""
    key = f"test-key-{stage}-{sig}"
    proc = start_mcli(*args, env={**os.environ, "MISTRAL_API_KEY": key}, cwd=cwd)
    fired, handled = threading.Event(), threading.Event()

    def hook(at: str, req) -> None:
        if req.headers.get("Authorization") != f"Bearer {key}" or \
                Stub("POST", path, None).match(req.method, req.path, {}) is None:
            return
        if at == stage and not fired.is_set():
            fired.set()
            proc.send_signal(sig)
            if stage == "received":
                proc.wait(TIMEOUT)  # in flight: the answer comes after the process is gone
        if at == "answered" and fired.is_set():
            handled.set()

    api.hooks.append(hook)
    try:
        _out, err = proc.communicate(timeout=TIMEOUT)
        assert handled.wait(TIMEOUT), "the server never answered the request the process was stopped at"
    finally:
        api.hooks.remove(hook)
        proc.kill()
        proc.wait()
    assert fired.is_set(), err.decode()[-2000:]
    return proc.returncode, err.decode()


def finish(args: list[str], cwd) -> tuple[int, str]:
    proc = start_mcli(*args, cwd=cwd)
    try:
        _out, err = proc.communicate(timeout=TIMEOUT)
    finally:
        proc.kill()
        proc.wait()
    return proc.returncode, err.decode()


def posts(api, path: str) -> int:
    return len(api.requests_to("POST", path))


UPLOAD, CREATE, ANSWERED = ("received", FILES), ("received", "create"), ("answered", "create")
SIGNALS = [signal.SIGINT, signal.SIGTERM, signal.SIGKILL]
CASES = [pytest.param(command, moment, sig, id=f"{command}-{name}-{sig.name[3:]}")
         for command, moment, name, signals in [
             ("ft-local", UPLOAD, "upload", SIGNALS), ("ft-local", CREATE, "create", SIGNALS),
             ("ft-local", ANSWERED, "answered", SIGNALS[::2]),
             ("ft-id", CREATE, "create", SIGNALS), ("ft-id", ANSWERED, "answered", SIGNALS[2:]),
             ("batch-id", CREATE, "create", SIGNALS), ("batch-id", ANSWERED, "answered", SIGNALS[2:])]
         for sig in signals]


@pytest.mark.parametrize("command, moment, sig", CASES)
def test_stopped_then_resumed_as_printed_makes_one_upload_and_one_job(servers, tmp_path, train, command,
                                                                      moment, sig):
    args = {"ft-local": [*FT, "--training-file", str(train)], "ft-id": [*FT, "--training-file", FILE_ID],
            "batch-id": BATCH}[command]
    jobs = BATCH_JOBS if command == "batch-id" else FT_JOBS
    stage, path = moment
    code, err = stop_at(servers, args, stage, jobs if path == "create" else path, sig, tmp_path)
    assert code in (130, -signal.SIGKILL, 0), err[-2000:]  # 0: the answer was in before the signal
    if code == 130 and stage == "received":
        assert "may exist on the server" in err, err[-2000:]
    again = printed_command(err) if "run this to resume" in err else args
    code, err = finish(again, tmp_path)
    assert code == 0, err[-2000:]
    assert posts(servers, jobs) == 1, err[-2000:]
    assert posts(servers, FILES) == (1 if command == "ft-local" else 0)
