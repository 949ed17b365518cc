"""Streamed uploads and downloads: memory stays flat whatever the file size.

Progress is reported through a plain callback `(done_bytes, total_bytes_or_None)` so that
this layer needs no UI library; commands draw the bar.
"""

from __future__ import annotations

import mimetypes
import os
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from mistral_cli.errors import NetworkError
from mistral_cli.http.body import decoded_chunks
from mistral_cli.http.effect import Effect
from mistral_cli.safe_files import open_new

if TYPE_CHECKING:  # pragma: no cover
    from mistral_cli.http.client import HTTPClient

Progress = Callable[[int, "int | None"], None]


class ProgressReader:
    """A read-only file wrapper that reports how much has been read."""

    def __init__(self, handle: IO[bytes], on_progress: Progress | None, total: int):
        self._handle = handle
        self._on_progress = on_progress
        self._total = total

    def read(self, size: int = -1) -> bytes:
        """Read like the wrapped file, then report the position."""
        chunk = self._handle.read(size)
        if self._on_progress is not None:
            self._on_progress(self._handle.tell(), self._total)
        return chunk

    def fileno(self) -> int:
        """The wrapped file's descriptor (httpx uses it for the length)."""
        return self._handle.fileno()

    def tell(self) -> int:
        """Position in the wrapped file."""
        return self._handle.tell()

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        """Seek the wrapped file."""
        return self._handle.seek(offset, whence)


def upload(client: HTTPClient, method: str, url_path: str, path: Path, *, effect: Effect,
           name: str | None = None, fields: dict[str, str] | None = None,
           on_progress: Progress | None = None, unsure_hint: str | None = None) -> Any:
    """Send PATH as multipart `file` by METHOD to URL_PATH, streamed, retried as EFFECT allows
    (the caller's operation says all three; UNSURE_HINT: what to do when the upload may have
    arrived unanswered); return the decoded body."""
    total = path.stat().st_size
    filename = name or path.name
    mime = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    with path.open("rb") as handle:
        def files() -> dict:
            handle.seek(0)
            return {"file": (filename, ProgressReader(handle, on_progress, total), mime)}

        return client.call(method, url_path, files=files, data=fields or None, effect=effect,
                           unsure_hint=unsure_hint)


def download(client: HTTPClient, url_path: str, dest: Path, *, force: bool = False,
             on_progress: Progress | None = None) -> int:
    """Stream GET URL_PATH into DEST through safe_files.open_new: a temporary file in DEST's
    folder renamed when complete (removed on any failure, Ctrl-C and SIGTERM included), no
    symlink followed, an existing file kept unless FORCE. DEST's folder must exist: none is
    created unasked."""
    with open_new(dest.parent, dest.name, force=force) as handle:
        return stream_to(client, url_path, handle, on_progress)


def stream_to(client: HTTPClient, url_path: str, handle: IO[bytes],
              on_progress: Progress | None = None) -> int:
    """Stream GET URL_PATH into the open binary HANDLE; return the byte count written.

    Content-Length counts the bytes on the wire, which differ from those written when the
    server compresses the body (Content-Encoding): progress and the completeness check use
    the wire count.
    """
    written = 0
    with client.stream("GET", url_path) as response:
        total = _content_length(response.headers)
        for chunk in decoded_chunks(response):
            handle.write(chunk)
            written += len(chunk)
            if on_progress is not None:
                on_progress(response.num_bytes_downloaded, total)
        received = response.num_bytes_downloaded or written  # 0 when httpx preloaded the body
    if total is not None and received != total:
        raise NetworkError(f"download incomplete: {received} of {total} bytes")
    return written


def _content_length(headers: Any) -> int | None:
    value = headers.get("content-length")
    return int(value) if value and value.isdigit() else None
