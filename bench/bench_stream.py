"""Streaming benchmark: `mcli chat` per-chunk cost in a pipe, and live Markdown under a pty.

    python bench/bench_stream.py [--runs 7] [--chunks 40000] [--skip-pty]

1. Pipe: (time for N chunks - time for 1 chunk) / N, for `mcli chat hi --no-log` and for
   bench/baseline_stream.py (httpx + iter_lines + json.loads + write/flush), each run as a
   subprocess writing to a pipe, against bench/stream_server.py. Runs are interleaved;
   medians of wall time and of the child's CPU time (user + system, which other load on
   the machine disturbs far less). Target for the ratio: <= 1.3x.
2. Pty: `mcli chat hi --no-log` on a pseudo-terminal (TERM=xterm-256color, 120x50), the
   server sending Markdown-shaped text; time for 20,000 chunks against 5,000 (target
   <= 4.6x: linear is 4x), and a check that the output was styled.

Figures are printed, never asserted. About a minute on two cores.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import re
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import stream_server  # noqa: E402

PY = sys.executable
MCLI = [PY, "-m", "mistral_cli", "chat", "hi", "--no-log"]
BASELINE = [PY, str(HERE / "baseline_stream.py")]
SGR = re.compile(rb"\x1b\[[0-9;]*m")
CURSOR_UP = re.compile(rb"\x1b\[\d+A")


@dataclass
class Took:
    """One run: wall seconds and the child's CPU seconds."""

    wall: float
    cpu: float


def base_env(state: str) -> dict[str, str]:
    """The benchmark's environment: a fake key, mcli state in STATE, no proxy, no NO_COLOR."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("MISTRAL_", "MCLI_")) and key not in ("NO_COLOR", "COLUMNS", "LINES")}
    env.update(MISTRAL_API_KEY="bench-key", MCLI_CONFIG_DIR=f"{state}/config",
               MCLI_DATA_DIR=f"{state}/data", NO_PROXY="127.0.0.1,localhost",
               no_proxy="127.0.0.1,localhost", PYTHONPATH=str(HERE.parent))
    return env


def reap(proc: subprocess.Popen, started: float) -> tuple[int, Took]:
    """Wait for PROC; its exit code, wall time since STARTED and CPU time."""
    _, status, usage = os.wait4(proc.pid, 0)
    took = Took(time.perf_counter() - started, usage.ru_utime + usage.ru_stime)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, took


def median(runs: list[Took]) -> Took:
    return Took(statistics.median(r.wall for r in runs), statistics.median(r.cpu for r in runs))


# -- 1. pipe -------------------------------------------------------------------------------

def pipe_run(argv: list[str], env: dict[str, str], server_url: str, expected: int) -> Took:
    """One run with stdout on a pipe (read and discarded)."""
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, env={**env, "MISTRAL_SERVER_URL": server_url},
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=errors)
        size = 0
        while chunk := proc.stdout.read1(1 << 16):
            size += len(chunk)
        proc.stdout.close()
        code, took = reap(proc, started)
        if code or size - expected not in (0, 1):  # mcli ends the answer with a newline
            errors.seek(0)
            raise SystemExit(f"{argv} failed ({code}, {size} bytes):\n"
                             f"{errors.read().decode(errors='replace')[-2000:]}")
    return took


def pipe_costs(env: dict[str, str], server, chunks: int, runs: int) -> dict[str, tuple[Took, Took, Took]]:
    """Per program: (median for CHUNKS, median for 1, cost per chunk), runs interleaved."""
    programs = {"baseline (httpx+json)": BASELINE, "mcli chat": MCLI}
    many: dict[str, list[Took]] = {name: [] for name in programs}
    one: dict[str, list[Took]] = {name: [] for name in programs}
    for argv in programs.values():  # warm the file caches
        pipe_run(argv, env, stream_server.url(server, "tok", 1), 4)
    for _ in range(runs):
        for name, argv in programs.items():
            many[name].append(pipe_run(argv, env, stream_server.url(server, "tok", chunks), 4 * chunks))
            one[name].append(pipe_run(argv, env, stream_server.url(server, "tok", 1), 4))
    result = {}
    for name in programs:
        big, small = median(many[name]), median(one[name])
        cost = Took((big.wall - small.wall) / (chunks - 1), (big.cpu - small.cpu) / (chunks - 1))
        result[name] = (big, small, cost)
    return result


# -- 2. pty --------------------------------------------------------------------------------

def pty_run(argv: list[str], env: dict[str, str], server_url: str) -> tuple[Took, dict]:
    """One run on a 120x50 pseudo-terminal; what it printed is counted and discarded."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 120, 0, 0))
    seen = {"bytes": 0, "sgr": 0, "up": 0, "head": b""}

    def drain() -> None:
        while True:
            try:
                data = os.read(master, 1 << 16)
            except OSError:
                return
            if not data:
                return
            seen["bytes"] += len(data)
            seen["sgr"] += len(SGR.findall(data))
            seen["up"] += len(CURSOR_UP.findall(data))
            if len(seen["head"]) < 4096:
                seen["head"] += data

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    started = time.perf_counter()
    proc = subprocess.Popen(argv, env={**env, "MISTRAL_SERVER_URL": server_url,
                                       "TERM": "xterm-256color"},
                            stdin=slave, stdout=slave, stderr=slave, start_new_session=True)
    os.close(slave)
    code, took = reap(proc, started)
    reader.join(timeout=10)
    os.close(master)
    if code:
        raise SystemExit(f"{argv} failed on the pty ({code}):\n{seen['head'][-2000:]!r}")
    return took, seen


def pty_times(env: dict[str, str], server, runs: int) -> dict[int, tuple[Took, dict]]:
    """Per chunk count: the median run and what the last run printed."""
    results: dict[int, list] = {1: [], 5_000: [], 20_000: []}
    pty_run(MCLI, env, stream_server.url(server, "md", 1))  # warm caches
    for _ in range(runs):
        for count in results:
            results[count].append(pty_run(MCLI, env, stream_server.url(server, "md", count)))
    return {count: (median([took for took, _ in done]), done[-1][1])
            for count, done in results.items()}


# -- report --------------------------------------------------------------------------------

def report_pipe(env: dict[str, str], server, chunks: int, runs: int) -> None:
    print(f"1. pipe: per-chunk cost = (time for {chunks:,} chunks - time for 1) / {chunks - 1:,}")
    costs = pipe_costs(env, server, chunks, runs)
    for name, (big, small, cost) in costs.items():
        print(f"   {name:<22} wall {cost.wall * 1e6:5.2f} us/chunk, cpu {cost.cpu * 1e6:5.2f} us/chunk"
              f"   ({big.wall:.3f} s for {chunks:,}, {small.wall:.3f} s for 1)")
    floor, mcli = costs["baseline (httpx+json)"][2], costs["mcli chat"][2]
    print(f"   ratio mcli / baseline: wall {mcli.wall / floor.wall:.2f}x, cpu {mcli.cpu / floor.cpu:.2f}x"
          f"   (target <= 1.3x)\n", flush=True)


def report_pty(env: dict[str, str], server, runs: int) -> None:
    print("2. pty: live Markdown (a heading, paragraph, list and code block every 40 chunks)")
    times = pty_times(env, server, runs)
    for count, (took, seen) in sorted(times.items()):
        print(f"   {count:>6,} chunks: wall {took.wall:.3f} s, cpu {took.cpu:.3f} s   ({seen['bytes']:,} bytes,"
              f" {seen['sgr']:,} SGR styles, {seen['up']:,} cursor-up erases)")
    t1, t5, t20 = (times[n][0] for n in (1, 5_000, 20_000))
    print(f"   ratio 20,000 / 5,000: wall {t20.wall / t5.wall:.2f}x, cpu {t20.cpu / t5.cpu:.2f}x"
          f"   (target <= 4.6x; linear = 4x)")
    print(f"   without start-up (minus the 1-chunk run): wall {(t20.wall - t1.wall) / (t5.wall - t1.wall):.2f}x,"
          f" cpu {(t20.cpu - t1.cpu) / (t5.cpu - t1.cpu):.2f}x")
    styled = times[5_000][1]["sgr"] > 0 and times[20_000][1]["sgr"] > 0
    print(f"   output styled with ANSI: {'yes' if styled else 'NO'}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--chunks", type=int, default=40_000)
    parser.add_argument("--skip-pty", action="store_true")
    args = parser.parse_args()
    server = stream_server.start()
    with tempfile.TemporaryDirectory() as state:
        env = base_env(state)
        print(f"python {sys.version.split()[0]}, {os.cpu_count()} cpus, median of {args.runs} runs\n")
        report_pipe(env, server, args.chunks, args.runs)
        if not args.skip_pty:
            report_pty(env, server, args.runs)
    server.shutdown()


if __name__ == "__main__":
    main()
