"""Times and durations as mcli writes them: ISO 8601 in UTC to the second, and h:mm:ss."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any


def iso(moment: Any) -> str:
    """MOMENT (a datetime, or a unix time as an API body gives it) as ISO 8601 UTC to the
    second, 2024-05-14T09:30:00Z; '' when it is neither."""
    if isinstance(moment, datetime):
        return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    if not isinstance(moment, (int, float)) or isinstance(moment, bool):
        return ""
    try:
        return datetime.fromtimestamp(moment, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, OSError, ValueError):
        return ""


def clock_text(seconds: float) -> str:
    """SECONDS as h:mm:ss or m:ss."""
    whole = max(0, int(round(min(seconds, 1e9))))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
