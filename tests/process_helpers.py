"""Helpers for tests that start a real `python -m mistral_cli` process: start it as a user's
interactive shell would, and read its pipes with a deadline so a silent child fails the test.

A shell's background job (`pytest ... &`) starts with SIGINT ignored, and an ignored signal
stays ignored across fork and exec: a child mcli would then shrug off the SIGINT a test sends
(Python installs its KeyboardInterrupt handler only when SIGINT starts at its default).
`default_sigint` restores the default in the child, between fork and exec.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import IO, Any

READ_TIMEOUT = 30.0  # generous: the machine may be busy; it bounds a hang, it measures nothing


def default_sigint() -> None:
    """Give SIGINT its default action (a preexec_fn, or the child's side of a fork)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_mcli(*args: str, **popen: Any) -> subprocess.Popen:
    """Start `python -m mistral_cli ARGS` with SIGINT at its default and stdout, stderr piped."""
    options: dict[str, Any] = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE,
                               "stdin": subprocess.DEVNULL, "env": dict(os.environ)}
    options.update(popen)
    return subprocess.Popen([sys.executable, "-m", "mistral_cli", *map(str, args)],
                            preexec_fn=default_sigint, **options)


def read_exactly(stream: IO[bytes], size: int, timeout: float = READ_TIMEOUT) -> bytes:
    """SIZE bytes from the pipe STREAM (fewer at its end); fail after TIMEOUT seconds of waiting."""
    got = b""
    deadline = time.monotonic() + timeout
    while len(got) < size:
        chunk = _read_some(stream, size - len(got), deadline, got)
        if not chunk:
            break
        got += chunk
    return got


def read_line(stream: IO[bytes], timeout: float = READ_TIMEOUT) -> bytes:
    """One line from the pipe STREAM (what is left at its end); fail after TIMEOUT seconds."""
    got = b""
    deadline = time.monotonic() + timeout
    while not got.endswith(b"\n"):
        chunk = _read_some(stream, 1, deadline, got)  # a byte at a time: nothing read past the line
        if not chunk:
            break
        got += chunk
    return got


def _read_some(stream: IO[bytes], limit: int, deadline: float, got: bytes) -> bytes:
    """Up to LIMIT bytes from STREAM's file descriptor once it is readable (b"" at its end)."""
    left = deadline - time.monotonic()
    if left <= 0 or not select.select([stream], [], [], left)[0]:
        raise AssertionError(f"the process wrote nothing more in time; it had written {got[-600:]!r}")
    return os.read(stream.fileno(), limit)


@dataclass(frozen=True)
class At:
    """A moment of a run: STAGE ("received", "answered") of a request to METHOD PATH, or a
    journal STATE."""

    stage: str
    method: str = ""
    path: str = ""

    def __str__(self) -> str:
        return f"{self.stage} {self.method} {self.path}".strip()
