"""Streaming request-body readers: Content-Length / chunked bodies and a
multipart/form-data parser that never holds a whole part in memory.

File parts are read in chunks, counted, hashed (sha256) and discarded; only
the first ``KEEP_BYTES`` of each part are kept (``content`` is the full
content when the part is no larger than that, else None).
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import BinaryIO, Iterator

READ_SIZE = 256 * 1024
KEEP_BYTES = 1024 * 1024


def iter_body(rfile: BinaryIO, headers) -> Iterator[bytes]:
    """Yield the request body in chunks (Content-Length or chunked)."""
    if "chunked" in (headers.get("Transfer-Encoding") or "").lower():
        while True:
            line = rfile.readline(65537)
            if not line:
                raise ConnectionError("client closed during chunked body")
            size = int(line.split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return
            remaining = size
            while remaining:
                data = rfile.read(min(remaining, READ_SIZE))
                if not data:
                    raise ConnectionError("client closed during chunked body")
                remaining -= len(data)
                yield data
            rfile.readline(65537)  # CRLF after chunk
        return
    remaining = int(headers.get("Content-Length") or 0)
    while remaining > 0:
        data = rfile.read(min(remaining, READ_SIZE))
        if not data:
            raise ConnectionError("client closed before Content-Length bytes were sent")
        remaining -= len(data)
        yield data


@dataclass
class Part:
    """Metadata of one multipart part (content kept only when small)."""

    name: str | None
    filename: str | None
    content_type: str | None
    headers: dict[str, str] = field(default_factory=dict)
    size: int = 0
    sha256: str = ""
    head: bytearray = field(default_factory=bytearray)  # grows in place: a big part costs no copies
    _hash: object = field(default=None, repr=False)
    keep: int = KEEP_BYTES  # the bytes kept of a part (content is None past them)

    @property
    def content(self) -> bytes | None:
        """Full content if the part was small enough to keep, else None."""
        return self.head if self.size <= self.keep else None

    @property
    def value(self) -> str | None:
        """Text value of a small non-file field."""
        c = self.content
        return c.decode("utf-8", "replace") if c is not None else None

    def as_field(self) -> dict:
        return {"name": self.name, "filename": self.filename, "value": self.value,
                "size": self.size, "content_type": self.content_type}


def boundary_of(content_type: str) -> str | None:
    m = re.search(r'boundary="?([^";]+)"?', content_type or "", re.I)
    return m.group(1) if m else None


def _disposition(value: str) -> dict[str, str]:
    params = {}
    for m in re.finditer(r';\s*([\w*-]+)=(?:"((?:[^"\\]|\\.)*)"|([^;]*))', value):
        params[m.group(1).lower()] = m.group(2) if m.group(2) is not None else m.group(3).strip()
    return params


def parse_multipart(chunks: Iterator[bytes], boundary: str,
                    keep: int = KEEP_BYTES) -> tuple[list[Part], int, str | None]:
    """Stream-parse a multipart body; return (parts, total body bytes, error).

    The full body iterator is always consumed (so keep-alive stays in sync)
    even if the body is malformed; ``error`` then describes the problem.
    """
    delim = b"--" + boundary.encode("latin-1")
    inner = b"\r\n" + delim
    parts: list[Part] = []
    buf = b""
    total = 0
    state = "preamble"
    current: Part | None = None
    error = None

    def feed(part: Part, data: bytes) -> None:
        part.size += len(data)
        part._hash.update(data)
        if len(part.head) < part.keep:
            part.head += data[: part.keep - len(part.head)]

    for chunk in chunks:
        total += len(chunk)
        if error or state == "done":
            continue
        buf += chunk
        while True:
            if state == "preamble":
                i = buf.find(delim)
                if i < 0:
                    buf = buf[-len(delim):]
                    break
                buf = buf[i + len(delim):]
                state = "after_delim"
            elif state == "after_delim":
                if len(buf) < 2:
                    break
                if buf[:2] == b"--":
                    state = "done"
                    break
                if buf[:2] != b"\r\n":
                    error = "bad delimiter line"
                    break
                buf = buf[2:]
                state = "headers"
            elif state == "headers":
                i = buf.find(b"\r\n\r\n")
                if i < 0:
                    if len(buf) > 65536:
                        error = "part headers too long"
                    break
                hdrs = {}
                for line in buf[:i].decode("utf-8", "replace").split("\r\n"):
                    if ":" in line:
                        k, v = line.split(":", 1)
                        hdrs[k.strip().lower()] = v.strip()
                disp = _disposition(hdrs.get("content-disposition", ""))
                current = Part(disp.get("name"), disp.get("filename"),
                               hdrs.get("content-type"), hdrs, _hash=hashlib.sha256(), keep=keep)
                parts.append(current)
                buf = buf[i + 4:]
                state = "body"
            elif state == "body":
                i = buf.find(inner)
                if i < 0:
                    keep = len(inner) - 1
                    if len(buf) > keep:
                        feed(current, buf[:-keep])
                        buf = buf[-keep:]
                    break
                feed(current, buf[:i])
                buf = buf[i + len(inner):]
                state = "after_delim"
            else:
                break
    for p in parts:
        p.sha256 = p._hash.hexdigest() if p._hash else ""
        p._hash = None
    if error is None and state != "done":
        error = f"body ended in state {state!r} (missing closing boundary)"
    return parts, total, error
