"""Writing a file whose name or content comes from the server, safely: the one helper every
such write goes through (downloads, batch results, OCR pages and images).

- The name is one plain path component (no `/`, `\\`, `..`, NUL or control character, not
  absolute): the file lands in the folder the user chose, never elsewhere.
- The content goes to a new temporary file in that folder (created with O_EXCL and
  O_NOFOLLOW, so a symlink planted under its name is never followed), which is renamed to
  the name when complete; on any failure (a full disk, a cut download, Ctrl-C) it is
  removed and the error names the file. A truncated file never appears under the name.
- An existing file is kept unless `force`. Without `force` the final step is a hard link,
  which the kernel refuses when the name exists, so even a file (or symlink) that appears
  while a download runs is kept. With `force` the name is replaced by a rename, which
  replaces a symlink itself and never writes through it: the link's target stays untouched.
  A device, a pipe or a folder under the name is never replaced, `force` or not.
- New files get the ordinary mode, 0666 minus the umask.
- A temporary name carries the writer's pid (`.NAME.PID-RANDOM.part`): what a process killed
  with SIGKILL left behind (no clean-up runs then) is removed by the next write into that
  folder, once its process is gone (`remove_stale`, also used for mcli's other leftovers).

No fsync: a power cut can lose a file just written (never the old one it replaced on
journalling file systems), which matches what ordinary tools such as curl -o do.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from mistral_cli.errors import MCLIError, UsageError

NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
BINARY = getattr(os, "O_BINARY", 0)
TEMP_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | NOFOLLOW | BINARY
NEW_FILE_MODE = 0o666  # the umask is applied by the kernel, as for any new file
TEMP_PREFIX_CHARS = 48  # a temporary name stays far below NAME_MAX (255 bytes)
TEMP_ATTEMPTS = 8
NO_HARD_LINKS = {errno.EPERM, errno.EXDEV, errno.EMLINK, getattr(errno, "ENOTSUP", errno.EPERM),
                 getattr(errno, "EOPNOTSUPP", errno.EPERM), errno.ENOSYS}
STALE_PART = re.compile(r"\..+\.(?P<pid>\d+)-[0-9a-f]{8}\.part")
USES_DIR_FD = all(call in os.supports_dir_fd for call in (os.open, os.stat, os.rename, os.link, os.unlink))


def plain_name(name: str) -> str:
    """NAME if it is one plain path component, else a UsageError naming it."""
    if (not isinstance(name, str) or name in ("", ".", "..") or "/" in name or "\\" in name
            or any(not char.isprintable() for char in name) or len(name.encode("utf-8", "replace")) > 255):
        raise UsageError(f"cannot save a file named {name!r}: not a plain file name")
    return name


def refuse_existing(directory: Path, name: str, force: bool) -> Path:
    """DIRECTORY/NAME, or a UsageError if it exists (a symlink too) and FORCE is off, or if
    it is something no download should replace (a device, a pipe, a folder): the check to
    make before any request, so a refused run costs nothing."""
    path = directory / plain_name(name)
    _refuse_taken(None, directory, name, force, path)
    return path


def _refuse_taken(folder_fd: int | None, directory: Path, name: str, force: bool, path: Path) -> None:
    """Raise if NAME in the folder is taken and FORCE is off, or is not a file or a symlink."""
    try:
        mode = os.stat(_at(folder_fd, directory, name), dir_fd=folder_fd, follow_symlinks=False).st_mode
    except OSError:
        return  # free, or an unreadable folder that the write itself will report
    if not (stat.S_ISREG(mode) or stat.S_ISLNK(mode)):
        raise UsageError(f"{path} is not a regular file; not replaced")
    if not force:
        raise _exists(path)


@contextmanager
def open_new(directory: Path, name: str, *, force: bool = False) -> Iterator[BinaryIO]:
    """Yield a binary handle on a temporary file in DIRECTORY that becomes DIRECTORY/NAME when
    the block ends cleanly; on any exception it is removed (an OSError becomes an MCLIError
    naming the file, exit 1)."""
    path = refuse_existing(directory, name, force)
    with _folder(directory, path) as folder_fd:
        _sweep_once(directory)
        temp, handle = _create_temp(folder_fd, directory, name, path)
        try:
            with handle:
                yield handle
            _commit(folder_fd, directory, temp, name, force, path)
        except OSError as exc:
            _discard(folder_fd, directory, temp)
            raise MCLIError(f"cannot save to {path}: {exc.strerror or exc}; nothing was saved") from None
        except BaseException:
            _discard(folder_fd, directory, temp)
            raise


def write_bytes(directory: Path, name: str, data: bytes, *, force: bool = False) -> Path:
    """Write DATA to DIRECTORY/NAME through open_new; return the path."""
    with open_new(directory, name, force=force) as handle:
        handle.write(data)
    return directory / name


@contextmanager
def _folder(directory: Path, path: Path) -> Iterator[int | None]:
    """An open descriptor on DIRECTORY (None where the OS takes no dir_fd), so every step
    happens in the same folder even if its path is swapped meanwhile."""
    if not USES_DIR_FD:
        yield None
        return
    try:
        folder_fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError as exc:
        raise _folder_error(directory, path, exc) from None
    try:
        yield folder_fd
    finally:
        os.close(folder_fd)


def _folder_error(directory: Path, path: Path, exc: OSError) -> MCLIError:
    """The error for a folder that cannot be opened: usage (exit 2) when it does not exist."""
    if exc.errno in (errno.ENOENT, errno.ENOTDIR):
        return UsageError(f"cannot save to {path}: no such folder {directory}",
                          hint=f"create it first (mkdir -p {directory})")
    return MCLIError(f"cannot save to {path}: {exc.strerror or exc}")


def _at(folder_fd: int | None, directory: Path, name: str) -> str:
    """NAME as the os calls take it: bare beside a folder descriptor, else joined to DIRECTORY."""
    return name if folder_fd is not None else os.path.join(directory, name)


def temp_prefix(name: str) -> str:
    """How the temporary files of a write of NAME begin (`.NAME.`, NAME cut short); they end `.part`."""
    return f".{name[:TEMP_PREFIX_CHARS]}."


def temp_name(name: str, suffix: str) -> str:
    """A fresh temporary name for a write of NAME: `.NAME.PID-RANDOM` and SUFFIX."""
    return f"{temp_prefix(name)}{os.getpid()}-{random_part()}{suffix}"


_SWEPT: set[str] = set()


def _sweep_once(directory: Path) -> None:
    """Remove the `.part` files dead processes left in DIRECTORY, once per process and folder."""
    key = os.path.abspath(directory)
    if key not in _SWEPT:
        _SWEPT.add(key)
        remove_stale(directory, STALE_PART)


def process_alive(pid: int) -> bool:
    """Whether process PID may still run (an unknown answer, and every pid on Windows, say yes)."""
    if os.name == "nt" or pid <= 0 or pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # EPERM: it exists, as another user's process
    return True


def remove_stale(folder: Path, pattern: re.Pattern[str], inside: str | None = None) -> int:
    """Delete the regular files of this user in FOLDER whose whole name PATTERN matches and whose
    `pid` group names a process that is gone: leftovers of a killed mcli. With INSIDE, the
    matches are this user's folders holding at most a file named INSIDE: both go. How many went."""
    try:
        entries = os.scandir(folder)
    except OSError:
        return 0
    removed = 0
    with entries:
        for entry in entries:
            match = pattern.fullmatch(entry.name)
            if match is None or process_alive(int(match.group("pid"))):
                continue
            removed += _remove_own_folder(entry, inside) if inside else _remove_own_file(entry)
    return removed


def _remove_own_folder(entry: os.DirEntry[str], inside: str) -> int:
    """Delete ENTRY, a folder of this user, with its file INSIDE: 1 if it went, else 0."""
    try:
        info = entry.stat(follow_symlinks=False)
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != getattr(os, "geteuid", lambda: info.st_uid)():
            return 0
        try:
            os.unlink(os.path.join(entry.path, inside))  # the name itself, never what a link points to
        except FileNotFoundError:
            pass
        os.rmdir(entry.path)  # fails, and keeps it, if anything else is in it
    except OSError:
        return 0
    return 1


def _remove_own_file(entry: os.DirEntry[str]) -> int:
    """Delete ENTRY if it is a regular file of this user: 1 if it went, else 0."""
    try:
        info = entry.stat(follow_symlinks=False)
        if not stat.S_ISREG(info.st_mode) or info.st_uid != getattr(os, "geteuid", lambda: info.st_uid)():
            return 0
        os.unlink(entry.path)
    except OSError:
        return 0
    return 1


def _create_temp(folder_fd: int | None, directory: Path, name: str, path: Path) -> tuple[str, BinaryIO]:
    """A new, exclusively created `.NAME.RANDOM.part` in the folder, and a handle on it."""
    for _attempt in range(TEMP_ATTEMPTS):
        temp = temp_name(name, ".part")
        try:
            fd = os.open(_at(folder_fd, directory, temp), TEMP_FLAGS, NEW_FILE_MODE, dir_fd=folder_fd)
        except FileExistsError:
            continue
        except OSError as exc:
            if exc.errno in (errno.ENOENT, errno.ENOTDIR):
                raise _folder_error(directory, path, exc) from None
            raise MCLIError(f"cannot save to {path}: {exc.strerror or exc}") from None
        return temp, os.fdopen(fd, "wb")
    raise MCLIError(f"cannot save to {path}: no free temporary name in {directory}")


def _commit(folder_fd: int | None, directory: Path, temp: str, name: str, force: bool, path: Path) -> None:
    """Give the complete temporary file its NAME: replacing what is there with FORCE, else
    only if the name is still free."""
    source, target = _at(folder_fd, directory, temp), _at(folder_fd, directory, name)
    if force:
        _refuse_taken(folder_fd, directory, name, force, path)  # again: it may have changed meanwhile
        os.replace(source, target, src_dir_fd=folder_fd, dst_dir_fd=folder_fd)
        return
    try:
        os.link(source, target, src_dir_fd=folder_fd, dst_dir_fd=folder_fd)
    except FileExistsError:
        raise _exists(path) from None
    except OSError as exc:
        if exc.errno not in NO_HARD_LINKS:
            raise
        _rename_if_free(folder_fd, source, target, path)  # a file system without hard links
        return
    _discard(folder_fd, directory, temp)  # saved under NAME already: the temporary name goes


def _rename_if_free(folder_fd: int | None, source: str, target: str, path: Path) -> None:
    """Rename SOURCE to TARGET unless TARGET exists (checked just before: not atomic)."""
    try:
        os.stat(target, dir_fd=folder_fd, follow_symlinks=False)
    except FileNotFoundError:
        os.rename(source, target, src_dir_fd=folder_fd, dst_dir_fd=folder_fd)
        return
    raise _exists(path)


def _discard(folder_fd: int | None, directory: Path, temp: str) -> None:
    """Remove the temporary file, if it is still there."""
    try:
        os.unlink(_at(folder_fd, directory, temp), dir_fd=folder_fd)
    except OSError:
        pass


def _exists(path: Path) -> UsageError:
    """The error for a name that is taken."""
    return UsageError(f"{path} already exists; use --force to overwrite it")


def random_part() -> str:
    """8 unpredictable hex digits for a temporary name (os.urandom: no `secrets` import on start-up)."""
    return os.urandom(4).hex()
