"""Benchmark `--via batch`'s results put back in input order (stdlib only).

    .venv/bin/python bench/bench_via_batch.py [--answers 20000] [--dims 1024]

Writes a request file of ANSWERS embedding requests and an output file of their answers
(DIMS-value vectors written as a model writes them, 17 digits) in shuffled order, as the
batch service may. Two child processes then print every answer in input order as one JSON
line each, to /dev/null:

- the floor: read every line once, `json.loads` it, hold all answers in a dict by
  custom_id, then write them in order (the fastest way, and the way that holds everything);
- mcli: `batchrun.in_order.in_order` (an index of line offsets, 8 bytes an input; each
  line parsed when indexed and again when read back in order).

Printed: each one's CPU time and peak RSS, and the ratios.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[4])
mode, requests, output = sys.argv[1], sys.argv[2], sys.argv[3]
start = time.process_time()
with open("/dev/null", "w") as out:
    if mode == "floor":
        answers = {}
        with open(output, "rb") as handle:
            for line in handle:
                item = json.loads(line)
                answers[item["custom_id"]] = item["response"]["body"]
        with open(requests, "rb") as handle:
            for line in handle:
                request = json.loads(line)
                body = answers[request["custom_id"]]
                out.write(json.dumps({"index": int(request["custom_id"]), "embedding": body["data"][0]["embedding"]}) + "\n")
    else:
        from pathlib import Path
        from mistral_cli.batchrun.in_order import in_order
        count = sum(1 for _ in open(requests, "rb"))
        for outcome in in_order(Path(requests), [Path(output)], 0, count, print):
            out.write(json.dumps({"index": outcome.number, "embedding": outcome.body["data"][0]["embedding"]}) + "\n")
cpu = time.process_time() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"cpu": cpu, "peak": peak}))
"""


def write_files(folder: Path, answers: int, dims: int) -> tuple[Path, Path]:
    """The request file and the shuffled output file."""
    requests = folder / "requests.jsonl"
    output = folder / "output.jsonl"
    with requests.open("w") as handle:
        for number in range(answers):
            handle.write(json.dumps({"custom_id": str(number), "body": {"input": [f"text {number}"]}}) + "\n")
    rest = ",".join(repr(-0.0123456789012345 + i * 1.2345678e-7) for i in range(1, dims))
    order = list(range(answers))
    random.Random(1).shuffle(order)
    with output.open("w") as handle:
        for number in order:
            handle.write('{"id":"r%d","custom_id":"%d","error":null,"response":{"status_code":200,"body":'
                         '{"object":"list","data":[{"object":"embedding","index":0,"embedding":[%d.0,%s]}]}}}\n'
                         % (number, number, number, rest))
    return requests, output


def measure(mode: str, requests: Path, output: Path) -> dict:
    """CPU seconds and peak RSS of one child."""
    proc = subprocess.run([sys.executable, "-c", CHILD, mode, str(requests), str(output), str(ROOT)],
                          capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--answers", type=int, default=20_000)
    parser.add_argument("--dims", type=int, default=1024)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        requests, output = write_files(Path(folder), args.answers, args.dims)
        size = output.stat().st_size / 2**20
        floor = measure("floor", requests, output)
        ours = measure("mcli", requests, output)
    mib = 2**20
    print(f"{args.answers:,} answers of {args.dims} values, {size:.0f} MiB of result lines, shuffled")
    print(f"floor (all held, one parse a line): {floor['cpu']:.2f} s CPU, peak RSS {floor['peak'] / mib:.1f} MiB")
    print(f"mcli in_order (offsets, two parses): {ours['cpu']:.2f} s CPU, peak RSS {ours['peak'] / mib:.1f} MiB")
    print(f"ratio: {ours['cpu'] / floor['cpu']:.2f}x CPU, {ours['peak'] / floor['peak']:.2f}x memory")


if __name__ == "__main__":
    main()
