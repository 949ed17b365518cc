"""Human formatting for terminals only: sizes, relative times, coloured statuses. Every value
comes out as Rich markup in which the server's text is inert (render/safe_text.py)."""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Any

from mistral_cli.render.safe_text import safe_markup

STATUS_STYLES = {
    "SUCCESS": "green", "succeeded": "green", "processed": "green", "uploaded": "green",
    "RUNNING": "cyan", "QUEUED": "yellow", "VALIDATING": "yellow", "VALIDATED": "yellow",
    "STARTED": "cyan", "CANCELLATION_REQUESTED": "yellow",
    "FAILED": "red", "FAILED_VALIDATION": "red", "CANCELLED": "red", "TIMEOUT_EXCEEDED": "red",
}


# One unit system for every size mcli shows: binary (KiB = 1024 bytes), named as such, as the
# project's own limits are (the API's 512 MiB upload limit, 4 MiB, 64 KiB).
UNITS = ("B", "KiB", "MiB", "GiB", "TiB")


def size(num: Any) -> str:
    """1536 -> '1.5 KiB'."""
    if not isinstance(num, (int, float)) or isinstance(num, bool):
        return "" if num is None else str(num)
    value = float(num)
    for unit in UNITS:
        if abs(value) < 1024 or unit == UNITS[-1]:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return str(num)


def counted(count: int, noun: str) -> str:
    """'1 example', '3 examples' (NOUN singular, plural with an s)."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def byte_count(count: int, on_terminal: bool) -> str:
    """COUNT bytes for a message: human on a terminal ('50.0 MiB'), exact elsewhere ('52429050 bytes')."""
    return size(count) if on_terminal else f"{count} bytes"


def to_epoch(value: Any) -> float | None:
    """A unix timestamp or ISO 8601 string as epoch seconds, or None."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return None
    return None


def relative_time(value: Any, now: float | None = None) -> str:
    """A timestamp as '3 minutes ago'."""
    epoch = to_epoch(value)
    if epoch is None:
        return "" if value is None else str(value)
    delta = (now if now is not None else time.time()) - epoch
    future = delta < 0
    delta = abs(delta)
    for unit, seconds in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if delta >= seconds:
            count = int(delta // seconds)
            text = f"{count} {unit}{'s' if count != 1 else ''}"
            return f"in {text}" if future else f"{text} ago"
    return "just now"


def status(value: Any) -> str:
    """A job or file status as markup: a known one in its colour, any other as plain text."""
    text = "" if value is None else str(value)
    style = STATUS_STYLES.get(text)
    return f"[{style}]{text}[/{style}]" if style else safe_markup(text)


def format_value(value: Any, kind: str) -> str:
    """VALUE of KIND (size, time, status, list, bool, id, text) as markup for a terminal."""
    if kind == "status":
        return status(value)
    return safe_markup(plain_value(value, kind))


def plain_value(value: Any, kind: str) -> str:
    """VALUE of KIND as the text a human reads (not yet made safe for a terminal)."""
    if kind == "size":
        return size(value)
    if kind == "time":
        return relative_time(value)
    if kind == "list":
        return comma_list(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def short_path(value: Any) -> str:
    """A local path as markup, short: relative to the working folder when inside it, `~/` when
    inside the home folder, else whole."""
    if not value:
        return ""
    from pathlib import Path

    path = Path(str(value))
    for base, prefix in ((_folder(Path.cwd), ""), (_folder(Path.home), "~/")):
        if base is not None and path.is_relative_to(base):
            return safe_markup(prefix + str(path.relative_to(base)))
    return safe_markup(str(path))


def _folder(where: Any) -> Any:
    """The folder WHERE() names, or None when it cannot say (a removed working folder, no HOME)."""
    try:
        return where()
    except (OSError, RuntimeError):
        return None


def comma_list(value: Any) -> str:
    """A list (or a comma-joined string) as 'a, b', so a terminal table can wrap it."""
    if value is None:
        return ""
    items = value if isinstance(value, (list, tuple)) else str(value).split(",")
    return ", ".join(str(item) for item in items if item != "")
