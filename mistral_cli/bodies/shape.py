"""Checks on the shape of a decoded response body: each returns the value when it has the
type mcli needs, else raises UnexpectedResponse naming the request, where in the body, and
what came instead (`unexpected response from POST /v1/ocr: pages[0].images: a number, not
a list`). No pydantic here: commands import it cheaply."""

from __future__ import annotations

from typing import Any

from mistral_cli.errors import UnexpectedResponse


def kind(value: Any) -> str:
    """What VALUE is, as JSON names it: `a list`, `an object`, `a string`, `null`..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _wrong(value: Any, wanted: str, request: str, where: str) -> UnexpectedResponse:
    """The error for VALUE at WHERE, which should have been WANTED."""
    got = kind(value)
    if got == "an integer" and wanted != "an integer":
        got = "a number"
    return UnexpectedResponse(request, where, f"{got}, not {wanted}")


def need_object(value: Any, request: str, where: str = "body") -> dict:
    """VALUE if it is a JSON object."""
    if not isinstance(value, dict):
        raise _wrong(value, "an object", request, where)
    return value


def need_list(value: Any, request: str, where: str, *, missing_ok: bool = True) -> list:
    """VALUE if it is a JSON list; null or absent is an empty list when MISSING_OK."""
    if value is None and missing_ok:
        return []
    if not isinstance(value, list):
        raise _wrong(value, "a list", request, where)
    return value


def need_int(value: Any, request: str, where: str) -> int:
    """VALUE if it is a JSON integer (not a boolean)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise _wrong(value, "an integer", request, where)
    return value


def need_numbers(value: Any, request: str, where: str) -> list:
    """VALUE if it is a list of numbers (a vector)."""
    items = need_list(value, request, where, missing_ok=False)
    for position, item in enumerate(items):
        if isinstance(item, bool) or not isinstance(item, (int, float)):
            raise _wrong(item, "a number", request, f"{where}[{position}]")
    return items


def pydantic_error(exc: Any, request: str) -> UnexpectedResponse:
    """A pydantic ValidationError EXC as the unexpected-response error for REQUEST."""
    first = exc.errors()[0]
    where = ".".join(map(str, first.get("loc") or ())) or "body"
    return UnexpectedResponse(request, where, str(first.get("msg", "not what mcli expected"))[:200])


def need_listing(body: Any, request: str, key: str = "data") -> list[dict]:
    """BODY's KEY list (a page of a listing), each item an object; null or absent is empty."""
    items = need_list(need_object(body, request).get(key), request, key)
    return [need_object(item, request, f"{key}[{position}]") for position, item in enumerate(items)]
