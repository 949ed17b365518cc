"""Streaming JSONL checks: one line at a time, in constant memory, whatever the file's size.

A line checker takes one decoded line and yields `(field, message)` for each problem; the
report keeps the first MAX_SHOWN as `FILE:LINE: field: message` and counts the rest.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mistral_cli.errors import UsageError

MAX_SHOWN = 20
LineCheck = Callable[[Any], Iterable[tuple[str, str]]]


@dataclass
class Report:
    """What one file's check found: sizes, and the problems (the first MAX_SHOWN kept)."""

    path: str
    lines: int = 0
    examples: int = 0
    bytes: int = 0
    problems: list[str] = field(default_factory=list)
    problem_count: int = 0
    blank_lines: int = 0
    _lines: list[int] = field(default_factory=list, repr=False)  # the line of each kept problem

    @property
    def ok(self) -> bool:
        """Whether the file has no problem."""
        return self.problem_count == 0

    def add(self, line: int, where: str, message: str) -> None:
        """Record a problem at LINE in field WHERE ("" for the whole line); the kept ones stay
        in line order (the first MAX_SHOWN lines), whatever order the checks found them in."""
        self.problem_count += 1
        position = bisect.bisect_right(self._lines, line)
        if position >= MAX_SHOWN:
            return
        self._lines.insert(position, line)
        self.problems.insert(position, f"{self.path}:{line}: {where + ': ' if where else ''}{message}")
        if len(self.problems) > MAX_SHOWN:
            del self._lines[MAX_SHOWN:], self.problems[MAX_SHOWN:]

    def shown(self) -> list[str]:
        """The kept problems, and a line counting those not kept."""
        rest = self.problem_count - len(self.problems)
        return self.problems + ([f"... and {rest} more"] if rest else [])

    def raise_if_bad(self) -> None:
        """Raise a UsageError (exit 2) listing the problems, if there are any."""
        if not self.ok:
            raise UsageError(f"{self.path}: {self.problem_count} problem(s) in {self.lines} line(s)",
                             details=self.shown())


def check_jsonl(path: Path, check: LineCheck, label: str | None = None,
                blank_ok: bool = False) -> Report:
    """Read PATH line by line, decode each line and run CHECK on it; with BLANK_OK a blank
    line is counted (Report.blank_lines), not a problem."""
    report = Report(label or str(path))
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, 1):
            report.lines = number
            report.bytes += len(raw)
            if blank_ok and not raw.strip():
                report.blank_lines += 1
                continue
            try:
                check_line(report, number, raw, check)
            except RecursionError:  # json.loads on thousands of nested brackets
                report.add(number, "", "not valid JSON (nested too deeply)")
    return report


def check_line(report: Report, number: int, raw: bytes, check: LineCheck) -> None:
    """Decode one line (RAW) and record what CHECK finds in REPORT."""
    try:
        value = json.loads(raw)
    except ValueError as exc:  # a blank line too: looked at only then, no copy of every line
        report.add(number, "", "empty line" if not raw.strip() else
                   f"not valid JSON ({getattr(exc, 'msg', exc)})")
        return
    report.examples += 1
    for where, message in check(value):
        report.add(number, where, message)
