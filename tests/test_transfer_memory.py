"""A streamed 1 GiB upload keeps a real mcli process under 150 MiB of peak memory.

The upload runs in a child process through a tiny wrapper that calls `mistral_cli.app.main`
and then reports its own peak resident set size (VmHWM from /proc/self/status, else
ru_maxrss of RUSAGE_SELF): a measure of that one process, not a maximum over every child
the test suite ever started. A control run that touches 200 MiB proves the gauge sees memory.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

GiB = 1024 ** 3
MiB = 1024 ** 2
LIMIT = 150 * MiB

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

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs sparse files and RSS")


def run_measured(tmp_path: Path, *args: str, ballast_mib: int = 0) -> tuple[subprocess.CompletedProcess, int]:
    """Run mcli ARGS in a child process; return it and its peak RSS in bytes."""
    report = tmp_path / "peak-rss"
    env = {**os.environ, "PEAK_RSS_FILE": str(report), "BALLAST_MIB": str(ballast_mib or "")}
    proc = subprocess.run([sys.executable, "-c", WRAPPER, *args], capture_output=True,
                          env=env, cwd=tmp_path, timeout=120)
    return proc, int(report.read_text())


def sparse_file(path: Path, size: int) -> Path:
    with path.open("wb") as handle:
        handle.truncate(size)
    return path


def test_streamed_1_gib_upload_stays_under_150_mib(api, tmp_path):
    big = sparse_file(tmp_path / "big.jsonl", GiB)
    proc, peak = run_measured(tmp_path, "files", "upload", str(big), "--purpose", "batch", "-o", "text")
    assert proc.returncode == 0, proc.stderr.decode()
    part = api.last("POST", "/v1/files").file("file")
    assert part.size == GiB  # the server received every byte
    assert proc.stdout.decode().strip() == next(iter(api.files))
    assert b"warning:" in proc.stderr  # over the spec's 512 MB: warned, and sent anyway
    print(f"peak RSS of a 1 GiB upload: {peak / MiB:.1f} MiB")
    assert peak < LIMIT, f"peak RSS {peak / MiB:.1f} MiB"


def test_the_memory_gauge_sees_a_process_that_holds_data(api, tmp_path):
    small = tmp_path / "small.jsonl"
    small.write_text("{}\n")
    proc, peak = run_measured(tmp_path, "files", "upload", str(small), ballast_mib=200)
    assert proc.returncode == 0, proc.stderr.decode()
    assert peak > LIMIT
