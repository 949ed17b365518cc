"""Terminal views of analysis results: embedding summaries, a cosine-similarity matrix, and
classifier scores as bars with flagged categories standing out. Rich is imported lazily."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from mistral_cli.render.safe_text import neutralise, safe_markup

if TYPE_CHECKING:  # pragma: no cover
    from rich.table import Table

BAR_WIDTH = 20


def clip(text: str, width: int) -> str:
    """TEXT on one line, control characters removed (format characters escaped), cut to WIDTH
    with an ellipsis."""
    flat = neutralise(" ".join(text.split()))
    return flat if len(flat) <= width else flat[:width - 1] + "…"


def bar(score: float, width: int = BAR_WIDTH) -> str:
    """A score from 0 to 1 as a bar of WIDTH cells."""
    filled = round(max(0.0, min(1.0, score)) * width)
    return "█" * filled + "░" * (width - filled)


TEXT_FLOOR = 20  # the TEXT column keeps this many cells before FIRST VALUES shows fewer values
VALUE_CELLS = 9  # one value and its separator: ", +0.2080"


def summary_table(rows: Sequence[dict[str, Any]], text_width: int, width: int = 0) -> "Table":
    """One row per embedding, on one line in WIDTH cells (0: any): index, text (cut to at most
    TEXT_WIDTH), dimensions, norm, and as many first values as fit."""
    from rich import box
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD, header_style="bold", show_edge=False)
    for header, justify in (("#", "right"), ("TEXT", "left"), ("DIMS", "right"),
                            ("NORM", "right"), ("FIRST VALUES", "left")):
        table.add_column(header, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    text_width, values = _fit_summary(rows, text_width, width)
    for row in rows:
        first = ", ".join(f"{value:+.4f}" for value in row["first"][:values])
        more = ", …" if row["dims"] > min(values, len(row["first"])) else ""
        table.add_row(str(row["index"]), safe_markup(clip(row["text"], text_width)), str(row["dims"]),
                      f"{row['norm']:.4f}", f"[{first}{more}]")
    return table


def _fit_summary(rows: Sequence[dict[str, Any]], text_width: int, width: int) -> tuple[int, int]:
    """The TEXT width and the count of first values that keep each row of ROWS on one line."""
    values = max((len(row["first"]) for row in rows), default=0)
    if not width or not rows:
        return text_width, values
    index = max(len("#"), *(len(str(row["index"])) for row in rows))
    numbers = index + len("DIMS") + max(len("NORM"), *(len(f"{row['norm']:.4f}") for row in rows))
    padding = 2 * 5 + 4  # one cell either side of each of the five columns, one between two
    while True:
        first = max(len("FIRST VALUES"), len("[, …]") + VALUE_CELLS * values)
        room = width - numbers - padding - first
        if room >= TEXT_FLOOR or values <= 1:
            return max(min(text_width, room), 1), values
        values -= 1


def similarity_table(labels: Sequence[str], matrix: Sequence[Sequence[float]]) -> "Table":
    """The cosine-similarity matrix, the highest off-diagonal values in bold."""
    from rich import box
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD, header_style="bold", show_edge=False,
                  title="cosine similarity", title_justify="left")
    table.add_column("")
    for label in labels:
        table.add_column(safe_markup(label), justify="right")
    for i, (label, row) in enumerate(zip(labels, matrix)):
        table.add_row(safe_markup(label), *(_similarity_cell(value, i == j) for j, value in enumerate(row)))
    return table


def _similarity_cell(value: float, diagonal: bool) -> str:
    """One matrix cell: dim on the diagonal, bold from 0.8."""
    if diagonal:
        return f"[dim]{value:.3f}[/dim]"
    return f"[bold]{value:.3f}[/bold]" if value >= 0.8 else f"{value:.3f}"


def score_table(title: str, scores: dict[str, float], flagged: set[str]) -> "Table":
    """One input's categories, each with its score as a bar; flagged ones in bold red."""
    from rich import box
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD, header_style="bold", show_edge=False, title=safe_markup(title),
                  title_justify="left")
    for header, justify in (("CATEGORY", "left"), ("SCORE", "left"), ("", "right"), ("FLAGGED", "left")):
        table.add_column(header, justify=justify)  # type: ignore[arg-type]
    for name, score in scores.items():
        style = "bold red" if name in flagged else ""
        cells = [safe_markup(name), bar(score), f"{score:.3f}", "yes" if name in flagged else ""]
        table.add_row(*cells, style=style)
    return table
