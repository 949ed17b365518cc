"""Running one local program as a tool: no shell, arguments on stdin, bounded in time and output.

The command is a word list (split with shlex by the caller) run with shell=False in a new
process group (start_new_session=True). The call's arguments go to its stdin as JSON and
nowhere else. Its stdout is read in chunks and kept up to a cap: past the cap the whole group
is killed, so a tool that floods never makes mcli hold more than the cap. Its stderr keeps only
a tail. On the time limit, on Ctrl-C, and as soon as the program itself has exited, its whole
process group is killed (a forked child dies with it). The environment is the caller's minus
the variables mcli masks and any variable holding a secret.
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

CHUNK = 16 * 1024
STDERR_TAIL = 2 * 1024
DRAIN_AFTER_EXIT = 1.0  # seconds to read what a killed group left in the pipes
POLL = 0.05


@dataclass(eq=False)  # compared by identity; skipping the generated __eq__ keeps start-up short
class Limits:
    """What one run may take: seconds, stdout bytes, the working folder, the environment."""

    timeout: float
    cap: int
    cwd: Path
    environ: Mapping[str, str]


@dataclass(eq=False)
class Outcome:
    """What one run gave: stdout (at most the cap), whether it was cut, a stderr tail, the exit
    status (negative: killed by that signal), whether the time limit struck, the duration."""

    stdout: bytes = b""
    cut: bool = False
    stderr_tail: bytes = b""
    exit_status: int | None = None
    timed_out: bool = False
    seconds: float = 0.0
    error: str | None = None  # the program could not be started (not found, not executable)


def clean_environ(environ: Mapping[str, str], masked: Iterable[str], secrets: Iterable[str | None]) -> dict[str, str]:
    """ENVIRON without the MASKED names and without any variable whose value holds a secret."""
    masked = set(masked)
    secrets = [s for s in secrets if s and len(s) >= 4]
    return {name: value for name, value in environ.items()
            if name not in masked and not any(secret in value for secret in secrets)}


def run_program(argv: list[str], stdin: bytes, limits: Limits) -> Outcome:
    """Run ARGV (no shell) with STDIN, within LIMITS; Ctrl-C kills its group and is re-raised."""
    started = time.monotonic()
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, cwd=str(limits.cwd), env=dict(limits.environ),
                                shell=False, start_new_session=True, close_fds=True)
    except OSError as exc:
        return Outcome(error=f"cannot start {argv[0]}: {exc.strerror or exc}",
                       seconds=time.monotonic() - started)
    outcome = Outcome()
    try:
        feed = threading.Thread(target=_feed, args=(proc, stdin), daemon=True)
        feed.start()
        _collect(proc, limits, started, outcome)
    except BaseException:
        kill_group(proc)
        raise
    finally:
        _close(proc)
    outcome.exit_status = proc.returncode
    outcome.seconds = time.monotonic() - started
    return outcome


def _feed(proc: subprocess.Popen, data: bytes) -> None:
    """Write DATA to the program's stdin and close it (a program that stops reading is fine)."""
    try:
        proc.stdin.write(data)
    except (BrokenPipeError, OSError, ValueError):
        pass
    try:
        proc.stdin.close()
    except (BrokenPipeError, OSError, ValueError):
        pass


def _collect(proc: subprocess.Popen, limits: Limits, started: float, outcome: Outcome) -> None:
    """Read stdout (to the cap) and stderr (a tail) until both close, the time is up, or the
    program has exited and its group was killed."""
    kept = bytearray()
    tail = bytearray()
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ, "out")
        selector.register(proc.stderr, selectors.EVENT_READ, "err")
        deadline = started + limits.timeout
        ended_at: float | None = None
        while selector.get_map():
            now = time.monotonic()
            if ended_at is None and proc.poll() is not None:
                kill_group(proc)  # the program is done: nothing it forked outlives it
                ended_at = now
            if ended_at is None and now >= deadline:
                outcome.timed_out = True
                kill_group(proc)
                ended_at = now
            if ended_at is not None and now - ended_at > DRAIN_AFTER_EXIT:
                break  # a process that left the group holds the pipe: stop reading it
            for key, _mask in selector.select(POLL):
                data = os.read(key.fileobj.fileno(), CHUNK)
                if not data:
                    selector.unregister(key.fileobj)
                elif key.data == "err":
                    tail += data
                    del tail[:-STDERR_TAIL]
                else:
                    room = limits.cap - len(kept)
                    kept += data[:room]
                    if len(data) > room:
                        outcome.cut = True
                        kill_group(proc)
                        selector.unregister(key.fileobj)
                        ended_at = ended_at or time.monotonic()
    proc.wait()
    outcome.stdout, outcome.stderr_tail = bytes(kept), bytes(tail)


def kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL the program's whole process group (its id is the program's pid)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _close(proc: subprocess.Popen) -> None:
    """Reap the program and close its pipes."""
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass
    for stream in (proc.stdout, proc.stderr):
        try:
            stream.close()
        except OSError:
            pass
