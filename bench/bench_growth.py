"""Cost that grows with the user's state: each command's time and peak memory at 1x, 10x, 100x.

    .venv/bin/python bench/bench_growth.py [--runs 3] [--quick] [--only history|ids|lists]

Local state: a history database of 1,000, 10,000 and 100,000 conversations (two messages
each) for `history list`, `history show latest`, `history list -L 0 -o jsonl` and Tab on
conversation ids (`completion ids conversation`); an id cache of 200 ids a kind written by
something else with 5,000, 50,000 and 500,000 ids (the cap must hold on read). Server-side
state: a loopback server listing 50, 500 and 5,000 files (about 210 bytes each), batch jobs
(about 620 bytes) and fine-tuning jobs (about 3 KB) for the `--all` lists, in the formats
that stream (json, jsonl, TSV); each also prints the pages it asked for. `--only lists` (or
history, ids) runs one part.

Printed for each command and size: the median wall time of RUNS runs and the peak RSS of
the child (its VmHWM), then the growth from one size to the next. Linear or better means a
10x step costs at most about 10x; a flat line is what a limited query should show.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


# Runs mcli in the child and writes its peak RSS (VmHWM: this process's own memory; ru_maxrss
# would include the bench's own, inherited at fork) to the file named by MCLI_BENCH_PEAK.
CHILD = """
import atexit, os, runpy, sys
def peak():
    with open("/proc/self/status") as status, open(os.environ["MCLI_BENCH_PEAK"], "w") as out:
        out.write(next(line.split()[1] for line in status if line.startswith("VmHWM:")))
atexit.register(peak)
sys.argv = ["mcli", *sys.argv[1:]]
runpy.run_module("mistral_cli", run_name="__main__")
"""


def measure(argv: list[str], env: dict[str, str], runs: int) -> tuple[float, float]:
    """Median wall seconds and the largest peak RSS (MiB) of RUNS runs of `mcli ARGV`."""
    times, peaks = [], []
    with tempfile.NamedTemporaryFile() as peak_file:
        for _ in range(runs):
            start = time.perf_counter()
            proc = subprocess.run([sys.executable, "-c", CHILD, *argv], env={**env, "MCLI_BENCH_PEAK": peak_file.name},
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            times.append(time.perf_counter() - start)
            if proc.returncode != 0:
                raise SystemExit(f"mcli {' '.join(argv)} failed: {proc.stderr.decode()[-500:]}")
            peaks.append(int(Path(peak_file.name).read_text()) / 1024)
    return statistics.median(times), max(peaks)


def build_history(data: Path, count: int) -> None:
    """A history database of COUNT conversations of two messages, made with mcli's own schema."""
    from mistral_cli.env import Env
    from mistral_cli.store.conversations import open_store

    store = open_store(Env(environ={"MCLI_DATA_DIR": str(data)}))
    store.close()
    conn = sqlite3.connect(data / "history.db")
    with conn:
        conn.executemany(
            "INSERT INTO conversations (id, kind, model, title, created_at, updated_at, revision) "
            "VALUES (?, 'chat', 'mistral-small-latest', ?, ?, ?, ?)",
            ((f"{n:012x}", f"question {n}", "2024-01-01T00:00:00Z",
              f"2024-{1 + n // 2_000_000:02d}-01T{n // 3600 % 24:02d}:{n // 60 % 60:02d}:{n % 60:02d}Z", n)
             for n in range(count)))
        conn.executemany(
            "INSERT INTO messages (conversation_id, seq, body, created_at) VALUES (?, ?, ?, '2024-01-01T00:00:00Z')",
            ((f"{n:012x}", seq, json.dumps({"role": "user" if seq == 0 else "assistant", "content": f"text {n}"}))
             for n in range(count) for seq in range(2)))
    conn.close()


def build_ids(data: Path, count: int) -> None:
    """An id cache holding COUNT ids of each kind, as a cache written by something else could."""
    data.mkdir(parents=True, exist_ok=True)
    ids = [f"file-{n:08d}" for n in range(count)]
    (data / "ids.json").write_text(json.dumps({"file": ids, "conversation": ids}))


class ListServer(ThreadingHTTPServer):
    """GET /v1/files, /v1/batch/jobs and /v1/fine_tuning/jobs, paged, over COUNT items each;
    REQUESTS counts the pages asked."""

    daemon_threads = True
    count = 0
    requests = 0


def file_item(n: int) -> dict:
    """A file as the API lists it (about 210 bytes)."""
    return {"id": f"00000000-0000-4000-8000-{n:012d}", "object": "file", "bytes": 10, "created_at": 1,
            "filename": f"f{n}.jsonl", "purpose": "batch", "sample_type": "batch_request",
            "source": "upload", "num_lines": 1}


def batch_item(n: int) -> dict:
    """A batch job as the API lists it (about 620 bytes)."""
    return {"id": f"00000000-0000-4000-9000-{n:012d}", "object": "batch",
            "input_files": [f"00000000-0000-4000-8000-{n:012d}"], "endpoint": "/v1/chat/completions",
            "model": "mistral-small-latest", "metadata": {"team": "search", "mcli_run": f"run-{n}"},
            "errors": [{"message": "request 3: invalid body", "count": 1}], "status": "SUCCESS",
            "created_at": 1_700_000_000 + n, "total_requests": 100, "completed_requests": 100,
            "succeeded_requests": 99, "failed_requests": 1, "output_file": f"00000000-0000-4000-a000-{n:012d}",
            "error_file": f"00000000-0000-4000-b000-{n:012d}", "started_at": 1_700_000_100 + n,
            "completed_at": 1_700_000_900 + n}


def job_item(n: int) -> dict:
    """A fine-tuning job as the API lists it, with its integrations, repositories and metadata
    (about 3 KB, the size the growth figures assume)."""
    return {"id": f"00000000-0000-4000-c000-{n:012d}", "object": "job", "job_type": "completion",
            "auto_start": True, "model": "open-mistral-7b", "status": "SUCCESS",
            "created_at": 1_700_000_000 + n, "modified_at": 1_700_000_500 + n,
            "training_files": [f"00000000-0000-4000-8000-{n:012d}", f"00000000-0000-4000-8001-{n:012d}"],
            "validation_files": [f"00000000-0000-4000-8002-{n:012d}"],
            "hyperparameters": {"learning_rate": 0.0001, "training_steps": 100, "warmup_fraction": 0.05,
                                "weight_decay": 0.1, "epochs": 1.0, "seq_len": 32768, "fim_ratio": 0.9},
            "fine_tuned_model": f"ft:open-mistral-7b:abcdef12:support-bot-{n}:{n:08x}",
            "suffix": f"support-bot-{n}", "integrations": [{"type": "wandb", "project": "support",
                                                            "name": f"run-{n}", "run_name": f"run-{n}"}],
            "repositories": [{"type": "github", "name": "support-data", "owner": "acme", "ref": "main",
                              "weight": 1.0, "commit_id": f"{n:040x}"}],
            "metadata": {"expected_duration_seconds": 3600, "cost": 12.5, "cost_currency": "EUR",
                         "train_tokens_per_step": 131072, "train_tokens": 13107200, "data_tokens": 6553600,
                         "estimated_start_time": 1_700_000_100 + n},
            "trained_tokens": 13107200,
            "notes": "; ".join(f"checkpoint {step}: train loss 1.{step:03d}, valid loss 1.{step + 7:03d}"
                               for step in range(40))}


ITEMS = {"/v1/files": file_item, "/v1/batch/jobs": batch_item, "/v1/fine_tuning/jobs": job_item}


class ListHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        url = urlparse(self.path)
        query = parse_qs(url.query)
        page, size = int(query.get("page", ["0"])[0]), int(query.get("page_size", ["100"])[0])
        total = self.server.count
        self.server.requests += 1
        make = ITEMS[url.path]
        data = [make(n) for n in range(page * size, min(total, (page + 1) * size))]
        body = json.dumps({"data": data, "object": "list", "total": total}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def report(name: str, rows: list[tuple[int, float, float]]) -> None:
    """One line per size, then the growth of each step."""
    print(f"\n{name}")
    for size, seconds, peak in rows:
        print(f"  {size:>9,}  {seconds * 1000:8.1f} ms  {peak:7.1f} MiB")
    for (small, t1, m1), (large, t2, m2) in zip(rows, rows[1:]):
        print(f"  {small:,} -> {large:,} ({large / small:.0f}x): time x{t2 / t1:.2f}, memory x{m2 / m1:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="sizes / 10")
    parser.add_argument("--only", choices=("history", "ids", "lists"), action="append",
                        help="run only these parts (repeatable; default: all)")
    args = parser.parse_args()
    parts = set(args.only or ("history", "ids", "lists"))
    scale = 10 if args.quick else 1
    with tempfile.TemporaryDirectory() as tmp:
        base = {**os.environ, "MISTRAL_API_KEY": "bench-key", "MCLI_CONFIG_DIR": f"{tmp}/config"}
        if "history" in parts:
            bench_history(base, tmp, args.runs, scale)
        if "ids" in parts:
            bench_ids(base, tmp, args.runs, scale)
        if "lists" in parts:
            bench_lists(base, tmp, args.runs)


def bench_history(base: dict[str, str], tmp: str, runs: int, scale: int) -> None:
    """The history commands over 1,000, 10,000 and 100,000 stored conversations (sizes / SCALE)."""
    history_cmds = {"history list": ["history", "list"], "history show latest": ["history", "show", "latest"],
                    "history list -L 0 -o jsonl": ["history", "list", "-L", "0", "-o", "jsonl"],
                    "Tab on conversation ids": ["completion", "ids", "conversation"]}
    results: dict[str, list] = {name: [] for name in history_cmds}
    for size in (1_000 // scale, 10_000 // scale, 100_000 // scale):
        data = Path(tmp) / f"history-{size}"
        build_history(data, size)
        env = {**base, "MCLI_DATA_DIR": str(data)}
        for name, argv in history_cmds.items():
            results[name].append((size, *measure(argv, env, runs)))
    for name, rows in results.items():
        report(name, rows)


def bench_ids(base: dict[str, str], tmp: str, runs: int, scale: int) -> None:
    """Tab on file ids over a cache written by something else with 5,000 to 500,000 ids (/ SCALE)."""
    rows = []
    for size in (5_000 // scale, 50_000 // scale, 500_000 // scale):
        data = Path(tmp) / f"ids-{size}"
        build_ids(data, size)
        rows.append((size, *measure(["completion", "ids", "file"], {**base, "MCLI_DATA_DIR": str(data)}, runs)))
    report("Tab on file ids (cache written by something else)", rows)


LIST_COMMANDS = {
    "files list --all -o json": ["files", "list", "--all", "-o", "json"],
    "files list --all (TSV)": ["files", "list", "--all"],
    "batch list --all -o jsonl": ["batch", "list", "--all", "-o", "jsonl"],
    "fine-tuning list --all -o json (3 KB jobs)": ["fine-tuning", "list", "--all", "-o", "json"],
}


def bench_lists(base: dict[str, str], tmp: str, runs: int) -> None:
    """The `--all` lists over 50, 500 and 5,000 server-side items: time, peak RSS, pages asked."""
    server = ListServer(("127.0.0.1", 0), ListHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = {**base, "MCLI_DATA_DIR": f"{tmp}/lists-data",
           "MISTRAL_SERVER_URL": f"http://127.0.0.1:{server.server_port}"}
    for name, argv in LIST_COMMANDS.items():
        rows = []
        for size in (50, 500, 5_000):
            server.count, server.requests = size, 0
            rows.append((size, *measure(argv, env, runs)))
            print(f"  {name}, {size:,} items: {server.requests // runs} request(s) a run")
        report(name, rows)
    server.shutdown()


if __name__ == "__main__":
    main()
