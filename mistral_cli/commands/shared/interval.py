"""`--interval`, the seconds between polls of a job: one option and one check for every watch
and for the batch route (the bounds live with the poller, api/poll.py). Light: the analysis
commands declare the option without loading the watch engine."""

from __future__ import annotations

from typing import Annotated

import typer

from mistral_cli.api.poll import DEFAULT_INTERVAL, MAX_INTERVAL, MIN_INTERVAL, POLL_CAP
from mistral_cli.commands.shared.common_options import number_option
from mistral_cli.numbers import Bound, check_bound

__all__ = ["DEFAULT_INTERVAL", "IntervalOpt", "check_interval", "interval_option"]


INTERVAL = Bound("--interval", MIN_INTERVAL, MAX_INTERVAL)


def interval_option(before: str = "", **extra: str) -> typer.models.OptionInfo:
    """The --interval option, its help starting with BEFORE."""
    return number_option(INTERVAL, metavar="SECONDS", **extra,
                         help=f"{before}{'s' if before else 'S'}econds between polls at first; grows while "
                              f"nothing changes, up to {POLL_CAP:g}")


IntervalOpt = Annotated[float, interval_option()]


def check_interval(value: float) -> None:
    """Refuse an --interval outside [MIN_INTERVAL, MAX_INTERVAL] (exit 2, nothing sent)."""
    check_bound(value, INTERVAL)
