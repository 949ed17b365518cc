"""The output contract: table, json, jsonl and text, on and off a terminal.

- table: a Rich table (a key/value panel for one object) on a terminal, fitted to its width
  by render/table_layout.py (columns left out are named on stderr); off a terminal the same
  rows as tab-separated raw values, no header, no colour, no truncation.
- json: the decoded API body, indented, nothing dropped or added.
- jsonl: one object per line.
- text: bare ids (or the one value a command is about) for `$(...)`.

Server text is inert on a terminal: table cells, titles and headers go through
render/safe_text.py, and lines written raw lose their control characters when stdout is a
terminal (byte-exact elsewhere). JSON escapes every control character, DEL and C1 included
(json.dumps leaves those raw), so it decodes to the same body and is safe on a terminal too.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from enum import Enum
from typing import Any, NamedTuple, TYPE_CHECKING

from mistral_cli.render import human, table_layout
from mistral_cli.render.safe_text import safe_markup, safe_text

if TYPE_CHECKING:  # pragma: no cover
    from rich.text import Text
    from mistral_cli.env import Env


class OutputFormat(str, Enum):
    """Values of -o/--output."""

    table = "table"
    json = "json"
    jsonl = "jsonl"
    text = "text"


class Column(NamedTuple):
    """One column: a header, where its value comes from, and how a human sees it."""

    header: str
    key: str | Callable[[dict], Any]
    kind: str = "text"  # text | size | time | status | list | id | bool | path
    show: Callable[[Any], str] | None = None  # terminal-only formatting of the raw value
    priority: int = 1  # on a narrow terminal the highest number is left out first; 0 never is
    view: Callable[[dict], str] | None = None  # terminal-only markup made from the whole item
    under: str = ""  # the header of the column it is written under when it does not fit beside it

    def raw(self, item: dict) -> Any:
        """The raw value in ITEM (dotted keys walk nested objects)."""
        if callable(self.key):
            return self.key(item)
        value: Any = item
        for part in self.key.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        return value

    def human(self, item: dict) -> str:
        """The value formatted for a terminal, as Rich markup (a SHOW function must make any
        server text in it safe with safe_text.safe_markup)."""
        if self.view is not None:
            return self.view(item)
        if self.show is not None:
            return self.show(self.raw(item))
        return human.format_value(self.raw(item), self.kind)


# What json.dumps(ensure_ascii=False) leaves raw that a terminal may act on: DEL and C1.
_JSON_RAW_CONTROL = re.compile("[\x7f-\x9f]")
REMEMBERED = 1_000  # items of a streamed list offered to the id cache (it keeps 200 a kind)


def dumps(value: Any) -> str:
    """Compact JSON for one line, every control character escaped, NaN and infinities null."""
    return escape_json_controls(_strict_json(value, separators=(",", ":")))


def indented_json(value: Any) -> str:
    """JSON indented by 2, every control character escaped, NaN and infinities null."""
    return escape_json_controls(_strict_json(value, indent=2))


def _strict_json(value: Any, **layout: Any) -> str:
    """VALUE as JSON that any parser reads: a NaN or infinity (which JSON has no word for, and
    Python's json writes as `NaN`) becomes null."""
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False, **layout)
    except ValueError:
        return json.dumps(finite(value), ensure_ascii=False, allow_nan=False, **layout)


def finite(value: Any) -> Any:
    """VALUE with every NaN or infinite float inside it replaced by None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(item) for item in value]
    return value


def escape_json_controls(text: str) -> str:
    """JSON TEXT with DEL and C1 characters written as \\u escapes (C0 ones already are).
    Outside strings JSON is ASCII, so only string contents change, not what they decode to."""
    if text.isascii():  # the common case, checked without the regex
        found = "\x7f" in text
    else:
        found = _JSON_RAW_CONTROL.search(text) is not None
    if not found:
        return text
    return _JSON_RAW_CONTROL.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def write_json(env: "Env", body: Any) -> None:
    """Print BODY as indented JSON."""
    env.stdout.write(indented_json(body) + "\n")
    env.stdout.flush()


def write_json_list(env: "Env", items: Iterable[Any]) -> None:
    """Print ITEMS as one indented JSON array, item by item: what `write_json` prints for the
    list, without holding it (JSON strings hold no raw newline, so re-indenting is exact)."""
    opened = False
    for item in items:
        env.stdout.write((",\n  " if opened else "[\n  ") + indented_json(item).replace("\n", "\n  "))
        opened = True
    env.stdout.write("\n]\n" if opened else "[]\n")
    env.stdout.flush()


def write_jsonl(env: "Env", items: Iterable[Any]) -> None:
    """Print each item as one JSON line."""
    for item in items:
        env.stdout.write(dumps(item) + "\n")
    env.stdout.flush()


def write_lines(env: "Env", values: Iterable[Any]) -> None:
    """Print each value on its own line (control characters removed on a terminal)."""
    write_lines_raw(env, (tsv_cell(value) for value in values))


def for_stdout(env: "Env", text: str) -> str:
    """TEXT as it may go to stdout: exact off a terminal, without control characters on one."""
    return safe_text(text) if env.stdout_isatty else text


def tsv_cell(value: Any) -> str:
    """A raw value as one tab-separated cell: no tabs or newlines inside."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return dumps(value)
    return str(value).replace("\t", " ").replace("\r", " ").replace("\n", " ")


def emit_list(env: "Env", fmt: OutputFormat, items: Iterable[dict], columns: Sequence[Column],
              body: Any = None, id_key: str = "id", title: str | None = None) -> None:
    """Print a list of objects in FMT; BODY is what json prints (default: ITEMS). ITEMS may be
    an iterator: every format but a terminal's table prints it item by item, holding none."""
    seen: list[dict] = []
    items = items if isinstance(items, Sequence) else noting(items, seen)
    if fmt is OutputFormat.json:
        write_json(env, body) if body is not None else write_json_list(env, items)
    elif fmt is OutputFormat.jsonl:
        write_jsonl(env, items)
    elif fmt is OutputFormat.text:
        write_lines(env, (item.get(id_key) for item in items))
    elif env.stdout_isatty:
        items = list(items)
        _rich_table(env, items, columns, title)
    else:
        write_lines_raw(env, ("\t".join(tsv_cell(col.raw(item)) for col in columns) for item in items))
    remember_ids(env, items if isinstance(items, Sequence) else seen)


def noting(items: Iterable[dict], seen: list[dict]) -> Iterator[dict]:
    """ITEMS, what the id cache reads of the first REMEMBERED of them noted in SEEN as they
    pass (not the whole items: a streamed list holds none)."""
    from mistral_cli.store.ids import read_part

    for item in items:
        if len(seen) < REMEMBERED:
            seen.append(read_part(item))
        yield item


def write_lines_raw(env: "Env", lines: Iterable[str]) -> None:
    """Print already formatted lines (control characters removed on a terminal)."""
    for line in lines:
        env.stdout.write(for_stdout(env, line) + "\n")
    env.stdout.flush()


def emit_object(env: "Env", fmt: OutputFormat, obj: dict, fields: Sequence[Column] | None = None,
                id_key: str = "id", title: str | None = None) -> None:
    """Print one object in FMT; table shows FIELDS (default: every top-level key)."""
    remember_ids(env, [obj])
    if fmt is OutputFormat.json:
        write_json(env, obj)
    elif fmt is OutputFormat.jsonl:
        write_jsonl(env, [obj])
    elif fmt is OutputFormat.text:
        write_lines(env, [obj.get(id_key)])
    else:
        columns = list(fields) if fields else [Column(name, name) for name in obj]
        if env.stdout_isatty:
            _rich_panel(env, obj, columns, title)
        else:
            write_lines_raw(env, (f"{col.header.lower()}\t{tsv_cell(col.raw(obj))}" for col in columns))


def remember_ids(env: "Env", objects: Iterable[Any]) -> None:
    """Let the id cache behind Tab see OBJECTS (store/ids.py keeps those of a known kind)."""
    from mistral_cli.store import ids

    ids.remember(objects, env.environ)


def _rich_table(env: "Env", items: Sequence[dict], columns: Sequence[Column], title: str | None) -> None:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    if not items:
        env.err_console.print("[dim]no results[/dim]")
        return
    cells = [[Text.from_markup(col.human(item)) for col in columns] for item in items]
    headers = [Text.from_markup(safe_markup(col.header)) for col in columns]
    positions = {col.header: i for i, col in enumerate(columns)}
    specs = [table_layout.Spec(col.header, col.kind, col.priority,
                               _natural(col.kind, headers[i], [row[i] for row in cells]),
                               positions.get(col.under))
             for i, col in enumerate(columns)]
    layout = table_layout.fit(specs, env.console.width)
    for guest, host in layout.stacked:
        _write_under(headers, cells, guest, host)
    table = Table(box=box.SIMPLE_HEAD, title=safe_markup(title) if title else None, header_style="bold",
                  show_edge=False, pad_edge=False, padding=(0, 1, 0, 0))
    for index, width in zip(layout.kept, layout.widths):
        whole = columns[index].kind == "id"  # too wide even alone: an id folds, never loses a part
        table.add_column(headers[index], width=width, no_wrap=not whole,
                         overflow="fold" if whole else "ellipsis")
    for index, width in zip(layout.kept, layout.widths):
        if columns[index].kind == "path":
            for row in cells:
                row[index] = _cut_start(row[index], width)
    for row in cells:
        table.add_row(*(row[index] for index in layout.kept))
    env.console.print(table)
    if layout.dropped:
        names = ", ".join(safe_markup(columns[index].header) for index in layout.dropped)
        env.err_console.print(f"[dim]not shown at {env.console.width} columns: {names}; "
                              f"-o json shows all[/dim]")


def _write_under(headers: list["Text"], cells: list[list["Text"]], guest: int, host: int) -> None:
    """Column GUEST's values written under column HOST's (table_layout's stacking): a second
    line `↳ value` in the same cell, none where the value is empty; its header beside HOST's."""
    for row, joint in [(headers, " "), *((cells_row, "\n") for cells_row in cells)]:
        if row[guest].plain:
            row[host] = row[host].copy()
            row[host].append(joint + table_layout.STACK_MARK, style="dim")
            row[host].append_text(row[guest])


def _cut_start(cell: "Text", width: int) -> "Text":
    """CELL cut from its start to WIDTH cells with `…` (a path's end names the place)."""
    if cell.cell_len <= width:
        return cell
    from rich.text import Text

    return Text("…" + cell.plain[len(cell.plain) - width + 1:], style=cell.style)


def _natural(kind: str, header: "Text", cells: list["Text"]) -> int:
    """The width a column of KIND wants; a cell of a fixed kind too wide for it is cut with …"""
    widths = [cell.cell_len for cell in cells]
    if kind not in table_layout.FIXED_KINDS:
        return max([header.cell_len, *widths])
    width = table_layout.fixed_width(header.cell_len, widths)
    for cell in cells:
        if cell.cell_len > width:
            cell.truncate(width, overflow="ellipsis")
    return width


def _rich_panel(env: "Env", obj: dict, columns: Sequence[Column], title: str | None) -> None:
    from rich.panel import Panel
    from rich.table import Table

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column(overflow="fold")
    for col in columns:
        grid.add_row(safe_markup(col.header), col.human(obj))
    env.console.print(Panel(grid, title=safe_markup(title) if title else None, expand=False,
                            title_align="left"))
