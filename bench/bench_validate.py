"""`mcli fine-tuning validate` over a large JSONL: peak memory and time against a bare loop.

    python bench/bench_validate.py [--size-mib 1024] [--runs 3] [--tool-every 5] [--keep]

Writes a chat-format training file of SIZE MiB in a temporary folder (conversations of a
system, user and assistant message, one in five with a tool call, ~0.5-3 KB a line), then runs,
interleaved, RUNS times each:

- `python -m mistral_cli fine-tuning validate FILE` (the real command);
- the floor: a bare Python loop that reads the same file line by line and only
  `json.loads` each line.

Printed (not asserted): the median wall time and CPU time of each, their ratio (target
≤ 2x), and each program's peak RSS (target ≤ 150 MiB for validate), from `wait4`.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
FLOOR = "import json, sys\nwith open(sys.argv[1], 'rb') as f:\n    for line in f:\n        json.loads(line)\n"
LAUNCHER = ("import json, os, subprocess, sys, time\n"
            "started = time.perf_counter()\n"
            "pid = os.posix_spawn(sys.argv[1], sys.argv[1:], os.environ,"
            " file_actions=[(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0)])\n"
            "_pid, status, usage = os.wait4(pid, 0)\n"
            "print(json.dumps([time.perf_counter() - started, usage.ru_utime + usage.ru_stime,"
            " usage.ru_maxrss * 1024, os.waitstatus_to_exitcode(status)]))\n")
WORDS = ("the model answers questions about orbital mechanics with care and a little humour "
         "while keeping every figure exact and every unit stated plainly").split()


def sentence(rng: random.Random, words: int) -> str:
    """A sentence of about WORDS words."""
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def example(rng: random.Random, index: int, tool_every: int) -> dict:
    """One conversation; one in TOOL_EVERY has a tool call and its answer."""
    messages = [{"role": "system", "content": sentence(rng, rng.randint(5, 20))},
                {"role": "user", "content": sentence(rng, rng.randint(10, 120))}]
    if index % tool_every == 0:
        call_id = f"c{index:08d}"[-9:]
        messages += [{"role": "assistant", "content": "", "tool_calls": [
            {"id": call_id, "type": "function",
             "function": {"name": "lookup", "arguments": json.dumps({"query": sentence(rng, 4)})}}]},
            {"role": "tool", "content": json.dumps({"result": sentence(rng, 15)}), "tool_call_id": call_id}]
    messages.append({"role": "assistant", "content": sentence(rng, rng.randint(20, 300))})
    return {"messages": messages}


def write_file(path: Path, size: int, tool_every: int = 5) -> int:
    """Write about SIZE bytes of distinct-looking lines; return the line count."""
    rng = random.Random(42)
    pool = [(json.dumps(example(rng, i, tool_every)) + "\n").encode() for i in range(2000)]
    written = lines = 0
    with open(path, "wb", buffering=8 * 1024 * 1024) as handle:
        while written < size:
            line = pool[lines % len(pool)]
            handle.write(line)
            written += len(line)
            lines += 1
    return lines


def run(argv: list[str], env: dict[str, str]) -> tuple[float, float, int, int]:
    """Wall seconds, CPU seconds, peak RSS in bytes and exit code of one run of ARGV.

    Started from a small launcher process: Linux counts the memory a child had before its
    exec (a copy of this bigger process) in its peak RSS."""
    out = subprocess.run([sys.executable, "-c", LAUNCHER, *argv], env=env, capture_output=True, check=True)
    wall, cpu, rss, code = json.loads(out.stdout)
    if code:
        sys.stderr.write(out.stderr.decode(errors="replace")[-2000:])
    return wall, cpu, rss, code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tool-every", type=int, default=5,
                        help="one line in N has a tool call (1: every line, the slow path)")
    parser.add_argument("--keep", action="store_true", help="keep the generated file")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="mcli-bench-validate-"))
    env = {**os.environ, "MCLI_CONFIG_DIR": str(folder / "config"), "MCLI_DATA_DIR": str(folder / "data"),
           "PYTHONPATH": str(HERE.parent)}
    try:
        path = folder / "train.jsonl"
        started = time.perf_counter()
        lines = write_file(path, args.size_mib * 1024 * 1024, args.tool_every)
        size = path.stat().st_size
        print(f"file: {size / 2**20:,.0f} MiB, {lines:,} lines (written in {time.perf_counter() - started:.1f} s)")
        floor_script = folder / "floor.py"
        floor_script.write_text(FLOOR)
        programs = {"floor (json.loads loop)": [sys.executable, str(floor_script), str(path)],
                    "mcli fine-tuning validate": [sys.executable, "-m", "mistral_cli", "fine-tuning",
                                                  "validate", str(path)]}
        results: dict[str, list[tuple[float, float, int, int]]] = {name: [] for name in programs}
        for _ in range(args.runs):
            for name, argv in programs.items():
                results[name].append(run(argv, env))
        report(results, size)
    finally:
        if args.keep:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


def report(results: dict[str, list[tuple[float, float, int, int]]], size: int) -> None:
    """Print medians, ratios and peak RSS."""
    medians = {}
    for name, runs in results.items():
        wall = statistics.median(r[0] for r in runs)
        cpu = statistics.median(r[1] for r in runs)
        rss = max(r[2] for r in runs)
        codes = sorted({r[3] for r in runs})
        medians[name] = (wall, cpu)
        print(f"{name:28} wall {wall:7.2f} s  cpu {cpu:7.2f} s  peak RSS {rss / 2**20:6.1f} MiB  "
              f"{size / 2**20 / wall:6.0f} MiB/s  exit {codes}")
    (floor_wall, floor_cpu), (mcli_wall, mcli_cpu) = medians.values()
    print(f"ratio validate / floor: {mcli_wall / floor_wall:.2f}x wall, {mcli_cpu / floor_cpu:.2f}x cpu "
          "(target <= 2x; peak RSS target <= 150 MiB)")


if __name__ == "__main__":
    main()
