"""Canned responses for FakeAPI, plus the error-body shapes the real
Mistral API (and proxies in front of it) produce.

A response object has ``write(handler)`` which writes status, headers and
body to a ``BaseHTTPRequestHandler``.
"""
from __future__ import annotations

import json
import re
import socket
import time
from dataclasses import dataclass, field
from typing import Any, Iterable

MiB = 1024 * 1024


def pattern_bytes(offset: int, length: int) -> bytes:
    """Deterministic content for generated downloads: byte i is ``i % 251``
    (a prime period, so shifted or dropped chunks are detected)."""
    start = offset % 251
    period = bytes(range(251))
    reps = (start + length) // 251 + 1
    return (period * reps)[start:start + length]


def expected_bytes(total_size: int) -> bytes:
    """The full content a ``bytes_response(total_size)`` sends (small sizes!)."""
    return pattern_bytes(0, total_size)


def _send_head(handler, status: int, headers: dict[str, str]) -> None:
    handler.send_response(status)
    for k, v in headers.items():
        handler.send_header(k, v)
    handler.end_headers()


def _write_chunk(handler, data: bytes) -> None:
    if data:
        handler.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        handler.wfile.flush()


def _end_chunks(handler) -> None:
    handler.wfile.write(b"0\r\n\r\n")
    handler.wfile.flush()


def _cut(handler) -> None:
    """Close the connection abruptly, mid-body."""
    handler.wfile.flush()
    handler.close_connection = True
    try:
        handler.connection.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


class Cut:
    """A reply that never comes: the connection is closed without a response."""

    def write(self, handler) -> None:
        _cut(handler)


class Drop:
    """No answer at all: the connection is closed as soon as the request arrives."""

    def write(self, handler) -> None:
        handler.close_connection = True
        try:
            handler.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


@dataclass
class Response:
    """A complete body sent with Content-Length."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = "application/json"

    def write(self, handler) -> None:
        headers = dict(self.headers)
        if self.content_type and not any(k.lower() == "content-type" for k in headers):
            headers["Content-Type"] = self.content_type
        headers["Content-Length"] = str(len(self.body))
        _send_head(handler, self.status, headers)
        if handler.command != "HEAD":
            handler.wfile.write(self.body)
        handler.wfile.flush()

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass
class SSEResponse:
    """A text/event-stream body sent with chunked transfer encoding.

    ``cut_after=N`` writes N events, then closes the socket mid-body (no
    ``[DONE]``, no terminating chunk)."""

    events: list = field(default_factory=list)
    done: bool = True
    delay: float = 0.0
    cut_after: int | None = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)

    def write(self, handler) -> None:
        headers = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache",
                   "Transfer-Encoding": "chunked", **self.headers}
        _send_head(handler, self.status, headers)
        for i, event in enumerate(self.events):
            if self.cut_after is not None and i >= self.cut_after:
                return _cut(handler)
            if i and self.delay:
                time.sleep(self.delay)
            _write_chunk(handler, sse_encode(event))
        if self.cut_after is not None:   # all events sent, [DONE] never comes
            return _cut(handler)
        if self.done:
            if self.delay:
                time.sleep(self.delay)
            _write_chunk(handler, b"data: [DONE]\n\n")
        _end_chunks(handler)


def sse_encode(event: Any) -> bytes:
    """dict -> ``data: {json}\\n\\n``; str/bytes are sent raw (add your own framing)."""
    if isinstance(event, bytes):
        return event
    if isinstance(event, str):
        return event.encode("utf-8")
    return b"data: " + json.dumps(event).encode("utf-8") + b"\n\n"


@dataclass
class BytesResponse:
    """A generated download of ``total_size`` bytes of ``pattern_bytes``."""

    total_size: int
    chunk: int = MiB
    cut_after_bytes: int | None = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    content_length: bool = False   # True: send Content-Length instead of chunked
    content_type: str = "application/octet-stream"

    def write(self, handler) -> None:
        headers = {"Content-Type": self.content_type}
        if self.content_length:
            headers["Content-Length"] = str(self.total_size)
        else:
            headers["Transfer-Encoding"] = "chunked"
        headers.update(self.headers)
        _send_head(handler, self.status, headers)
        sent = 0
        limit = self.total_size if self.cut_after_bytes is None else min(
            self.total_size, self.cut_after_bytes)
        while sent < limit:
            n = min(self.chunk, limit - sent)
            data = pattern_bytes(sent, n)
            if self.content_length:
                handler.wfile.write(data)
            else:
                _write_chunk(handler, data)
            sent += n
        if self.cut_after_bytes is not None and self.cut_after_bytes < self.total_size:
            return _cut(handler)
        if not self.content_length:
            _end_chunks(handler)
        handler.wfile.flush()


# ---- constructors --------------------------------------------------------

def json_response(body: Any, status: int = 200, headers: dict | None = None) -> Response:
    return Response(status, json.dumps(body).encode("utf-8"), dict(headers or {}))


def text_response(text: str, status: int = 200, headers: dict | None = None,
                  content_type: str = "text/plain; charset=utf-8") -> Response:
    return Response(status, text.encode("utf-8"), dict(headers or {}), content_type)


def empty_response(status: int = 204, headers: dict | None = None) -> Response:
    return Response(status, b"", dict(headers or {}), None)


def sse_response(events: Iterable[Any], done: bool = True, delay: float = 0.0,
                 cut_after: int | None = None, status: int = 200,
                 headers: dict | None = None) -> SSEResponse:
    return SSEResponse(list(events), done, delay, cut_after, status, dict(headers or {}))


def bytes_response(total_size: int, chunk: int = MiB, cut_after_bytes: int | None = None,
                   status: int = 200, headers: dict | None = None,
                   content_length: bool = False) -> BytesResponse:
    return BytesResponse(total_size, chunk, cut_after_bytes, status, dict(headers or {}),
                         content_length)


# ---- the error shapes the real API produces -----------------------------

def error_400(message: str = "Invalid model: foo", headers: dict | None = None) -> Response:
    return json_response({"object": "error", "message": message,
                          "type": "invalid_request_error", "param": None, "code": None},
                         400, headers)


def error_401_detail(headers: dict | None = None) -> Response:
    return json_response({"detail": "Unauthorized"}, 401, headers)


def error_401_message(request_id: str = "req-123", headers: dict | None = None) -> Response:
    return json_response({"message": "Unauthorized", "request_id": request_id}, 401, headers)


def error_422(loc=("body", "temperature"), msg="Input should be less than or equal to 1.5",
              type_="less_than_equal", headers: dict | None = None) -> Response:
    return json_response({"detail": [{"loc": list(loc), "msg": msg, "type": type_}]},
                         422, headers)


def error_429(retry_after: str | None = "0", message: str = "Requests rate limit exceeded",
              headers: dict | None = None) -> Response:
    h = dict(headers or {})
    if retry_after is not None:
        h["Retry-After"] = retry_after
    return json_response({"message": message}, 429, h)


def error_proxy_text(status: int = 502, text: str = "Bad Gateway",
                     headers: dict | None = None) -> Response:
    return text_response(text, status, headers)


def error_empty(status: int = 500, headers: dict | None = None) -> Response:
    return Response(status, b"", dict(headers or {}), None)


_VIOLATION = re.compile(r"\): (?:(\w+): )?at ([^:]*): (.*)$", re.S)


def invalid_request(violations: list[str]) -> Response:
    """The API's 422 answer to a request the spec refuses, one `detail` entry per VIOLATIONS
    line, its `loc` naming the field (`["body", "messages", "0", "role"]`)."""
    detail = []
    for violation in violations:
        found = _VIOLATION.search(violation)
        if found:
            where = [] if found.group(2) == "<root>" else found.group(2).split("/")
            detail.append({"loc": [found.group(1) or "body", *where], "msg": found.group(3),
                           "type": "value_error"})
        else:
            detail.append({"loc": ["request"], "msg": violation.split(": ", 1)[-1], "type": "value_error"})
    return json_response({"detail": detail}, 422)
