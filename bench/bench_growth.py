"""Cost that grows with the user's state: each command's time and peak memory at 1x, 10x, 100x.

    .venv/bin/python bench/bench_growth.py [--runs 3] [--quick]

Local state: a history database of 1,000, 10,000 and 100,000 conversations (two messages
each) for `history list`, `history show latest`, `history list -L 0 -o jsonl` and Tab on
conversation ids (`completion ids conversation`); an id cache of 200 ids a kind written by
something else with 5,000, 50,000 and 500,000 ids (the cap must hold on read). Server-side
state: a loopback server listing 50, 500 and 5,000 files for `files list --all -o json`.

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


class FilesServer(ThreadingHTTPServer):
    """GET /v1/files, paged, over COUNT files."""

    daemon_threads = True
    count = 0


class FilesHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        query = parse_qs(urlparse(self.path).query)
        page, size = int(query.get("page", ["0"])[0]), int(query.get("page_size", ["100"])[0])
        total = self.server.count
        data = [{"id": f"00000000-0000-4000-8000-{n:012d}", "object": "file", "bytes": 10, "created_at": 1,
                 "filename": f"f{n}.jsonl", "purpose": "batch", "sample_type": "batch_request",
                 "source": "upload", "num_lines": 1}
                for n in range(page * size, min(total, (page + 1) * size))]
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
    args = parser.parse_args()
    scale = 10 if args.quick else 1
    with tempfile.TemporaryDirectory() as tmp:
        base = {**os.environ, "MISTRAL_API_KEY": "bench-key", "MCLI_CONFIG_DIR": f"{tmp}/config"}
        history_cmds = {"history list": ["history", "list"], "history show latest": ["history", "show", "latest"],
                        "history list -L 0 -o jsonl": ["history", "list", "-L", "0", "-o", "jsonl"],
                        "Tab on conversation ids": ["completion", "ids", "conversation"]}
        results: dict[str, list] = {name: [] for name in history_cmds}
        for size in (1_000 // scale, 10_000 // scale, 100_000 // scale):
            data = Path(tmp) / f"history-{size}"
            build_history(data, size)
            env = {**base, "MCLI_DATA_DIR": str(data)}
            for name, argv in history_cmds.items():
                results[name].append((size, *measure(argv, env, args.runs)))
        for name, rows in results.items():
            report(name, rows)
        rows = []
        for size in (5_000 // scale, 50_000 // scale, 500_000 // scale):
            data = Path(tmp) / f"ids-{size}"
            build_ids(data, size)
            rows.append((size, *measure(["completion", "ids", "file"], {**base, "MCLI_DATA_DIR": str(data)},
                                        args.runs)))
        report("Tab on file ids (cache written by something else)", rows)
        server = FilesServer(("127.0.0.1", 0), FilesHandler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        rows = []
        for size in (50, 500, 5_000):
            server.count = size
            env = {**base, "MCLI_DATA_DIR": f"{tmp}/files-data",
                   "MISTRAL_SERVER_URL": f"http://127.0.0.1:{server.server_port}"}
            rows.append((size, *measure(["files", "list", "--all", "-o", "json"], env, args.runs)))
        report("files list --all -o json", rows)
        server.shutdown()


if __name__ == "__main__":
    main()
