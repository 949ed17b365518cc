"""The one list path: a list operation of the table, the filters the user set, one page or every page.

A list operation (api/operations.py) names the filters it takes (`query`) and the largest page
it serves (`largest_page`). From them this module builds every list request: only the filters
set are sent (None, False and empty values are not: the spec's defaults), a list as repeated
parameters, a mapping as one form-style `key=value&key=value` value, a boolean as `true`.
Every page answered is checked to be a listing (an object whose `data` is a list of objects):
anything else is `unexpected response from GET /v1/...` (exit 1), never an empty list. `--all`
asks for the largest page (an explicit page size wins) and follows pages with api/pages.py's
stop rule and `total` rule. A server that serves fewer items than asked on a first page that
is not the whole list (it caps the page size) is asked the later pages at the size it served,
so that page N starts where N of its pages end whether it counts offsets by the size asked or
the size served: no item is skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from mistral_cli.api.operations import OPERATIONS, Operation, call, describe
from mistral_cli.api.pages import collect_pages, walk_pages
from mistral_cli.bodies.shape import need_listing

if TYPE_CHECKING:  # pragma: no cover - only for annotations: `--help` never loads httpx
    from mistral_cli.http.client import HTTPClient


def list_query(operation: Operation, filters: Mapping[str, Any], page: int | None = None,
               page_size: int | None = None) -> dict[str, Any]:
    """The query of OPERATION for FILTERS (its `query` names only) and PAGE, PAGE_SIZE when set."""
    unknown = sorted(set(filters) - set(operation.query))
    if unknown:
        raise TypeError(f"{operation.name} takes no filter {', '.join(unknown)}")
    params = {name: query_value(value) for name, value in filters.items() if is_set(value)}
    return {**params, **{name: value for name, value in (("page", page), ("page_size", page_size))
                         if value is not None}}


def is_set(value: Any) -> bool:
    """Whether a filter VALUE is sent: not None, False or empty."""
    return value is not None and value is not False and value not in ("", [], (), {})


def query_value(value: Any) -> Any:
    """A filter VALUE as the query takes it: a list repeated, a mapping form-style, `true`."""
    if value is True:
        return "true"
    if isinstance(value, Mapping):
        return "&".join(f"{key}={item}" for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return [str(item) for item in value]
    return value


def one_page(client: HTTPClient, name: str, filters: Mapping[str, Any], *, page: int | None = None,
             page_size: int | None = None) -> dict:
    """One page of the list NAME (the server's default page and size when not given), checked."""
    body = call(client, name, params=list_query(OPERATIONS[name], filters, page, page_size))
    need_listing(body, describe(name))
    return body


def every_page(client: HTTPClient, name: str, filters: Mapping[str, Any],
               page_size: int | None = None) -> Iterator[tuple[dict, list]]:
    """(page body, its items not seen before) for each page of the list NAME, as it arrives:
    pages of PAGE_SIZE, or the largest the operation serves."""
    return walk_pages(_page_reader(client, name, filters, page_size))


def read_all(client: HTTPClient, name: str, filters: Mapping[str, Any], *, page_size: int | None = None,
             limit: int | None = None) -> dict:
    """Every page of the list NAME (or those that hold its first LIMIT items) as the one body a
    single call would have returned (api/pages.py's `total` rule)."""
    return collect_pages(_page_reader(client, name, filters, page_size), limit=limit)


def _page_reader(client: HTTPClient, name: str, filters: Mapping[str, Any],
                 page_size: int | None) -> Callable[[int], dict]:
    """Page N of the list NAME at PAGE_SIZE (or the largest it serves); after a first page shorter
    than asked, at the size the server served."""
    size = page_size or OPERATIONS[name].largest_page

    def read(page: int) -> dict:
        nonlocal size
        body = one_page(client, name, filters, page=page, page_size=size)
        served = len(body.get("data") or [])
        if page == 0 and 0 < served < size:
            size = served  # a capped page size: count later pages by what the server serves
        return body

    return read
