"""`--interval`, the seconds between polls of a job: one option and one check for every watch
and for the batch route (the bounds live with the poller, api/poll.py). Light: the analysis
commands declare the option without loading the watch engine."""

from __future__ import annotations

from typing import Annotated

import typer

from mistral_cli.api.poll import DEFAULT_INTERVAL, MAX_INTERVAL, MIN_INTERVAL, POLL_CAP
from mistral_cli.inputs import check_number

__all__ = ["DEFAULT_INTERVAL", "IntervalOpt", "check_interval", "interval_option"]


def interval_option(before: str = "", **extra: str) -> typer.models.OptionInfo:
    """The --interval option, its help starting with BEFORE."""
    return typer.Option(
        "--interval", metavar="SECONDS", **extra,
        help=f"{before}Seconds between polls at first, {MIN_INTERVAL:g} to {MAX_INTERVAL:g} "
             f"(grows while nothing changes, up to {POLL_CAP:g}).")


IntervalOpt = Annotated[float, interval_option()]


def check_interval(value: float) -> None:
    """Refuse an --interval outside [MIN_INTERVAL, MAX_INTERVAL] (exit 2, nothing sent)."""
    check_number(value, "--interval", MIN_INTERVAL, MAX_INTERVAL)
