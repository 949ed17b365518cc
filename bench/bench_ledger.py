"""The ledger's cost: per billed answer recorded, and at the start-up of commands that bill nothing.

    python bench/bench_ledger.py [--records N] [--runs N] [--before DIR]

1. In one process: `store.ledger.note` on N embeddings answers (one SQLite transaction each,
   WAL, synchronous=NORMAL), the first one (which opens the database) shown apart.
2. What a command that bills nothing loads: after `mcli models list` and `mcli config list`,
   none of sqlite3, store.ledger, config.prices may be imported.
3. With --before DIR (a copy of the package before the ledger, e.g. `git archive main | tar -x
   -C DIR`): `mcli models list -o json` and `mcli embeddings x` against a loopback server,
   before and after, runs interleaved, medians. Printed, not asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MODELS = json.dumps({"object": "list", "data": [{"id": f"m{i}", "object": "model"} for i in range(20)]}).encode()
EMBEDDING = json.dumps({"id": "e", "object": "list", "model": "mistral-embed",
                        "usage": {"prompt_tokens": 3, "completion_tokens": 0, "total_tokens": 3},
                        "data": [{"object": "embedding", "index": 0, "embedding": [0.1] * 8}]}).encode()


class Handler(BaseHTTPRequestHandler):
    """GET: a model list; POST: an embeddings answer."""

    protocol_version = "HTTP/1.1"

    def _answer(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802
        self._answer(MODELS)

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._answer(EMBEDDING)

    def log_message(self, *_args: object) -> None:
        pass


def record_cost(count: int, data: str) -> None:
    """Milliseconds per recorded answer, in process."""
    os.environ["MCLI_DATA_DIR"] = data
    sys.path.insert(0, str(REPO))
    from mistral_cli.app import _ledger
    from mistral_cli.env import Env

    body = json.loads(EMBEDDING)
    firsts = []
    for _ in range(2):  # the first creates the database, the second opens it (the usual case)
        env = Env(environ=dict(os.environ))
        started = time.perf_counter()
        _ledger(env, "embeddings.embed", body, {})
        firsts.append(time.perf_counter() - started)
        env.close()
    env = Env(environ=dict(os.environ))
    _ledger(env, "embeddings.embed", body, {})
    started = time.perf_counter()
    for _ in range(count):
        _ledger(env, "embeddings.embed", body, {})
    each = (time.perf_counter() - started) / count
    env.close()
    print(f"recording: first answer of a process {firsts[1] * 1000:.2f} ms (opens the database; "
          f"{firsts[0] * 1000:.2f} ms when it creates it), then {each * 1000:.3f} ms per answer over {count}")


LOADED = ("import sys, os; from mistral_cli.app import main; from mistral_cli.env import Env; "
          "main({argv!r}, Env(environ=dict(os.environ))); "
          "print([m for m in ('sqlite3', 'mistral_cli.store.ledger', 'mistral_cli.config.prices') "
          "if m in sys.modules])")


def loaded_by(argv: list[str], env: dict[str, str]) -> str:
    """The ledger's modules a run of ARGV imported."""
    out = subprocess.run([sys.executable, "-c", LOADED.format(argv=argv)], env=env, capture_output=True,
                         text=True, check=False)
    return out.stdout.strip().splitlines()[-1] if out.stdout.strip() else out.stderr[-300:]


def timed(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "mistral_cli", *argv], env=env, capture_output=True, check=True)
    return time.perf_counter() - started


def compare(before: str, env: dict[str, str], runs: int) -> None:
    """Medians of a non-billing and a billing command, before and after the ledger."""
    for argv in (["models", "list", "-o", "json"], ["embeddings", "x", "--no-stdin"]):
        times: dict[str, list[float]] = {"before": [], "after": []}
        for _ in range(runs + 1):
            for label, path in (("before", before), ("after", str(REPO))):
                times[label].append(timed(argv, {**env, "PYTHONPATH": path}))
        old, new = (statistics.median(times[k][1:]) for k in ("before", "after"))
        print(f"mcli {' '.join(argv)}: before {old * 1000:.1f} ms, after {new * 1000:.1f} ms "
              f"({(new - old) * 1000:+.1f} ms, medians of {runs})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--before", help="a copy of the package before the ledger")
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "MCLI_CONFIG_DIR": f"{tmp}/config", "MCLI_DATA_DIR": f"{tmp}/data",
               "MISTRAL_API_KEY": "bench-key", "MISTRAL_SERVER_URL": f"http://127.0.0.1:{server.server_port}",
               "PYTHONPATH": str(REPO)}
        for argv in (["models", "list", "-o", "json"], ["config", "list"]):
            print(f"mcli {' '.join(argv)} imported: {loaded_by(argv, env)}")
        record_cost(args.records, f"{tmp}/inproc")
        if args.before:
            compare(args.before, env, args.runs)
    server.shutdown()


if __name__ == "__main__":
    main()
