"""Answers already paid for, kept in the data folder so that a resume does not pay again.

When a run that sends texts in groups (embeddings, classifiers) stops midway (a group that
fails for good, bad input, a full disk, Ctrl-C, an internal error), the groups that were
answered but not written are kept here; an OCR answer that could not be written is kept too.
One private JSON file an answer, named by a SHA-256 over everything that makes it the answer
to one request: the operation and its options (model, ...), the server (normalised URL), the
account (a SHA-256 of the API key, never the key) and the request's inputs (for a group: its
texts and the number of its first input). Only the same request to the same server with the
same account finds it, so another server's or another account's answer never stands in for
a real one. A kept answer is used once (forgotten once its output is written), and after a
week it is deleted unused. The command says on stderr how many kept answers it used and
when they were kept.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mistral_cli.config.paths import data_dir, private_dir
from mistral_cli.times import iso

if TYPE_CHECKING:  # pragma: no cover
    from mistral_cli.env import Env

FOLDER = "kept-answers"
FORMAT = "mcli-kept-answer/2"  # changes if what goes into a key or a file changes
WAIT_SECONDS = 300.0  # the longest wait for an answer already in flight after a failure
KEEP_SECONDS = 7 * 24 * 3600.0  # a kept answer older than a week is deleted, never used
CLOCK_SLACK = 300.0  # a kept answer "from the future" by more than this is not trusted
DEFAULT_PORTS = {"http": 80, "https": 443}


def normal_server(url: str) -> str:
    """URL as one server: scheme and host in lower case, no default port, no user name or
    password, no trailing slash (HTTP://Host:443/ and https://host are one server)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url.strip())
        scheme, host, port = parts.scheme.lower(), (parts.hostname or "").lower(), parts.port
    except ValueError:
        return url.strip()
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port is None or DEFAULT_PORTS.get(scheme) == port else f"{host}:{port}"
    return f"{scheme}://{netloc}{parts.path.rstrip('/')}"


def account_of(key: str) -> str:
    """The account fingerprint of an API key: a SHA-256 of it (the key is never stored)."""
    return hashlib.sha256(b"mcli-account/1\0" + key.encode("utf-8", "surrogatepass")).hexdigest()


class KeptAnswers:
    """The kept answers of one operation with its options, for this server and account."""

    def __init__(self, env: "Env", operation: str, options: Mapping[str, Any]):
        self._folder = data_dir(env.environ) / FOLDER
        self._scope = {"format": FORMAT, "operation": operation, "options": dict(options),
                       "server": normal_server(env.server_url), "account": account_of(env.credential().key)}
        self._lock = threading.Lock()
        self._taken: set[Path] = set()  # loaded from here: still kept, not to be saved again
        self.used: list[float] = []  # when each kept answer used here was kept
        self.kept = 0  # answers kept by this process
        sweep(self._folder)

    def path(self, request: Any) -> Path:
        """Where the answer to REQUEST (the request's inputs, as JSON) is kept."""
        key = json.dumps({**self._scope, "request": request}, sort_keys=True, ensure_ascii=False)
        return self._folder / f"{hashlib.sha256(key.encode('utf-8', 'surrogatepass')).hexdigest()}.json"

    def take(self, request: Any) -> dict | None:
        """The kept answer to REQUEST (recorded as used), or None; an expired one is deleted."""
        path = self.path(request)
        try:
            saved = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        kept_at = saved.get("kept_at") if isinstance(saved, dict) else None
        body = saved.get("body") if isinstance(saved, dict) else None
        if not _fresh(kept_at) or not isinstance(body, dict) or saved.get("format") != FORMAT:
            _unlink(path)
            return None
        with self._lock:
            self._taken.add(path)
            self.used.append(float(kept_at))
        return body

    def forget(self, request: Any) -> None:
        """Drop the kept answer to REQUEST (its output is written)."""
        path = self.path(request)
        with self._lock:
            self._taken.discard(path)
        _unlink(path)

    def keep(self, request: Any, body: Any) -> bool:
        """Keep BODY as the answer to REQUEST (unless it is kept already); False on failure."""
        path = self.path(request)
        if not isinstance(body, dict):
            return False
        if path in self._taken:
            return True
        if not self._save(path, {"format": FORMAT, "kept_at": time.time(), "body": body}):
            return False
        with self._lock:
            self.kept += 1
        return True

    def keep_answered(self, pending: Iterable[tuple[Any, Future]], request_of: Callable[[Any], Any], *,
                      wait: bool) -> int:
        """Keep the answer of each (item, future) of PENDING that has one, REQUEST_OF(item)
        being its request; with WAIT, wait for those in flight (within WAIT_SECONDS). The
        number kept."""
        count = 0
        for item, future in list(pending):
            if not wait and not future.done():
                continue
            try:
                body = future.result(timeout=WAIT_SECONDS)
            except Exception:  # noqa: BLE001 - a request that failed too is simply sent again
                continue
            count += self.keep(request_of(item), body)
        return count

    def report(self, env: "Env") -> None:
        """Say on stderr how many kept answers were used, and when they were kept."""
        if not self.used:
            return
        first, last = iso(min(self.used)), iso(max(self.used))
        when = first if first == last else f"between {first} and {last}"
        env.info(f"used {len(self.used)} kept answer(s) instead of sending those requests again "
                 f"(kept {when} by an earlier run against this server and account)")

    def _save(self, path: Path, saved: dict) -> bool:
        """Keep SAVED at PATH (a temporary file renamed, 0600); False on failure."""
        try:
            private_dir(path.parent)
            temp = path.with_suffix(".part")
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(saved, handle, ensure_ascii=False)
            os.replace(temp, path)
        except (OSError, ValueError):
            return False
        return True


def _fresh(kept_at: Any) -> bool:
    """Whether an answer kept at KEPT_AT (a unix time) is less than a week old."""
    if not isinstance(kept_at, (int, float)) or isinstance(kept_at, bool):
        return False
    age = time.time() - kept_at
    return -CLOCK_SLACK <= age < KEEP_SECONDS


def sweep(folder: Path) -> None:
    """Delete the files in FOLDER last written more than a week ago (answers never used,
    temporary files left by a killed process)."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    limit = time.time() - KEEP_SECONDS
    for entry in entries:
        try:
            if entry.is_file(follow_symlinks=False) and entry.stat(follow_symlinks=False).st_mtime < limit:
                os.unlink(entry.path)
        except OSError:
            continue


def _unlink(path: Path) -> None:
    """Remove PATH if it is there."""
    try:
        path.unlink(missing_ok=True)
    except OSError:
        pass
