"""Uploading a local file once: an upload of the same bytes, for the same purpose, to the same
server and profile, is reused instead of sent again (`fine-tuning create` after its
`--dry-run` or after `files upload` of the same file, or a create run twice).

The SHA-256 of the bytes is logged with the file id the server gave them (store/uploads.py).
Before reuse, one GET confirms the file still exists with that size and purpose; a file
that is gone, changed or unreadable is uploaded again and the log corrected.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mistral_cli.batchrun.adopt import answer_id
from mistral_cli.batchrun.fingerprint import file_digest, without_credentials
from mistral_cli.errors import MCLIError, NotFoundError
from mistral_cli.store.runs import journal_path
from mistral_cli.store.uploads import UploadKey, UploadLog

if TYPE_CHECKING:  # pragma: no cover
    from mistral_cli.env import Env

Upload = Callable[[], Any]  # sends the file; returns the decoded UploadFileOut


def upload_once(env: "Env", path: Path, purpose: str, upload: Upload) -> tuple[str, bool]:
    """The file id of PATH's bytes on the server, and whether an earlier upload was reused;
    UPLOAD sends the file when no earlier upload is confirmed."""
    sha, size = file_digest(path)
    key = UploadKey(without_credentials(env.server_url), env.known_profile(), purpose, sha)
    with UploadLog(journal_path(env)) as log:
        earlier = log.find(key)
        if earlier and earlier.bytes == size and _still_there(env, earlier.file_id, size, purpose):
            return earlier.file_id, True
        if earlier:
            log.forget(key)
        body = upload()
        file_id = answer_id(body, "files.upload")
        log.record(key, file_id, size)
        return file_id, False


def remember_upload(env: "Env", path: Path, purpose: str, body: Any) -> None:
    """Log an upload `files upload` made of PATH (its answer BODY), so that a later command
    sending the same bytes for PURPOSE reuses it; a log that cannot be written is a warning."""
    from mistral_cli.store import StoreError

    file_id = body.get("id") if isinstance(body, dict) else None
    if not isinstance(file_id, str):
        return
    try:
        sha, size = file_digest(path)
        key = UploadKey(without_credentials(env.server_url), env.known_profile(), purpose, sha)
        with UploadLog(journal_path(env)) as log:
            log.record(key, file_id, size)
    except (StoreError, OSError) as exc:
        env.warn(f"upload {file_id} is not in the upload log (later commands upload {path} again): {exc}")


def _still_there(env: "Env", file_id: str, size: int, purpose: str) -> bool:
    """Whether FILE_ID is on the server with SIZE bytes and PURPOSE (one GET)."""
    from mistral_cli.api.operations import call

    try:
        body = call(env.client, "files.retrieve", file_id)
    except NotFoundError:
        return False
    except MCLIError as exc:
        env.verbose(f"cannot confirm the earlier upload {file_id}: {exc.message}; uploading again")
        return False
    return (isinstance(body, dict) and body.get("id") == file_id and body.get("bytes") == size
            and body.get("deleted") is not True and body.get("purpose") in (purpose, None))
