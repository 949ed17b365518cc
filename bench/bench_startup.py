"""Start-up benchmark: mcli against a bare Typer app, path for path, measured in one run.

    python bench/bench_startup.py [--runs N]

Prints medians and ratios (not asserted): `mcli --help` and `mcli --version` against the bare
app's `--help`; `mcli models list -o json` against the same GET done with plain httpx inside
the bare app, both against one loopback server, with MISTRAL_API_KEY set.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HERE = Path(__file__).resolve().parent
MODELS = {"object": "list", "data": [
    {"id": f"model-{i}", "object": "model", "created": 1700000000 + i, "owned_by": "mistralai",
     "type": "base", "max_context_length": 32768,
     "capabilities": {"completion_chat": True, "function_calling": True}} for i in range(20)]}
BODY = json.dumps(MODELS).encode()


class Handler(BaseHTTPRequestHandler):
    """Answers every GET with the model list."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, *_args) -> None:
        pass


def median_time(argv: list[str], env: dict[str, str], runs: int) -> float:
    """Median wall time of running ARGV RUNS times (after one warm-up)."""
    times = []
    for index in range(runs + 1):
        started = time.perf_counter()
        subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        if index:
            times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    runs = parser.parse_args().runs
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = {**os.environ, "MISTRAL_API_KEY": "bench-key",
           "MISTRAL_SERVER_URL": f"http://127.0.0.1:{server.server_port}",
           "MCLI_CONFIG_DIR": str(HERE / ".bench-config"), "MCLI_DATA_DIR": str(HERE / ".bench-data")}
    py = sys.executable
    bare = [py, str(HERE / "bare_app.py")]
    mcli = [py, "-m", "mistral_cli"]
    empty = median_time([py, "-c", "pass"], env, runs)
    floor_help = median_time(bare + ["--help"], env, runs)
    floor_get = median_time(bare + ["get"], env, runs)
    rows = [
        ("mcli --help", median_time(mcli + ["--help"], env, runs), floor_help, 1.2),
        ("mcli --version", median_time(mcli + ["--version"], env, runs), floor_help, 1.2),
        ("mcli models list -o json", median_time(mcli + ["models", "list", "-o", "json"], env, runs), floor_get, 1.5),
    ]
    server.shutdown()
    print(f"empty python: {empty * 1000:.1f} ms; bare typer --help: {floor_help * 1000:.1f} ms; "
          f"bare typer + httpx GET: {floor_get * 1000:.1f} ms  (median of {runs})")
    for name, took, floor, target in rows:
        print(f"{name:<28} {took * 1000:7.1f} ms  {took / floor:5.2f}x its floor  (target <= {target}x)")


if __name__ == "__main__":
    main()
