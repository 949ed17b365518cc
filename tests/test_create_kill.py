"""Kill matrix of the billable creates: `fine-tuning create` with a local training file and with
a file id, `batch create -i FILE_ID`, `batch create --from-prompts`, `embeddings --via batch` and
`ocr` on a local PDF, stopped by SIGINT, SIGTERM or SIGKILL while an upload is in flight, while
the create (the OCR request) is in flight (read in full by the server, not answered yet: the
server acts after the process is gone), just as its answer came, or (ocr) while its answer is
being written. SIGINT and SIGTERM print the command that resumes; it is run exactly as printed
(the same command when nothing was printed: SIGKILL, or a stop after the job was known), and the
server has made one upload and one job, whatever the moment. An OCR request stopped in flight
cannot be looked up on the server: the command says it may be billed again, and it is sent
twice; an OCR answer that reached the process is never asked for again.

Cells other tests cover are not repeated here: SIGKILL of `batch create --from-prompts --watch`
and `embeddings --via batch` at each moment (test_batch_kill.py), SIGINT of both with `--new`
followed hint by hint (test_batch_resume_hints.py).

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

from tests.fakeapi import Stub, json_response
from tests.fakeapi.batch_jobs import BatchJobs
from tests.fakeapi.defaults import FILE_ID
from tests.fakeapi.ft_jobs import FineTuningSim
from tests.fine_tuning_helpers import train  # noqa: F401 (fixture)
from tests.ocr_helpers import ocr_body, page, pdf_bytes
from tests.process_helpers import read_exactly, start_mcli
from tests.resume_helpers import PRINTED, printed_command

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="signals")

TIMEOUT = 30  # seconds any one process may take before the test gives up on it
FT_JOBS, BATCH_JOBS, FILES, OCR = "/v1/fine_tuning/jobs", "/v1/batch/jobs", "/v1/files", "/v1/ocr"
FT = ["fine-tuning", "create", "--model", "open-mistral-7b", "--training-steps", "10"]
BATCH = ["batch", "create", "-i", FILE_ID, "--endpoint", "/v1/chat/completions", "-m", "mistral-small-latest"]


@pytest.fixture
def servers(api):
    """The fine-tuning and batch simulators on one fake server (fine-tuning jobs created on the
    real clock; a batch job done at its first poll)."""
    BatchJobs(api, queued_for=0, per_request=0.001, advance_per_poll=1.0, dims=4).install()
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


def stop_while_writing(args: list[str], sig: int, cwd) -> tuple[int, str]:
    """Run ARGS and send SIG once it has begun writing an answer larger than a pipe holds
    (it is blocked writing the rest); the exit code and stderr."""
    proc = start_mcli(*args, cwd=cwd)
    try:
        assert read_exactly(proc.stdout, 1), "the process wrote nothing"
        proc.send_signal(sig)
        _out, err = proc.communicate(timeout=TIMEOUT)
    finally:
        proc.kill()
        proc.wait()
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


UPLOAD, CREATE, ANSWERED, WRITING = ("received", FILES), ("received", "create"), ("answered", "create"), \
    ("writing", "create")
SIGNALS = [signal.SIGINT, signal.SIGTERM, signal.SIGKILL]
INT, TERM, KILL = ([sig] for sig in SIGNALS)
CASES = [pytest.param(command, moment, sig, id=f"{command}-{name}-{sig.name[3:]}")
         for command, moment, name, signals in [
             ("ft-local", UPLOAD, "upload", SIGNALS), ("ft-local", CREATE, "create", SIGNALS),
             ("ft-local", ANSWERED, "answered", SIGNALS[::2]),
             ("ft-id", CREATE, "create", SIGNALS), ("ft-id", ANSWERED, "answered", SIGNALS[2:]),
             ("batch-id", CREATE, "create", SIGNALS), ("batch-id", ANSWERED, "answered", SIGNALS[2:]),
             # --new runs of batch create and --via batch: SIGINT at each moment is
             # tests/test_batch_resume_hints.py's, SIGKILL tests/test_batch_kill.py's; SIGTERM takes
             # SIGINT's path (one interrupt handler), so one cell each proves it here
             ("prompts-new", CREATE, "create", TERM), ("via-batch-new", UPLOAD, "upload", TERM),
             ("ocr", UPLOAD, "upload", SIGNALS), ("ocr", CREATE, "ocr", SIGNALS),
             ("ocr", WRITING, "writing", SIGNALS)]
         for sig in signals]
CREATES = {"ft-local": FT_JOBS, "ft-id": FT_JOBS, "batch-id": BATCH_JOBS, "prompts-new": BATCH_JOBS,
           "via-batch-new": BATCH_JOBS, "ocr": OCR}
UPLOADS = {"ft-local": 1, "ft-id": 0, "batch-id": 0, "prompts-new": 1, "via-batch-new": 1, "ocr": 1}
BIG = 200_000  # characters of an OCR answer: more than a pipe holds


@pytest.fixture
def commands(servers, tmp_path, train):
    """Each create's command line (the ones that start with --new must print a hint to go on)."""
    prompts, corpus, pdf = tmp_path / "my prompts.txt", tmp_path / "corpus.txt", tmp_path / "scan 1.pdf"
    prompts.write_text("question 1\nquestion 2\n")
    corpus.write_text("sentence 1\nsentence 2\n")
    pdf.write_bytes(pdf_bytes())
    return {"ft-local": [*FT, "--training-file", str(train)], "ft-id": [*FT, "--training-file", FILE_ID],
            "batch-id": BATCH, "prompts-new": ["batch", "create", "--from-prompts", str(prompts), "--new",
                                               "-m", "mistral-small-latest"],
            "via-batch-new": ["embeddings", "-f", str(corpus), "--new", "--via", "batch", "--interval", "0.5"],
            "ocr": ["ocr", str(pdf), "--delete-upload"]}


def stop(servers, args: list[str], moment: tuple[str, str], sig: int, command: str, cwd) -> tuple[int, str]:
    """Stop ARGS at MOMENT with SIG; the exit code and stderr."""
    stage, path = moment
    if stage == "writing":
        servers.add("POST", OCR, json_response(ocr_body(page(0, "x" * BIG))))
        return stop_while_writing(args, sig, cwd)
    return stop_at(servers, args, stage, CREATES[command] if path == "create" else path, sig, cwd)


@pytest.mark.parametrize("command, moment, sig", CASES)
def test_stopped_then_resumed_as_printed_makes_one_upload_and_one_job(servers, commands, tmp_path, command,
                                                                      moment, sig):
    args = commands[command]
    code, err = stop(servers, args, moment, sig, command, tmp_path)
    assert code in (130, -signal.SIGKILL, 0), err[-2000:]  # 0: the answer was in before the signal
    in_flight = moment[0] == "received"
    if code == 130 and in_flight:
        said = "may have reached the server and been billed" if moment == CREATE and command == "ocr" \
            else "may exist on the server"
        assert said in err, err[-2000:]
    printed = code == 130 and PRINTED.search(err) is not None
    assert printed or not (code == 130 and in_flight), err[-2000:]  # Ctrl-C in flight: a command to run
    assert printed or "--new" not in args, err[-2000:]
    code, err = finish(printed_command(err) if printed else args, tmp_path)
    assert code == 0, err[-2000:]
    paid_twice = command == "ocr" and moment == CREATE  # an OCR answer cannot be looked up
    assert posts(servers, CREATES[command]) == (2 if paid_twice else 1), err[-2000:]
    assert posts(servers, FILES) == UPLOADS[command]
    if command == "ocr":
        assert len(servers.requests_to("DELETE", "/v1/files/{file_id}")) == 1  # when no resume needs it
