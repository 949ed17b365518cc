"""Five file operations (tag `files`): upload, retrieve, delete, download, signed URL (the list:
api/lists.py)."""

from __future__ import annotations

from pathlib import Path
from typing import IO, TYPE_CHECKING

from mistral_cli.api.operations import OPERATIONS, call
from mistral_cli.http import transfer

if TYPE_CHECKING:  # pragma: no cover - only for annotations: `mcli files --help` never loads httpx
    from mistral_cli.http.client import HTTPClient
    from mistral_cli.http.transfer import Progress


def upload_file(client: HTTPClient, path: Path, *, purpose: str | None = None,
                name: str | None = None, on_progress: Progress | None = None) -> dict:
    """POST /v1/files: stream PATH as multipart `file` (+ `purpose`); return UploadFileOut."""
    fields = {"purpose": purpose} if purpose else None
    return transfer.upload(client, path, name=name, fields=fields, on_progress=on_progress)


def retrieve_file(client: HTTPClient, file_id: str) -> dict:
    """GET /v1/files/{file_id}; return RetrieveFileOut."""
    return call(client, "files.retrieve", file_id)


def delete_file(client: HTTPClient, file_id: str) -> dict:
    """DELETE /v1/files/{file_id}; return DeleteFileOut."""
    return call(client, "files.delete", file_id)


def signed_url(client: HTTPClient, file_id: str, expiry: int | None = None) -> dict:
    """GET /v1/files/{file_id}/url (expiry in hours); return FileSignedURL."""
    params = {"expiry": expiry} if expiry is not None else None
    return call(client, "files.url", file_id, params=params)


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
