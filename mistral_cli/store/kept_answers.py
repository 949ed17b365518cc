"""Answers already paid for, kept in the data folder for the resume of a run that stopped.

When one batch of a batched run (embeddings, classifiers) fails for good, the batches after it
that were in flight have been sent and billed. Their output cannot be written yet (output
stays in input order), so their answers are kept in the data dir, one private JSON file a
batch, named by a hash of (operation, model, the batch's texts). The resume (`--skip N`)
answers those batches from here instead of sending them again, and forgets each file once its
lines are written.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mistral_cli.config.paths import data_dir, private_dir
from mistral_cli.errors import MCLIError

if TYPE_CHECKING:  # pragma: no cover
    from mistral_cli.env import Env

FOLDER = "kept-answers"
WAIT_SECONDS = 300.0  # the longest wait for an answer already in flight after a failure


class KeptAnswers:
    """The kept answers of one kind of request (operation and model)."""

    def __init__(self, env: "Env", operation: str, model: str):
        self._folder = data_dir(env.environ) / FOLDER
        self._kind = [operation, model]

    def path(self, texts: list[str]) -> Path:
        """Where the answer to TEXTS is kept."""
        key = json.dumps([*self._kind, texts], ensure_ascii=False).encode("utf-8", "surrogatepass")
        return self._folder / f"{hashlib.sha256(key).hexdigest()}.json"

    def reusing(self, send: Callable[[list[str]], dict]) -> Callable[[list[str]], dict]:
        """SEND, answered from a kept answer when there is one."""
        def send_or_reuse(texts: list[str]) -> dict:
            kept = self._load(texts)
            return kept if kept is not None else send(texts)
        return send_or_reuse

    def _load(self, texts: list[str]) -> dict | None:
        try:
            body = json.loads(self.path(texts).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return body if isinstance(body, dict) else None

    def forget(self, texts: list[str]) -> None:
        """Drop the kept answer to TEXTS (its lines are written)."""
        try:
            self.path(texts).unlink(missing_ok=True)
        except OSError:
            pass

    def keep_answered(self, pending: Iterable[tuple[Any, Future]], error: MCLIError) -> None:
        """Wait for the batches still in flight and keep those answered; say so on ERROR."""
        count = 0
        for batch, future in list(pending):
            try:
                body = future.result(timeout=WAIT_SECONDS)
            except Exception:  # noqa: BLE001 - a batch that failed too is simply sent again
                continue
            if isinstance(body, dict) and self._save(batch.texts, body):
                count += 1
        if count:
            error.details.append(f"{count} later batch(es) already answered are kept: "
                                 "the resume will not send them again")

    def _save(self, texts: list[str], body: dict) -> bool:
        """Keep BODY as the answer to TEXTS (a temporary file renamed, 0600); False on failure."""
        path = self.path(texts)
        try:
            private_dir(path.parent)
            temp = path.with_suffix(".part")
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(body, handle, ensure_ascii=False)
            os.replace(temp, path)
        except (OSError, ValueError):
            return False
        return True
