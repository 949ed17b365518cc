"""The one writer of mcli's local state: config.toml, credentials.toml, the id cache, kept
answers, the REPL history.

A write never goes through a name another process could have prepared: the folder is made
private and checked first (config/paths.py: private_dir refuses a folder of another user or
one others can write in), the content goes to a new temporary file beside the target
(`.NAME.PID-RANDOM.tmp`, created with O_EXCL and O_NOFOLLOW, mode 0600, so a link planted
under any name is never followed), is flushed to disk (fsync) and is renamed over the target,
which replaces a link there rather than writing through it. Readers see the old file or the
new one, never a half-written one. On any failure the temporary file is removed; one left by
a process killed with SIGKILL is removed by the next process that writes into that folder.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

from mistral_cli.config.paths import private_dir
from mistral_cli.safe_files import remove_stale, temp_name

FLAGS = (os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
         | getattr(os, "O_BINARY", 0))
MODE = 0o600
ATTEMPTS = 8
STALE_TEMP = re.compile(r"\..+\.(?P<pid>\d+)-[0-9a-f]{8}\.tmp")
_READY: set[tuple[Path, Path | None]] = set()  # the folders this process has prepared already


def write_private(path: Path, data: str | bytes, *, root: Path | None = None, durable: bool = True) -> Path:
    """Replace PATH with DATA (text is written as UTF-8), mode 0600, in a private folder
    checked from ROOT down (the config or data folder); return PATH. DURABLE off skips the
    fsync, for a cache that is cheaper to rebuild than to wait for the disk (the id cache,
    rewritten under a lock that parallel commands queue on)."""
    payload = data.encode("utf-8") if isinstance(data, str) else data

    def fill(fd: int) -> None:
        view = memoryview(payload)
        while view:
            view = view[os.write(fd, view):]

    _replace(path, root, fill, durable)
    return path


def replace_private(path: Path, fill: Callable[[Path], None], *, root: Path | None = None) -> Path:
    """Replace PATH with what FILL writes to the temporary file whose path it is given (for
    writers that take a path, such as readline's); the same guarantees as write_private."""
    temp, fd = _start(path, root)
    os.close(fd)
    try:
        fill(temp)
        _fsync_path(temp)
        os.replace(temp, path)
    except BaseException:
        _discard(temp)
        raise
    return path


def _replace(path: Path, root: Path | None, fill: Callable[[int], None], durable: bool) -> None:
    """Write through FILL into a new temporary file beside PATH, flush it (if DURABLE) and
    rename it to PATH."""
    temp, fd = _start(path, root)
    try:
        try:
            fill(fd)
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, path)
    except BaseException:
        _discard(temp)
        raise


def prepare(folder: Path, root: Path | None = None) -> Path:
    """FOLDER made private and checked from ROOT down (private_dir), and cleared of the
    temporary files of dead processes: once per process (a writer under a lock calls it before
    taking the lock, so the lock is held for the write alone)."""
    if (folder, root) not in _READY:
        private_dir(folder, root)
        remove_stale(folder, STALE_TEMP)
        _READY.add((folder, root))
    return folder


def _start(path: Path, root: Path | None) -> tuple[Path, int]:
    """PATH's folder prepared and a new temporary file in it."""
    return _new_temp(prepare(path.parent, root), path.name)


def _new_temp(folder: Path, name: str) -> tuple[Path, int]:
    """A new, exclusively created 0600 temporary file in FOLDER for a write of NAME, and its descriptor."""
    for _attempt in range(ATTEMPTS):
        temp = folder / temp_name(name, ".tmp")
        try:
            fd = os.open(temp, FLAGS, MODE)
        except FileExistsError:
            continue
        if hasattr(os, "fchmod"):
            os.fchmod(fd, MODE)  # whatever the umask
        return temp, fd
    raise FileExistsError(f"no free temporary name in {folder}")


def _fsync_path(path: Path) -> None:
    """Flush the file at PATH (never a link there) to disk."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _discard(temp: Path) -> None:
    """Remove TEMP if it is still there."""
    try:
        temp.unlink()
    except OSError:
        pass
