"""`--interval`, the seconds between polls of a job: one option and one check for every watch
and for the batch route (the bounds live with the poller, api/poll.py). Light: the analysis
commands declare the option without loading the watch engine."""

from __future__ import annotations

from typing import Annotated

import typer

from mistral_cli.api.poll import DEFAULT_INTERVAL, MAX_INTERVAL, MIN_INTERVAL, POLL_CAP, ROUTE_INTERVAL
from mistral_cli.commands.shared.common_options import number_option
from mistral_cli.numbers import Bound, check_bound

__all__ = ["DEFAULT_INTERVAL", "ROUTE_INTERVAL", "IntervalOpt", "check_interval", "interval_option"]


INTERVAL = Bound("--interval", MIN_INTERVAL, MAX_INTERVAL)


def interval_option(before: str = "", back_off: bool = False, **extra: str) -> typer.models.OptionInfo:
    """The --interval option, its help starting with BEFORE (BACK_OFF: the wait grows after
    every poll, as on the batch route)."""
    grows = "grows by half after every poll" if back_off else "grows while nothing changes"
    return number_option(INTERVAL, metavar="SECONDS", **extra,
                         help=f"{before}{'s' if before else 'S'}econds before the first poll; the wait "
                              f"{grows}, up to {POLL_CAP:g}")


IntervalOpt = Annotated[float, interval_option()]


def check_interval(value: float) -> None:
    """Refuse an --interval outside [MIN_INTERVAL, MAX_INTERVAL] (exit 2, nothing sent)."""
    check_bound(value, INTERVAL)
