"""How a table fits a terminal: the width of each column, and which columns are left out.

One rule for every table on a terminal (the Output contract in DESIGN.md), modelled on gh's
table printer: measure every cell; ids, sizes, times and statuses keep their whole width;
text columns shrink (their cells cut with `…`) down to a floor; and if even the floors do not
fit, the columns of lowest priority (highest `priority` number, the rightmost first) are left
out. A column of priority 0 is never left out. A list column (capabilities) loses its last items
when cut, and a path its place, so before one is cut every column less important than it is left
out; a path is cut from its start (`…/results/run`): its end names the place. A cell of a fixed
kind (which never shrinks) wider than CELL_CAP (a 5,000-character id from a broken or hostile server) does not set its
column's width: it is cut with `…` to the widest cell of a real length (`fixed_width`), so it
cannot push every other column out; ids of any real length stay whole, and `-o json` shows
every value whole. A column that may stack (`under`, the index of another column) is, when it
would be left out, written under that column's value in the same cell (`↳ value`; its header beside the host's) if the host
can widen to hold it without leaving out anything more important: a fine-tuning job's result
under the job's id at 80 columns, both whole. Pure arithmetic on widths: no Rich here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

FIXED_KINDS = frozenset({"id", "size", "time", "status", "bool"})  # cut, these would mislead
WHOLE_FIRST = frozenset({"list", "path"})  # cut only once every less important column is left out
TEXT_FLOOR = 12  # a text column shrinks to this many cells (or its header's width) at least
GAP = 2  # cells between two columns: right padding and divider, as gh leaves two spaces
CELL_CAP = 64  # the widest one cell of a fixed kind may be: real ids (UUIDs 36, `ft:` ~50) fit
STACK_MARK = "↳ "  # what starts a value written under another column's value


class Spec(NamedTuple):
    """What the layout needs to know about one column."""

    header: str
    kind: str
    priority: int
    natural: int  # the widest of its header and cells, in terminal cells
    under: int | None = None  # the column it may be written under when it does not fit beside it


class Layout(NamedTuple):
    """The columns kept (indexes into the specs, in order), their widths, and those left out."""

    kept: list[int]
    widths: list[int]
    dropped: list[int]
    stacked: tuple[tuple[int, int], ...] = ()  # (column, the kept column it is written under)


def fixed_width(header: int, cells: Sequence[int]) -> int:
    """The width of a fixed-kind column whose HEADER and CELLS are this wide: its widest cell of
    at most CELL_CAP cells (CELL_CAP when none is); wider cells are cut to it."""
    sane = [width for width in cells if 0 < width <= CELL_CAP]  # an empty cell (a total row) sets nothing
    return max([header, *sane]) if sane else max(header, CELL_CAP)


def floor_width(spec: Spec) -> int:
    """The narrowest SPEC's column may become: its whole width for a fixed kind."""
    if spec.kind in FIXED_KINDS:
        return spec.natural
    return min(spec.natural, max(len(spec.header), TEXT_FLOOR))


def table_width(widths: Sequence[int]) -> int:
    """The cells a table of columns this wide takes on screen."""
    return sum(widths) + GAP * max(len(widths) - 1, 0)


def fit(specs: Sequence[Spec], available: int) -> Layout:
    """The layout of SPECS in AVAILABLE terminal cells."""
    layout = _fit(specs, available, list(range(len(specs))))
    for guest in list(layout.dropped):
        layout = _stack(specs, layout, available, guest)
    return layout


def _fit(specs: Sequence[Spec], available: int, candidates: list[int]) -> Layout:
    """The layout of the CANDIDATES among SPECS in AVAILABLE terminal cells."""
    kept = list(candidates)
    while table_width([floor_width(specs[i]) for i in kept]) > available:
        victim = _lowest_priority(specs, kept)
        if victim is None:
            break
        kept.remove(victim)
    kept = _before_cutting_a_list(specs, kept, available)
    kept = _add_back(specs, kept, available, candidates)
    widths = _shrink([specs[i] for i in kept], available)
    return Layout(kept, widths, [i for i in candidates if i not in kept])


def _stack(specs: Sequence[Spec], layout: Layout, available: int, guest: int) -> Layout:
    """LAYOUT with the left-out column GUEST written under its host column, when the host can
    widen to hold it and nothing more important than GUEST is left out for it; else LAYOUT."""
    host = specs[guest].under
    if host is None or host not in layout.kept or guest not in layout.dropped:
        return layout
    widened = list(specs)
    header = len(specs[host].header) + 1 + len(STACK_MARK) + len(specs[guest].header)  # `ID ↳ RESULT`
    widened[host] = specs[host]._replace(natural=max(specs[host].natural, header,
                                                     specs[guest].natural + len(STACK_MARK)))
    candidates = [i for i in layout.kept + layout.dropped if i != guest]
    trial = _fit(widened, available, sorted(candidates))
    lost = [i for i in layout.kept if i not in trial.kept and specs[i].priority <= specs[guest].priority]
    if host not in trial.kept or lost:
        return layout
    return trial._replace(stacked=(*layout.stacked, (guest, host)))


def _lowest_priority(specs: Sequence[Spec], kept: list[int]) -> int | None:
    """The column to leave out next: highest priority number, rightmost among equals."""
    candidates = [i for i in kept if specs[i].priority > 0]
    if not candidates:
        return None
    return max(candidates, key=lambda i: (specs[i].priority, i))


def _before_cutting_a_list(specs: Sequence[Spec], kept: list[int], available: int) -> list[int]:
    """KEPT less the columns less important than a list column that would be cut."""
    while True:
        widths = _shrink([specs[i] for i in kept], available)
        cut = [specs[i].priority for i, width in zip(kept, widths)
               if specs[i].kind in WHOLE_FIRST and width < specs[i].natural]
        lesser = [i for i in kept if cut and specs[i].priority > min(cut)]
        if not lesser:
            return kept
        kept = [i for i in kept if i != max(lesser, key=lambda i: (specs[i].priority, i))]


def _add_back(specs: Sequence[Spec], kept: list[int], available: int, candidates: list[int]) -> list[int]:
    """KEPT plus any left-out column that fits with every column whole, the most important
    first (leaving out a wide column can make room for a narrower one left out before it; a
    column added back never makes a more important one cut its text)."""
    for index in sorted(set(candidates) - set(kept), key=lambda i: (specs[i].priority, i)):
        trial = sorted(kept + [index])
        if table_width([specs[i].natural for i in trial]) <= available:
            kept = trial
    return kept


def _shrink(specs: Sequence[Spec], available: int) -> list[int]:
    """Natural widths, the widest text columns narrowed one cell at a time until they fit."""
    widths = [spec.natural for spec in specs]
    floors = [floor_width(spec) for spec in specs]
    excess = table_width(widths) - available
    while excess > 0:
        room = [(widths[i] - floors[i], widths[i], i) for i in range(len(specs)) if widths[i] > floors[i]]
        if not room:
            break
        widest = max(room, key=lambda entry: (entry[1], entry[0]))[2]
        widths[widest] -= 1
        excess -= 1
    return widths
