"""File operations that take more than a call (tag `files`): upload, download, and the signed
URL a request sends a document by (checked); retrieve, delete and the URL's whole answer are
sent through the table (api/operations.py `call`, `fetch_object`); the list through api/lists.py."""

from __future__ import annotations

from pathlib import Path
from shlex import quote
from typing import IO, TYPE_CHECKING

from mistral_cli.api.operations import OPERATIONS, describe, fetch_object
from mistral_cli.bodies.shape import kind
from mistral_cli.errors import UnexpectedResponse
from mistral_cli.http import transfer

if TYPE_CHECKING:  # pragma: no cover - only for annotations: `mcli files --help` never loads httpx
    from mistral_cli.http.client import HTTPClient
    from mistral_cli.http.transfer import Progress


def upload_file(client: HTTPClient, path: Path, *, purpose: str | None = None,
                name: str | None = None, on_progress: Progress | None = None) -> dict:
    """POST /v1/files: stream PATH as multipart `file` (+ `purpose`); return UploadFileOut."""
    fields = {"purpose": purpose} if purpose else None
    operation = OPERATIONS["files.upload"]
    hint = f"see whether it was stored before uploading again: mcli files list --search {quote(name or path.name)}"
    return transfer.upload(client, operation.method, operation.path(), path, effect=operation.effect,
                           name=name, fields=fields, on_progress=on_progress, unsure_hint=hint)


def signed_url(client: HTTPClient, file_id: str) -> str:
    """The signed URL of FILE_ID (GET /v1/files/{file_id}/url), for a request that sends the
    document by it; an answer without a URL string is an UnexpectedResponse, never sent on."""
    url = fetch_object(client, "files.url", file_id).get("url")
    if not isinstance(url, str) or not url.strip():
        raise UnexpectedResponse(describe("files.url", file_id), "url", f"{kind(url)}, not a URL")
    return url


def download_file(client: HTTPClient, file_id: str, dest: Path, *, force: bool = False,
                  on_progress: Progress | None = None) -> int:
    """GET /v1/files/{file_id}/content into DEST (atomically; an existing file replaced only
    with FORCE); return the byte count."""
    return transfer.download(client, OPERATIONS["files.download"].path(file_id), dest, force=force,
                             on_progress=on_progress)


def download_file_to(client: HTTPClient, file_id: str, handle: IO[bytes], *,
                     on_progress: Progress | None = None) -> int:
    """GET /v1/files/{file_id}/content into an open binary HANDLE; return the byte count."""
    return transfer.stream_to(client, OPERATIONS["files.download"].path(file_id), handle, on_progress)
