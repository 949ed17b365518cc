"""The upload log: which file id the server gave an upload of given bytes, so a later command
(a `fine-tuning create` after its `--dry-run`) can reuse the file instead of sending it again.

An entry is keyed by server, profile, purpose and the bytes' SHA-256; `batchrun/reuse.py`
confirms with one GET that the file still exists, with that size, before reusing it.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from mistral_cli.store import StoreError
from mistral_cli.store.conversations import utc_now
from mistral_cli.store.schema import connect, write_transaction
from mistral_cli.times import iso


@dataclass(frozen=True)
class UploadKey:
    """What makes two uploads the same: where they go, what for, and their bytes."""

    server: str
    profile: str
    purpose: str
    sha256: str


@dataclass(frozen=True)
class Uploaded:
    """A logged upload: the file id the server gave it, its size and when it was sent."""

    file_id: str
    bytes: int
    uploaded_at: str


class UploadLog:
    """The upload log in the local database."""

    def __init__(self, path: Path):
        self.path = Path(path)
        try:
            self._conn = connect(self.path)
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"cannot open the upload log {self.path}: {exc}") from exc

    def __enter__(self) -> "UploadLog":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._conn.close()

    def find(self, key: UploadKey) -> Uploaded | None:
        """The logged upload of KEY's bytes, or None."""
        try:
            row = self._conn.execute(
                "SELECT file_id, bytes, uploaded_at FROM uploads WHERE server = ? AND profile = ? "
                "AND purpose = ? AND sha256 = ?", (key.server, key.profile, key.purpose, key.sha256)).fetchone()
        except sqlite3.Error as exc:
            raise StoreError(f"upload log {self.path}: {exc}") from exc
        return Uploaded(*row) if row else None

    def record(self, key: UploadKey, file_id: str, size: int) -> None:
        """KEY's bytes (SIZE of them) are on the server as FILE_ID."""
        self._write("INSERT OR REPLACE INTO uploads (server, profile, purpose, sha256, bytes, file_id, "
                    "uploaded_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (key.server, key.profile, key.purpose, key.sha256, size, file_id, iso(utc_now())))

    def forget(self, key: UploadKey) -> None:
        """Drop KEY's entry (its file is gone from the server)."""
        self._write("DELETE FROM uploads WHERE server = ? AND profile = ? AND purpose = ? AND sha256 = ?",
                    (key.server, key.profile, key.purpose, key.sha256))

    def _write(self, sql: str, values: tuple) -> None:
        """Run one writing statement in a transaction of its own."""
        try:
            with write_transaction(self._conn):
                self._conn.execute(sql, values)
        except sqlite3.Error as exc:
            raise StoreError(f"upload log {self.path}: {exc}") from exc
