"""Raw requests for `mcli api`: typed fields, dotted keys, paths, sending, and pagination.

The request is built from `KEY=VALUE` fields the way gh does it: `true`, `false`, `null`
and numbers become JSON values, a value that is a JSON array or object becomes that value,
anything else stays a string; `a.b=c` nests (`{"a": {"b": "c"}}`), `key[]=v` always makes
a list, and a key given several times collects its values into a list. The reply is handed
back by its content type: decoded JSON, text, an event stream, or raw bytes.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from mistral_cli.api.operations import find, note_billed
from mistral_cli.api.pages import combined_body, walk_pages
from mistral_cli.errors import UsageError
from mistral_cli.http.body import decoded_chunks, read_body
from mistral_cli.http.client import HTTPClient, response_events
from mistral_cli.http.effect import Effect

QUERY_METHODS = frozenset({"GET", "DELETE"})
_NUMBER = re.compile(r"^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$")


# -- fields ------------------------------------------------------------------------------


def typed_value(text: str) -> Any:
    """TEXT as a JSON value: true/false/null, a number, a JSON array/object, else the string."""
    if text in ("true", "false", "null"):
        return json.loads(text)
    if _NUMBER.match(text):
        number = int(text) if text.lstrip("-").isdigit() else float(text)
        if not math.isfinite(number):
            raise UsageError(f"{text!r} is too large a number for JSON")
        return number
    return json_container(text, text)


def json_container(text: str, fallback: Any) -> Any:
    """TEXT decoded when it is a JSON array or object, else FALLBACK."""
    if text.lstrip()[:1] in ("[", "{"):
        try:
            return json.loads(text, parse_constant=_no_constant, parse_float=_finite)
        except ValueError:
            pass
    return fallback


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"{text} is too large a number for JSON")
    return number


def split_field(spec: str, option: str) -> tuple[str, str]:
    """`key=value` -> (key, value); refuse anything else naming OPTION."""
    key, has_value, value = spec.partition("=")
    if not has_value or not key.strip():
        raise UsageError(f"{option}: expected KEY=VALUE, got {spec!r}")
    return key.strip(), value


def collect(fields: list[tuple[str, Any]]) -> dict[str, Any]:
    """Group FIELDS by key: a repeated key or a `key[]` key gives a list, in order."""
    grouped: dict[str, list[Any]] = {}
    forced: set[str] = set()
    for key, value in fields:
        if key.endswith("[]"):
            key = key[:-2]
            forced.add(key)
        grouped.setdefault(key, []).append(value)
    return {key: values if key in forced or len(values) > 1 else values[0]
            for key, values in grouped.items()}


def set_field(body: dict, key: str, value: Any, option: str) -> None:
    """Set dotted KEY (`response_format.type`) in BODY, creating nested objects."""
    *parents, last = key.split(".")
    target = body
    walked = []
    for part in parents:
        walked.append(part)
        child = target.setdefault(part, {})
        if not isinstance(child, dict):
            raise UsageError(f"{option} {key}: {'.'.join(walked)} is not an object in the body")
        target = child
    if not last:
        raise UsageError(f"{option}: empty key part in {key!r}")
    target[last] = value


def build_body(base: dict | None, fields: list[tuple[str, Any]], option: str = "-f/-F") -> dict:
    """BASE (from --body) with FIELDS set on top of it."""
    body = json.loads(json.dumps(base)) if base else {}
    for key, value in collect(fields).items():
        set_field(body, key, value, option)
    return body


# -- paths and methods -------------------------------------------------------------------


def normalize_path(path: str, server_url: str) -> str:
    """`v1/models` -> `/v1/models`; a full URL is accepted only on the configured server."""
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", path):
        base = server_url.rstrip("/")
        if not (path == base or path.startswith(base + "/")):
            raise UsageError(f"PATH: {path} is not on the configured server {base}",
                             hint="give a path such as /v1/models, or set --server-url")
        path = path[len(base):] or "/"
    return path if path.startswith("/") else "/" + path


def bare_path(path: str) -> str:
    """PATH without its query string."""
    return path.split("?", 1)[0]


def is_multipart(method: str, path: str) -> bool:
    """Whether the endpoint takes multipart form data (the operation table says: POST /v1/files)."""
    operation = find(method, path)
    return operation is not None and operation.multipart


def effect_of(method: str, path: str) -> Effect:
    """What METHOD on PATH does on the server (it decides the retries): the operation table's
    Effect, so `mcli api` retries exactly as the command for the same operation; a path the
    spec lacks gets its method's cautious default (a POST is never repeated once sent)."""
    operation = find(method, path)
    return operation.effect if operation is not None else Effect.of_method(method)


def pageable(path: str) -> bool:
    """Whether GET PATH may be walked page by page: a paged list in the operation table, or a
    path the spec lacks (the caller knows better)."""
    operation = find("GET", path)
    return operation is None or operation.paged


def id_kind(method: str, path: str) -> str:
    """The kind of id the answer to METHOD on PATH carries, by the operation table ('' for
    none: a path the spec lacks, or an answer such as a file's content)."""
    operation = find(method, path)
    return operation.returns if operation is not None else ""


# -- sending -----------------------------------------------------------------------------


@dataclass
class Reply:
    """A response by kind: `empty`, `json` (body), `text` (body), `events` or `bytes` (chunks)."""

    kind: str
    body: Any = None
    events: Iterator[dict] = field(default_factory=lambda: iter(()))
    chunks: Iterator[bytes] = field(default_factory=lambda: iter(()))


@contextmanager
def send(client: HTTPClient, method: str, path: str, *, params: Any = None, json_body: Any = None,
         files: Any = None, data: dict | None = None, stream: bool = False) -> Iterator[Reply]:
    """Send one request and yield its Reply while the connection is open."""
    headers = {"Accept": "text/event-stream"} if stream else None
    with client.stream(method, path, params=params or None, json_body=json_body, files=files,
                       data=data, headers=headers, effect=effect_of(method, path)) as response:
        reply = reply_of(response)
        operation = find(method, path)
        if operation is not None and operation.bills and response.status_code < 300:
            if reply.kind == "json":
                note_billed(client, operation.name, reply.body)
            elif reply.kind == "events":
                reply.events = _noting_usage(client, operation.name, reply.events)
        yield reply


def _noting_usage(client: HTTPClient, name: str, events: Iterator[dict]) -> Iterator[dict]:
    """EVENTS as they come; when they end, the last usage they carried goes to the ledger."""
    last: dict | None = None
    try:
        for event in events:
            if isinstance(event.get("usage"), dict):
                last = event
            yield event
    finally:
        if last is not None:
            note_billed(client, name, last)


def reply_of(response: Any) -> Reply:
    """Classify an open httpx response by its content type."""
    ctype = response.headers.get("content-type", "").lower()
    if "text/event-stream" in ctype:
        return Reply("events", events=response_events(response))
    if "json" in ctype or ctype.startswith("text/") or not ctype:
        raw = read_body(response, what=f"the answer to {response.request.method} {response.request.url.path}")
        if not raw:
            return Reply("empty")
        try:
            return Reply("json", body=json.loads(raw))
        except ValueError:
            return Reply("text", body=raw.decode("utf-8", "replace"))
    return Reply("bytes", chunks=decoded_chunks(response))


# -- pagination --------------------------------------------------------------------------


def page_number(params: list[tuple[str, str]], name: str, default: int | None) -> int | None:
    """The integer query parameter NAME in PARAMS (the last one given), or DEFAULT."""
    values = [value for key, value in params if key == name]
    if not values:
        return default
    try:
        return int(values[-1])
    except ValueError:
        raise UsageError(f"-f {name}: expected an integer, got {values[-1]!r}") from None


def pages(client: HTTPClient, path: str, params: list[tuple[str, str]]) -> Iterator[tuple[Any, list]]:
    """GET PATH page after page (`page`/`page_size` query), yielding (body, its new items).

    The stop rule is api/pages.py's, shared with every `--all`: the total is reached, a page
    brings no item not seen before (an empty page, a server that ignores `page`), or a page
    is shorter than the first.
    """
    rest = [(key, value) for key, value in params if key != "page"]
    page_number(params, "page_size", None)  # refuse a page_size that is not a number

    def fetch(page: int) -> Any:
        return client.call("GET", path, params=[*rest, ("page", str(page))])

    return walk_pages(fetch, start=page_number(params, "page", 0) or 0)


def combine(walked: list[tuple[Any, list]]) -> Any:
    """One list body from the pages walked: the first page's shape, every new item once,
    `total` (when the server sends one) by api/pages.py's one rule: the first page's count."""
    if not walked:
        return None
    first = walked[0][0]
    if not isinstance(first, dict) or not isinstance(first.get("data"), list):
        return first
    combined = combined_body(first, [item for _body, new in walked for item in new])
    if "total" not in first:  # `mcli api` adds no field the server did not send
        del combined["total"]
    return combined
