"""The one page iterator: every paginated list (`--all`, `mcli api --paginate`) follows pages here.

A list operation takes `page` (from 0) and `page_size` and answers an object whose `data`
holds the items and, usually, `total`. Pages are followed until the total is reached or a
page adds no item not seen before: an empty last page, or a server that ignores `page`,
ends the walk instead of looping. A short page is not taken as the last (a server may cap
`page_size` below what was asked).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

FetchPage = Callable[[int], Any]


def iter_pages(fetch: FetchPage, *, start: int = 0, key: str = "data", id_key: str = "id") -> Iterator[Any]:
    """Yield each page body FETCH returns for page START, START+1, ... until the last one."""
    seen: set[Any] = set()
    page = start
    while True:
        body = fetch(page)
        yield body
        items = body.get(key) if isinstance(body, dict) else None
        if not isinstance(items, list):
            return
        new = _new_ids(items, id_key, seen)
        total = body.get("total")
        if new == 0 or (isinstance(total, int) and len(seen) >= total):
            return
        page += 1


def _new_ids(items: list, id_key: str, seen: set[Any]) -> int:
    """How many ITEMS were not SEEN before (items without an id count as new); adds them."""
    new = 0
    for index, item in enumerate(items):
        ident = item.get(id_key) if isinstance(item, dict) else None
        ident = ("#", len(seen), index) if ident is None else ident
        if ident not in seen:
            seen.add(ident)
            new += 1
    return new


def collect_pages(fetch: FetchPage, *, key: str = "data", id_key: str = "id") -> dict:
    """Every page as the one body a single call would have returned: the first page's fields,
    every item once in order (`total` as the server gave it, else the number of items)."""
    first: dict | None = None
    items: list[Any] = []
    seen: set[Any] = set()
    for body in iter_pages(fetch, key=key, id_key=id_key):
        first = first if first is not None else body
        for item in (body.get(key) or []) if isinstance(body, dict) else []:
            ident = item.get(id_key) if isinstance(item, dict) else None
            if ident is None or ident not in seen:
                seen.add(ident)
                items.append(item)
    if not isinstance(first, dict):
        return {key: items, "total": len(items)}
    total = first.get("total")
    return {**first, key: items, "total": total if isinstance(total, int) else len(items)}
