"""Batch request-file check: time and peak memory of `check_batch_file` against a bare loop.

Writes a JSONL of batch requests (unique `custom_id`s, chat bodies) of `--mib` MiB, then runs
two child processes over it, each reporting its CPU time and peak RSS (VmHWM):
  - the floor: read each line and `json.loads` it, nothing else;
  - mcli's check (mistral_cli/validate/batch.py): the same decode, the line checks and the
    bounded-memory uniqueness filter of the ids.
Printed: both times, their ratio (target <= 2x), and both peaks (target < 150 MiB).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MiB = 1024 * 1024
CHILD = """
import json, os, resource, sys, time
from pathlib import Path
from mistral_cli.validate.batch import check_batch_file
path = Path(sys.argv[2])
start = time.process_time()
if sys.argv[1] == "floor":
    with open(path, "rb") as handle:
        for raw in handle:
            json.loads(raw)
    problems = 0
else:
    problems = check_batch_file(path).problem_count
cpu = time.process_time() - start
with open("/proc/self/status") as status:
    peak = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmHWM:"))
print(json.dumps({"cpu": cpu, "peak": peak, "problems": problems}))
"""


def write_requests(path: Path, size: int) -> int:
    """Fill PATH with about SIZE bytes of batch requests; return the line count."""
    prompt = "Summarise in five words: " + "the quick brown fox jumps over the lazy dog " * 3
    lines = 0
    with path.open("w") as handle:
        while handle.tell() < size:
            for _ in range(10_000):
                handle.write(json.dumps({"custom_id": f"req-{lines:010d}", "body": {
                    "max_tokens": 64, "messages": [{"role": "user", "content": prompt}]}}) + "\n")
                lines += 1
    return lines


def measure(kind: str, path: Path) -> dict:
    """Run one child over PATH and return what it reports."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", CHILD, kind, str(path)], capture_output=True,
                         text=True, check=True, env=env).stdout
    return json.loads(out)


def main() -> None:
    """Measure the floor and the check on one generated file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=256, help="size of the generated file (MiB)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "requests.jsonl"
        lines = write_requests(path, args.mib * MiB)
        print(f"file: {path.stat().st_size / MiB:.0f} MiB, {lines:,} requests")
        floor, check = measure("floor", path), measure("check", path)
    assert check["problems"] == 0, check
    print(f"bare json.loads loop: {floor['cpu']:.2f} s CPU, peak {floor['peak'] / MiB:.1f} MiB")
    print(f"mcli batch check:     {check['cpu']:.2f} s CPU, peak {check['peak'] / MiB:.1f} MiB")
    print(f"ratio: {check['cpu'] / floor['cpu']:.2f}x (target <= 2x); "
          f"peak under 150 MiB: {check['peak'] < 150 * MiB}")


if __name__ == "__main__":
    main()
