"""Latency benchmark: what a user waits for, against the least any Python client must do.

    python bench/bench_startup.py [--runs N]

Each mcli call is measured against a plain script that imports httpx, sends the same request
to the same loopback server and prints the result (bench/baseline_get.py,
bench/baseline_stream.py), in one run, runs interleaved, medians taken. Printed, not
asserted: `mcli models list -o json` and a one-chunk `mcli chat` (targets <= 1.3x), and
`mcli --help` / `--version` against the same plain GET script (no target: they send nothing;
shown to keep start-up in view).
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

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import stream_server  # noqa: E402 - a sibling script, found through the path set above

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


def run_once(argv: list[str], env: dict[str, str]) -> float:
    """Wall time of one run of ARGV."""
    started = time.perf_counter()
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started


def medians(commands: dict[str, tuple[list[str], dict[str, str]]], runs: int) -> dict[str, float]:
    """Median wall time of each command, runs interleaved (one warm-up round first)."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for index in range(runs + 1):
        for name, (argv, env) in commands.items():
            took = run_once(argv, env)
            if index:
                times[name].append(took)
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    runs = parser.parse_args().runs
    models = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=models.serve_forever, daemon=True).start()
    chat = stream_server.start()
    state = tempfile.mkdtemp(prefix="mcli-bench-")
    base = {**os.environ, "MISTRAL_API_KEY": "bench-key",
            "MCLI_CONFIG_DIR": f"{state}/config", "MCLI_DATA_DIR": f"{state}/data"}
    get_env = {**base, "MISTRAL_SERVER_URL": f"http://127.0.0.1:{models.server_port}"}
    chat_env = {**base, "MISTRAL_SERVER_URL": stream_server.url(chat, "tok", 1)}
    py = sys.executable
    mcli = [py, "-m", "mistral_cli"]
    found = medians({
        "empty python": ([py, "-c", "pass"], base),
        "plain GET": ([py, str(HERE / "baseline_get.py")], get_env),
        "plain chat": ([py, str(HERE / "baseline_stream.py")], chat_env),
        "mcli models list -o json": (mcli + ["models", "list", "-o", "json"], get_env),
        "mcli chat hi (1 chunk)": (mcli + ["chat", "hi", "--no-log"], chat_env),
        "mcli --help": (mcli + ["--help"], base),
        "mcli --version": (mcli + ["--version"], base),
    }, runs)
    models.shutdown()
    chat.shutdown()
    print(f"medians of {runs} interleaved runs; empty python {found['empty python'] * 1000:.1f} ms, "
          f"plain httpx GET script {found['plain GET'] * 1000:.1f} ms, "
          f"plain httpx chat script {found['plain chat'] * 1000:.1f} ms")
    for name, floor, target in (("mcli models list -o json", "plain GET", "<= 1.3x"),
                                ("mcli chat hi (1 chunk)", "plain chat", "<= 1.3x"),
                                ("mcli --help", "plain GET", "none"),
                                ("mcli --version", "plain GET", "none")):
        print(f"{name:<26} {found[name] * 1000:7.1f} ms  {found[name] / found[floor]:5.2f}x "
              f"the {floor} script  (target {target})")


if __name__ == "__main__":
    main()
