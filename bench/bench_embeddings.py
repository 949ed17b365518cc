"""Benchmark `mcli embeddings` over a corpus: concurrency and flat memory (stdlib only).

    .venv/bin/python bench/bench_embeddings.py [--lines 4000] [--memory-lines 20000] [--dims 1024]

A loopback server answers POST {prefix}/v1/embeddings after 200 ms, whatever the batch, with
one vector per input (the prefix `/d/N` sets the dimension N; bodies are built once per
batch size and dimension, so the server costs next to nothing). Two measures:

1. Concurrency: the same LINES-line file with the default `--concurrency` and with
   `--concurrency 1`, in the same run; printed: both wall times and their ratio (target
   <= 0.35x). Vectors of 16 values here, so the time is the requests', not JSON's.
2. Memory: MEMORY-LINES lines of DIMS-value vectors, the jsonl written to /dev/null; the
   child's peak RSS from wait4 (target < 150 MiB; everything held at once would take
   several times that: about 32 bytes per value as Python floats in lists).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DELAY = 0.2
ROUTE = re.compile(r"/d/(\d+)/v1/embeddings")
SMALL_DIMS = 16


@lru_cache(maxsize=32)
def body(count: int, dims: int) -> bytes:
    """An EmbeddingResponse with COUNT vectors of DIMS API-like values."""
    vector = [round(((i * 7919) % 2001 - 1000) / 31337.0, 16) for i in range(dims)]
    data = [{"object": "embedding", "index": i, "embedding": vector} for i in range(count)]
    return json.dumps({"id": "emb-bench", "object": "list", "model": "mistral-embed", "data": data,
                       "usage": {"prompt_tokens": count, "completion_tokens": 0,
                                 "total_tokens": count}}).encode()


class Handler(BaseHTTPRequestHandler):
    """Answers the embeddings route after DELAY seconds; 404 for anything else."""

    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        request = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
        match = ROUTE.fullmatch(self.path)
        if match is None:
            self.send_error(404)
            return
        time.sleep(DELAY)
        payload = body(len(request["input"]), int(match.group(1)))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        """Quiet."""


def start() -> ThreadingHTTPServer:
    """A server on a free loopback port, in a daemon thread."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def run(server: ThreadingHTTPServer, dims: int, corpus: Path, extra: list[str],
        home: Path) -> tuple[float, int]:
    """Run `mcli embeddings --input-file CORPUS` to /dev/null; return wall seconds and peak RSS (KiB)."""
    env = {**os.environ, "MISTRAL_API_KEY": "bench-key", "MCLI_CONFIG_DIR": str(home / "config"),
           "MCLI_DATA_DIR": str(home / "data"), "NO_PROXY": "127.0.0.1",
           "MISTRAL_SERVER_URL": f"http://127.0.0.1:{server.server_address[1]}/d/{dims}"}
    command = [sys.executable, "-m", "mistral_cli", "embeddings", "--input-file", str(corpus), *extra]
    started = time.perf_counter()
    with open(os.devnull, "wb") as sink:
        child = subprocess.Popen(command, stdout=sink, stderr=subprocess.PIPE, env=env, cwd=ROOT)
        _pid, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"mcli failed: {child.stderr.read().decode() if child.stderr else ''}")
    return elapsed, usage.ru_maxrss


def corpus_file(folder: Path, lines: int) -> Path:
    """A file of LINES short sentences."""
    path = folder / f"corpus-{lines}.txt"
    path.write_text("".join(f"sentence number {n} about topic {n % 97}\n" for n in range(lines)))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=4000)
    parser.add_argument("--memory-lines", type=int, default=20000)
    parser.add_argument("--dims", type=int, default=1024)
    args = parser.parse_args()
    server = start()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        small = corpus_file(home, args.lines)
        default, _ = run(server, SMALL_DIMS, small, [], home)
        serial, _ = run(server, SMALL_DIMS, small, ["--concurrency", "1"], home)
        print(f"{args.lines} lines, {SMALL_DIMS}-value vectors, {DELAY * 1000:.0f} ms a request:")
        print(f"  default concurrency: {default:.2f} s; --concurrency 1: {serial:.2f} s; "
              f"ratio {default / serial:.2f}x (target <= 0.35x)")
        big = corpus_file(home, args.memory_lines)
        elapsed, peak = run(server, args.dims, big, [], home)
        held = args.memory_lines * args.dims * 32 / 2**20
        print(f"{args.memory_lines} lines, {args.dims}-value vectors to /dev/null: {elapsed:.1f} s, "
              f"peak RSS {peak / 1024:.1f} MiB (target < 150 MiB; all held at once: ~{held:.0f} MiB)")
    server.shutdown()


if __name__ == "__main__":
    main()
