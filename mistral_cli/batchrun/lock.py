"""One process at a time per batch run: an exclusive lock on a small file per run tag.

The lock is an OS file lock (flock), which the kernel drops when the process ends however
it ends, SIGKILL included, so a killed run never leaves a stale lock behind. The lock files
live in `<data dir>/runs/` (0700). Where flock does not exist (Windows), runs are not locked.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import IO

from mistral_cli.config.paths import data_dir, private_dir, try_lock
from mistral_cli.errors import MCLIError

FOLDER = "runs"


class RunBusy(MCLIError):
    """Another mcli process is running this batch run (exit 1)."""


class RunLock:
    """The locks this process holds on runs, released by `release()` (or by its death)."""

    def __init__(self, environ: Mapping[str, str]):
        self.folder = data_dir(environ) / FOLDER
        self._held: list[IO[bytes]] = []

    def hold(self, tag: str) -> None:
        """Take run TAG's lock without waiting; RunBusy when another process has it."""
        path = self.folder / f"{tag}.lock"
        try:
            private_dir(self.folder, self.folder.parent)
            handle = open(os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600), "rb+")
        except OSError as exc:
            raise MCLIError(f"cannot lock batch run {tag} ({path}): {exc.strerror or exc}") from None
        if not try_lock(handle.fileno()):
            handle.close()
            raise RunBusy(f"batch run {tag} is in progress in another mcli process",
                          hint="wait for it to finish, or start a separate run with --new") from None
        self._held.append(handle)

    def release(self) -> None:
        """Let go of every lock held."""
        while self._held:
            self._held.pop().close()

