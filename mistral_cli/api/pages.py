"""The one page iterator: every paginated list (`--all`, `mcli api --paginate`) follows pages here.

A list operation takes `page` (from 0) and `page_size` and answers an object whose `data`
holds the items and, usually, `total`. The server's `total` is a claim, not a promise: the
walk ends at the first of
- the total reached;
- a page that adds no item not seen before (an empty page, a server that ignores `page`);
- a page shorter than the first one. The first page sets the page size (a server may cap
  `page_size` below what was asked), so a lying total cannot keep a walk going on short pages;
- MAX_PAGES pages, a hard bound: past it the walk stops with an error (exit 1), never
  truncating a list without a word.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from mistral_cli.errors import MCLIError
from mistral_cli.numbers import MAX_PAGES

FetchPage = Callable[[int], Any]


def walk_pages(fetch: FetchPage, *, start: int = 0, key: str = "data",
               id_key: str = "id") -> Iterator[tuple[Any, list]]:
    """Yield (body, items not seen before) for page START, START+1, ... until the last one."""
    seen: set[Any] = set()
    size: int | None = None  # the server's page size: the length of its first page
    for page in range(start, start + MAX_PAGES):
        body = fetch(page)
        items = body.get(key) if isinstance(body, dict) else None
        if not isinstance(items, list):
            yield body, []
            return
        new = _new_items(items, id_key, seen)
        yield body, new
        size = len(items) if size is None else size
        last = not new or len(items) < size or _total_reached(body, len(seen))
        del body, items, new  # the next page is fetched holding nothing of this one
        if last:
            return
    raise MCLIError(f"stopped after {MAX_PAGES} pages ({len(seen)} items): the server kept "
                    "sending full pages of new items",
                    hint="narrow the list with filters, or read it a page at a time")


def _total_reached(body: dict, count: int) -> bool:
    """Whether COUNT items reach the `total` BODY states (False without a usable total)."""
    total = body.get("total")
    return isinstance(total, int) and not isinstance(total, bool) and count >= total


def _new_items(items: list, id_key: str, seen: set[Any]) -> list:
    """The ITEMS not SEEN before (items without an id, or with one that is not a string or a
    number, count as new); adds them to SEEN."""
    new = []
    for index, item in enumerate(items):
        ident = item.get(id_key) if isinstance(item, dict) else None
        ident = ident if isinstance(ident, (str, int, float)) else ("#", len(seen), index)
        if ident not in seen:
            seen.add(ident)
            new.append(item)
    return new


def collect_pages(fetch: FetchPage, *, key: str = "data", id_key: str = "id",
                  limit: int | None = None) -> dict:
    """Every page (or the pages that hold the first LIMIT items) as the one body a single call
    would have returned: the first page's fields, every item once in order, `total` by the rule."""
    first: Any = None
    items: list[Any] = []
    for index, (body, new) in enumerate(walk_pages(fetch, key=key, id_key=id_key)):
        first = body if index == 0 else first
        items.extend(new)
        if limit is not None and len(items) >= limit:
            break
    return combined_body(first, items, key)


def combined_body(first: Any, items: list, key: str = "data") -> dict:
    """One list body from pages walked: FIRST page's fields, ITEMS, `total` by list_total."""
    if not isinstance(first, dict):
        return {key: items, "total": len(items)}
    return {**first, key: items, "total": list_total(first, len(items))}


# The one `total` rule of every list mcli puts together: `total` is how many items match the
# query, as the server counted them on the FIRST page (a later page's claim never replaces it);
# without a usable count, the number of items read. Lists of disjoint queries (several
# `fine-tuning list --status`) add their totals up: sum_totals.
def list_total(first: Any, count: int) -> int:
    """The `total` of a list whose first page is FIRST and of which COUNT items were read."""
    total = stated_total(first)
    return count if total is None else total


def stated_total(first: Any) -> int | None:
    """The usable count (a whole number, at least 0) the first page FIRST states, else None."""
    total = first.get("total") if isinstance(first, dict) else None
    return total if isinstance(total, int) and not isinstance(total, bool) and total >= 0 else None


def sum_totals(bodies: list[dict], key: str = "data") -> int:
    """The `total` of lists of disjoint queries merged into one: the sum of their totals."""
    return sum(list_total(body, len(body.get(key) or [])) for body in bodies)
