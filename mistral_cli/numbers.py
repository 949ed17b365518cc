"""Numbers typed on the command line: one parser, one check and one shape of bounds for every
numeric option (and every bounds table: generation RANGES, fine-tuning HYPERPARAMETERS).

Light on purpose (no json, uuid or pathlib): the option declarations of every command read it
at start-up, through commands/shared/common_options.py.
"""

from __future__ import annotations

import math
import re
from typing import Any, NamedTuple

from mistral_cli.errors import OptionValueError, UsageError


class Bound(NamedTuple):
    """One numeric option's bounds: the one shape of every bounds table (RANGES, HYPERPARAMETERS),
    and the one parser of every numeric option on the command line (`parse`)."""

    option: str
    low: float | None = None
    high: float | None = None
    integer: bool = False
    exclusive_low: bool = False

    def parse(self, value: Any) -> int | float:
        """VALUE (the text typed, or a declared default) as this option's number, checked."""
        number = value if isinstance(value, (int, float)) and not isinstance(value, bool) else (
            parse_number(str(value), self.option, integer=self.integer))
        try:
            check_bound(number, self)
        except UsageError as exc:
            raise OptionValueError(exc.message) from None
        return number

    def range_text(self) -> str:
        """The bounds as a help text says them: `0 to 1.5`, `at least 1`, `over 0`."""
        if self.low is not None and self.high is not None and not self.exclusive_low:
            return f"{self.low:g} to {self.high:g}"
        if self.low is not None:
            return f"{'over' if self.exclusive_low else 'at least'} {self.low:g}"
        return f"at most {self.high:g}" if self.high is not None else "any number"


_INTEGER_TEXT = re.compile(r"[+-]?[0-9]+")
_NUMBER_TEXT = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def parse_number(text: str, option: str, *, integer: bool = False) -> int | float:
    """TEXT as a plain decimal number (a whole one when INTEGER): no `nan`, `inf`, `1_0` or
    spaces; anything else is refused naming OPTION, with what it wants and what it got."""
    pattern = _INTEGER_TEXT if integer else _NUMBER_TEXT
    if len(text) > 400 or not pattern.fullmatch(text):
        shown = text if len(text) <= 40 else text[:39] + "…"
        raise OptionValueError(f"{option} wants {'a whole number' if integer else 'a number'} (got {shown!r})")
    return int(text) if integer else float(text)


# The ceiling of a number the spec leaves unbounded: the largest integer JSON and a float
# both hold exactly. Past it a value is absurd (and would overflow sleep(), timedelta, ...).
NUMBER_CEILING = 2 ** 53


def check_number(value: Any, option: str, low: float | None = None, high: float | None = None, *,
                 integer: bool = False, exclusive_low: bool = False) -> None:
    """The one number check: refuse (exit 2, naming OPTION) a VALUE that is not a number (an
    integer when INTEGER), not finite, or outside [LOW, HIGH] (LOW excluded when EXCLUSIVE_LOW);
    HIGH defaults to NUMBER_CEILING. None (an option not given) passes."""
    if value is None:
        return
    kinds = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds):
        raise UsageError(f"{option} must be {'an integer' if integer else 'a number'} (got {value!r})")
    if not math.isfinite(value):
        raise UsageError(f"{option} must be a finite number (got {value})")
    if low is not None and high is not None and not exclusive_low and not low <= value <= high:
        raise UsageError(f"{option} must be between {low:g} and {high:g} (got {value:g})")
    if low is not None and (value <= low if exclusive_low else value < low):
        raise UsageError(f"{option} must be {'greater than' if exclusive_low else 'at least'} {low:g} "
                         f"(got {value:g})")
    if value > (NUMBER_CEILING if high is None else high):
        raise UsageError(f"{option} must be at most {NUMBER_CEILING if high is None else high:g} (got {value:g})")


def check_bound(value: Any, bound: Bound, label: str | None = None) -> None:
    """check_number for a row of a bounds table (LABEL in place of its option when given)."""
    check_number(value, label or bound.option, bound.low, bound.high, integer=bound.integer,
                 exclusive_low=bound.exclusive_low)


MAX_PAGES = 10_000  # no list is walked further (api/pages.py)
DEFAULT_PAGE_SIZE = 100  # the page size a list operation uses when asked for none (the spec's default)
MAX_PAGE_SIZE = 1_000  # the largest page a list operation serves: what `--all` asks for
PAGE = Bound("--page", 0, MAX_PAGES, integer=True)
PAGE_SIZE = Bound("--page-size", 1, MAX_PAGE_SIZE, integer=True)
