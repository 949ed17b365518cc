"""A loopback chat-completions server for the streaming benchmarks (stdlib only).

    python bench/stream_server.py [--port 8765]

POST {prefix}/v1/chat/completions streams `data: {chat.completion.chunk}` events as fast as
the socket takes them, then `data: [DONE]`. The URL prefix picks the stream, so one server
serves every run: point MISTRAL_SERVER_URL at `http://127.0.0.1:PORT/tok/40000` for 40,000
chunks of "tok ", or at `.../md/20000` for Markdown-shaped text (a heading, a paragraph, a
list and a code block every 40 chunks). Chunks have the API's shape: the first delta
carries the role, the last has finish_reason "stop" and the usage. Bodies are built once
per (shape, count) and sent in 64 KiB HTTP chunks, so the server costs next to nothing.
"""

from __future__ import annotations

import argparse
import json
import re
import threading
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODEL = "mistral-small-latest"
WRITE_SIZE = 64 * 1024
PATH = re.compile(r"/(tok|md)/(\d+)/v1/chat/completions")
MARKDOWN_CYCLE = (["## Section\n\n"] + ["word "] * 15 + ["**bold**.\n\n"] + ["- item\n"] * 6
                  + ["\n```python\n"] + ["x = 1\n"] * 15 + ["```\n\n"])  # 40 deltas


def deltas(shape: str, count: int) -> list[str]:
    """COUNT content deltas of SHAPE: 'tok' (plain tokens) or 'md' (Markdown-shaped)."""
    if shape == "tok":
        return ["tok "] * count
    return (MARKDOWN_CYCLE * (count // len(MARKDOWN_CYCLE) + 1))[:count]


def chunk(delta: dict, finish_reason: str | None = None, usage: dict | None = None) -> bytes:
    """One SSE event holding a chat.completion.chunk."""
    body = {"id": "cmpl-bench", "object": "chat.completion.chunk", "created": 1700000000,
            "model": MODEL, "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}]}
    if usage is not None:
        body["usage"] = usage
    return b"data: " + json.dumps(body, separators=(",", ":")).encode() + b"\n\n"


@lru_cache(maxsize=16)
def stream_body(shape: str, count: int) -> bytes:
    """The whole event stream for SHAPE and COUNT."""
    events = [chunk({"role": "assistant", "content": ""})]
    events += [chunk({"content": text}) for text in deltas(shape, count)]
    usage = {"prompt_tokens": 5, "completion_tokens": count, "total_tokens": count + 5}
    events.append(chunk({"content": ""}, "stop", usage))
    events.append(b"data: [DONE]\n\n")
    return b"".join(events)


class Handler(BaseHTTPRequestHandler):
    """Answers the chat completions route; 404 for anything else."""

    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        match = PATH.fullmatch(self.path)
        if match is None:
            self.send_error(404)
            return
        body = stream_body(match.group(1), int(match.group(2)))
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Connection", "close")
        self.end_headers()
        for start in range(0, len(body), WRITE_SIZE):
            piece = body[start:start + WRITE_SIZE]
            self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()
        self.close_connection = True

    def log_message(self, *args: object) -> None:
        """Quiet."""


def start(port: int = 0) -> ThreadingHTTPServer:
    """Start a server on 127.0.0.1 in a daemon thread; its URL is `url(server)`."""
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def url(server: ThreadingHTTPServer, shape: str, count: int) -> str:
    """The MISTRAL_SERVER_URL that makes SERVER stream COUNT chunks of SHAPE."""
    return f"http://127.0.0.1:{server.server_address[1]}/{shape}/{count}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print(f"serving on {url(server, 'tok', 40000)} (or .../md/N)", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
