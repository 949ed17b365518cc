"""Reading mcli's own TOML files (config.toml, credentials.toml) safely: only a regular file,
at most MAX_SIZE bytes, nested at most MAX_DEPTH deep. A FIFO would block every command, a
link to /dev/zero would grow until killed, arrays nested thousands deep would exhaust the
recursion limit: each is refused as a file that does not parse, naming why (Unparsable)."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

MAX_SIZE = 1 << 20  # 1 MiB: a config of a thousand profiles is far below it
MAX_DEPTH = 16  # profiles.NAME.model.chat is 4; values are strings, numbers and booleans


class Unparsable(ValueError):
    """The file exists but is not TOML mcli reads; the message says why (it never quotes the file)."""


def read_small(path: Path) -> bytes | None:
    """PATH's bytes; None when there is no such file; Unparsable when it is not a regular file
    or is over MAX_SIZE; OSError for the rest. Never opens a device or a FIFO for reading,
    and the open is non-blocking with the file checked again after it (a swap in between)."""
    try:
        _check_regular(os.stat(path))
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        return None
    with os.fdopen(fd, "rb") as handle:
        _check_regular(os.fstat(fd))
        data = handle.read(MAX_SIZE + 1)
    if len(data) > MAX_SIZE:
        raise Unparsable(f"it is larger than {MAX_SIZE // (1 << 20)} MiB")
    return data


def _check_regular(info: os.stat_result) -> None:
    if not stat.S_ISREG(info.st_mode):
        raise Unparsable(f"it is not a regular file (it is {_kind(info.st_mode)})")
    if info.st_size > MAX_SIZE:
        raise Unparsable(f"it is larger than {MAX_SIZE // (1 << 20)} MiB")


def _kind(mode: int) -> str:
    kinds = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
             (stat.S_ISDIR, "a folder"), (stat.S_ISSOCK, "a socket"))
    return next((name for test, name in kinds if test(mode)), "not a file")


def parse(raw: bytes) -> dict[str, Any]:
    """RAW as a TOML table; UnicodeDecodeError, tomllib.TOMLDecodeError, or Unparsable when
    it nests deeper than MAX_DEPTH (checked without recursion, so no depth can crash it)."""
    import tomllib

    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except RecursionError:
        raise Unparsable(f"it nests arrays or tables more than {MAX_DEPTH} deep") from None
    if _depth_over(data, MAX_DEPTH):
        raise Unparsable(f"it nests arrays or tables more than {MAX_DEPTH} deep")
    return data


def _depth_over(value: Any, limit: int) -> bool:
    """Whether VALUE holds tables or arrays nested more than LIMIT deep (an explicit stack)."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        if depth >= limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False
