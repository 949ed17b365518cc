"""A line chart drawn with plain characters, for the loss curves of a watched job.

No library: a grid of WIDTH x HEIGHT cells, one mark per series and column (the point
nearest each column), the y range labelled on the left and the x range below. Where points of
two series fall in one cell, the cell shows OVERLAP (named in the legend), so no series hides
under another.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

Point = tuple[float, float]
MARKS = "*o+x#"
OVERLAP = "@"  # a cell where two series meet


def _finite(points: Sequence[Point]) -> list[Point]:
    return [(x, y) for x, y in points if math.isfinite(x) and math.isfinite(y)]


def line_chart(series: Sequence[tuple[str, Sequence[Point]]], width: int = 60,
               height: int = 10) -> list[str]:
    """The chart of SERIES ((name, [(x, y), ...]) each) as lines of text; [] with no point."""
    cleaned = [(name, _finite(points)) for name, points in series]
    every = [point for _name, points in cleaned for point in points]
    if not every:
        return []
    width, height = max(8, width), max(3, height)
    x_low, x_high = min(x for x, _ in every), max(x for x, _ in every)
    y_low, y_high = min(y for _, y in every), max(y for _, y in every)
    if y_high == y_low:
        y_low, y_high = y_low - 0.5, y_high + 0.5
    grid = [[" "] * width for _ in range(height)]
    for index, (_name, points) in enumerate(cleaned):
        mark = MARKS[index % len(MARKS)]
        for x, y in points:
            col = _cell(x, x_low, x_high, width)
            row = height - 1 - _cell(y, y_low, y_high, height)
            grid[row][col] = mark if grid[row][col] in (" ", mark) else OVERLAP
    return _frame(grid, (x_low, x_high), (y_low, y_high), cleaned)


def _cell(value: float, low: float, high: float, cells: int) -> int:
    """Which of CELLS cells VALUE falls in between LOW and HIGH; halved first, so that a range
    as wide as the floats themselves (-1e308 to 1e308) does not overflow to inf and NaN."""
    span = high / 2 - low / 2
    if span <= 0:
        return 0
    return min(cells - 1, max(0, round((value / 2 - low / 2) / span * (cells - 1))))


def _frame(grid: list[list[str]], xs: tuple[float, float], ys: tuple[float, float],
           series: Sequence[tuple[str, Sequence[Point]]]) -> list[str]:
    """GRID with the y labels at the left, the x axis and range below, and a legend."""
    labels = {0: _num(ys[1]), len(grid) - 1: _num(ys[0]), (len(grid) - 1) // 2: _num(ys[0] / 2 + ys[1] / 2)}
    pad = max(len(text) for text in labels.values())
    lines = [f"{labels.get(row, ''):>{pad}} |{''.join(cells)}" for row, cells in enumerate(grid)]
    width = len(grid[0])
    lines.append(f"{'':>{pad}} +{'-' * width}")
    low, high = _num(xs[0]), _num(xs[1])
    lines.append(f"{'':>{pad}}  {low}{high:>{max(1, width - len(low))}}")
    legend = "   ".join(f"{MARKS[i % len(MARKS)]} {name}" for i, (name, points) in enumerate(series) if points)
    if any(OVERLAP in cells for cells in grid):
        legend += f"   {OVERLAP} both"
    lines.append(f"{'':>{pad}}  {legend}")
    return lines


def _num(value: float) -> str:
    """A short label for an axis value."""
    if abs(value) >= 1e6:
        return f"{value:.3g}"  # not 309 digits for a huge loss
    return f"{value:.0f}" if abs(value) >= 1000 or value == int(value) else f"{value:.3g}"
