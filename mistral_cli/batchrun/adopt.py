"""Finding on the server what a run sent but never heard back about.

When a process dies while an upload or a job create is in flight, the journal says `sent`
and holds no id. The request may or may not have been acted on, so the run looks: an
upload by its tagged file name (and size), a job by its `mcli_run` metadata. Whatever the
server lists is checked here, never trusted: the name, size and tag must match exactly and
an id must be a UUID before it is adopted.

A server may store what it received a moment after the sender died, so a run that finds
nothing looks once more SETTLE_SECONDS later before it sends the request again.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, TypeVar

from mistral_cli.batchrun.fingerprint import TAG_KEY
from mistral_cli.errors import MCLIError, UnexpectedResponse

if TYPE_CHECKING:  # pragma: no cover
    from mistral_cli.http.client import HTTPClient

CLOCK_SLACK = timedelta(days=1)  # how far the server's clock may be behind this one's
SETTLE_SECONDS = 3.0  # how long after a request's sender died the server may still store it
T = TypeVar("T")


def settle(seconds: float) -> None:
    """Wait SECONDS for the server to store what it may have received (tests replace this)."""
    time.sleep(seconds)


def look_twice(find: Callable[[], T | None], on_wait: Callable[[float], None], hint: str) -> T | None:
    """FIND's answer; when it finds nothing, ON_WAIT(seconds), then FIND again after SETTLE_SECONDS.
    A look that fails (the network, a list of the wrong shape) sends nothing: its error carries
    HINT, the run's resume hint, since what the lost answer made may still be there."""
    try:
        found = find()
        if found is None and SETTLE_SECONDS > 0:
            on_wait(SETTLE_SECONDS)
            settle(SETTLE_SECONDS)
            found = find()
    except MCLIError as exc:
        exc.hint = exc.hint or hint
        raise
    return found


def checked_id(value: Any, operation: str) -> str:
    """VALUE if it is a UUID string, else an UnexpectedResponse naming the request of the
    OPERATION (its name in api/operations.py) that answered it."""
    from mistral_cli.api.operations import describe

    if isinstance(value, str):
        try:
            uuid.UUID(value)
            return value
        except ValueError:
            pass
    raise UnexpectedResponse(describe(operation), "id", f"{str(value)[:80]!r} is not a UUID")


def answer_id(body: Any, operation: str) -> str:
    """The UUID `id` of the answer BODY of OPERATION (an upload or a create), checked as checked_id."""
    return checked_id(body.get("id") if isinstance(body, dict) else None, operation)


def find_upload(client: "HTTPClient", name: str, size: int, purpose: str = "batch") -> str | None:
    """The id of a file of PURPOSE on the server named NAME with SIZE bytes, or None."""
    from mistral_cli.api.lists import read_all

    body = read_all(client, "files.list", {"search": name, "purpose": purpose})
    for item in _items(body):
        if item.get("filename") == name and item.get("bytes") == size and item.get("deleted") is not True:
            return checked_id(item.get("id"), "files.list")
    return None


def find_job(client: "HTTPClient", tag: str, sent_at: str | None) -> dict | None:
    """The batch job whose metadata carries TAG (created no earlier than a day before
    SENT_AT, to bound the search where the metadata filter is ignored), or None."""
    from mistral_cli.api.lists import read_all

    body = read_all(client, "batch.list", {"metadata": {TAG_KEY: tag}, "created_after": _since(sent_at)})
    for item in _items(body):
        metadata = item.get("metadata")
        if isinstance(metadata, dict) and metadata.get(TAG_KEY) == tag:
            checked_id(item.get("id"), "batch.list")
            return item
    return None


def _items(body: Any) -> list[dict]:
    """The objects in a list body's `data` (anything else is skipped)."""
    data = body.get("data") if isinstance(body, dict) else None
    return [item for item in data if isinstance(item, dict)] if isinstance(data, list) else []


def _since(sent_at: str | None) -> str | None:
    """SENT_AT (ISO 8601, UTC) less CLOCK_SLACK, as the API's date-time; None if unknown."""
    if not sent_at:
        return None
    try:
        moment = datetime.strptime(sent_at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        return None
    return (moment - CLOCK_SLACK).isoformat()
