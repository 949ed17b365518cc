"""The one list path of the commands: a list operation's name and the filters the user set in,
one page (`--page`, `--page-size`) or every page (`--all`) out, printed in the output format.

The query, the page size `--all` asks (the largest the operation serves, unless `--page-size`
says otherwise), the shape check of every page and the stop rule are api/lists.py's; how every
page is printed as it arrives, render/list_pages.py's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from mistral_cli.api import lists
from mistral_cli.commands.shared.common_options import note_more_pages
from mistral_cli.inputs import check_paging
from mistral_cli.render.list_pages import emit_pages
from mistral_cli.render.output import Column, OutputFormat, emit_list

if TYPE_CHECKING:  # pragma: no cover
    from mistral_cli.env import Env


def show_list(env: "Env", name: str, filters: Mapping[str, Any], *, page: int | None, page_size: int | None,
              all_pages: bool, output: OutputFormat, columns: Sequence[Column]) -> None:
    """Print the list operation NAME for FILTERS: page PAGE, or with ALL_PAGES every page."""
    check_paging(page, page_size, all_pages)
    if all_pages:
        emit_pages(env, output, lists.every_page(env.client, name, filters, page_size), columns)
    else:
        show_page(env, lists.one_page(env.client, name, filters, page=page, page_size=page_size),
                  output, columns)


def show_page(env: "Env", body: dict, output: OutputFormat, columns: Sequence[Column]) -> None:
    """Print a checked list BODY (one page, or lists merged); on a terminal, say when more pages exist."""
    items = body.get("data") or []  # checked: a list of objects, or null or absent (none)
    emit_list(env, output, items, columns, body=body)
    note_more_pages(env, body, len(items))
