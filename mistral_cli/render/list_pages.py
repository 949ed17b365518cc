"""Every page of a list printed as it arrives (`--all`): what one call's body would print, in
memory that does not grow with the list.

- json: the one body a single call would have returned (the first page's fields, every item
  once, `total` by api/pages.py's rule), written item by item (render/combined_json.py);
- jsonl, text and a table off a terminal: item by item, as pages arrive;
- a table on a terminal needs every row's width before its first line: it holds the rows.

The id cache behind Tab is offered the first REMEMBERED items, as for any streamed list.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from mistral_cli.render.combined_json import CombinedJson
from mistral_cli.render.output import Column, OutputFormat, emit_list, noting, remember_ids

if TYPE_CHECKING:  # pragma: no cover
    from mistral_cli.env import Env

Pages = Iterable[tuple[Any, list]]  # (page body, its items not seen before), as api/pages.py walks them


def emit_pages(env: "Env", fmt: OutputFormat, pages: Pages, columns: Sequence[Column],
               key: str = "data") -> None:
    """Print the items of PAGES in FMT as they arrive (-o json: as one list body)."""
    if fmt is not OutputFormat.json:
        emit_list(env, fmt, _items(pages), columns)
        return
    combined = CombinedJson(env, key, listing=True)
    seen: list[dict] = []
    for body, new in pages:
        combined.add(body, list(noting(new, seen)))
        del body, new  # the next page is fetched holding nothing of this one
    combined.finish()
    remember_ids(env, seen)


def _items(pages: Pages) -> Iterator[Any]:
    """The items of PAGES one by one, holding no page past its last item."""
    for body, new in pages:
        del body
        yield from new
        del new
