"""The memory gauge of the memory tests: run mcli in a child process through a tiny wrapper
that calls `mistral_cli.app.main` and then reports its own peak resident set size (VmHWM from
/proc/self/status, else ru_maxrss of RUSAGE_SELF): a measure of that one process, not a
maximum over every child the test suite ever started. BALLAST_MIB makes it hold memory, so a
control run can prove the gauge sees memory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

MiB = 1024 ** 2
LIMIT = 150 * MiB  # the memory bound a streamed transfer must stay under

WRAPPER = """
import os, resource, sys

def peak_rss_bytes():
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024

if os.environ.get("BALLAST_MIB"):
    ballast = b"x" * (int(os.environ["BALLAST_MIB"]) * 1024 * 1024)
from mistral_cli.app import main
code = main(sys.argv[1:])
with open(os.environ["PEAK_RSS_FILE"], "w") as report:
    report.write(str(peak_rss_bytes()))
sys.exit(code)
"""


def run_measured(tmp_path: Path, *args: str, ballast_mib: int = 0,
                 stdout_file: Path | None = None) -> tuple[subprocess.CompletedProcess, int]:
    """Run mcli ARGS in a child process (its stdout into STDOUT_FILE if given, for output too
    big to hold); return it and its peak RSS in bytes."""
    report = tmp_path / "peak-rss"
    env = {**os.environ, "PEAK_RSS_FILE": str(report), "BALLAST_MIB": str(ballast_mib or "")}
    command = [sys.executable, "-c", WRAPPER, *args]
    if stdout_file is None:
        proc = subprocess.run(command, capture_output=True, env=env, cwd=tmp_path, timeout=120)
    else:
        with stdout_file.open("wb") as out:
            proc = subprocess.run(command, stdout=out, stderr=subprocess.PIPE, env=env, cwd=tmp_path,
                                  timeout=120)
    return proc, int(report.read_text())
