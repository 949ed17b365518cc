"""Fault matrix, interruptions: SIGINT and SIGTERM during a stream, an upload and a download
end with exit 130, no traceback, the partial answer saved and no temporary file left behind.
Real subprocesses against the fake server."""

from __future__ import annotations

import signal
import subprocess
import threading
import time

import pytest

from tests.fakeapi.defaults import FILE_ID, file_obj
from tests.fakeapi.responses import json_response, pattern_bytes, sse_response
from tests.generation_helpers import saved, text_chunks
from tests.process_helpers import read_exactly, start_mcli

CHAT = "/v1/chat/completions"
SIGNALS = pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])


def wait_for(condition, what: str) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.02)


def stop(proc: subprocess.Popen, signum: int) -> tuple[bytes, bytes]:
    proc.send_signal(signum)
    try:
        return proc.communicate(timeout=30)
    finally:
        proc.kill()


class HalfThenHang:
    """A download that sends half its bytes, then waits until released."""

    def __init__(self, size: int, release: threading.Event):
        self.size, self.release, self.sent = size, release, threading.Event()

    def write(self, handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/octet-stream")
        handler.send_header("Content-Length", str(self.size))
        handler.end_headers()
        handler.wfile.write(pattern_bytes(0, self.size // 2))
        handler.wfile.flush()
        self.sent.set()
        self.release.wait(30)
        handler.close_connection = True


@SIGNALS
def test_a_signal_during_a_stream_saves_the_partial_answer(api, signum):
    api.add("POST", CHAT, sse_response(text_chunks("first ", "second ", "third"), delay=2))
    proc = start_mcli("chat", "hi")
    try:
        assert read_exactly(proc.stdout, 6) == b"first "
    finally:
        _out, err = stop(proc, signum)
    assert proc.returncode == 130
    assert b"Traceback" not in err
    _conversation, records = saved("chat")
    assert records[-1].incomplete and records[-1].message["content"].startswith("first ")


@SIGNALS
def test_a_signal_during_an_upload_exits_130(api, tmp_path, signum):
    release = threading.Event()

    def slow(_request):
        release.wait(30)
        return json_response(file_obj())

    api.add("POST", "/v1/files", slow)
    path = tmp_path / "train.jsonl"
    path.write_text('{"messages": []}\n', encoding="utf-8")
    proc = start_mcli("files", "upload", str(path))
    try:
        wait_for(lambda: api.requests, "the upload reached the server")
        _out, err = stop(proc, signum)
    finally:
        release.set()
    assert proc.returncode == 130
    assert b"Traceback" not in err


@SIGNALS
def test_a_signal_during_a_download_leaves_no_temporary_file(api, tmp_path, signum):
    release = threading.Event()
    response = HalfThenHang(200_000, release)
    api.add("GET", f"/v1/files/{FILE_ID}/content", response)
    folder = tmp_path / "downloads"
    folder.mkdir()
    proc = start_mcli("files", "download", FILE_ID, "-o", str(folder / "out.bin"))
    try:
        wait_for(response.sent.is_set, "half the download was sent")
        wait_for(lambda: any(folder.iterdir()), "the temporary file exists")
        _out, err = stop(proc, signum)
    finally:
        release.set()
    assert proc.returncode == 130
    assert b"Traceback" not in err
    assert list(folder.iterdir()) == []


def test_sigterm_at_the_repl_prompt_ends_the_repl(api, cli, monkeypatch):
    """Ctrl-C at the prompt keeps the REPL going; SIGTERM (Terminated) ends it with exit 130."""
    from mistral_cli.errors import Terminated
    from mistral_cli.generation import repl
    from tests.generation_helpers import ScriptedInput

    reader = ScriptedInput(KeyboardInterrupt(), Terminated(), "never sent")
    monkeypatch.setattr(repl, "line_reader", lambda env: reader)
    result = cli("chat", "-i")
    assert result.exit_code == 130
    assert api.requests == []
