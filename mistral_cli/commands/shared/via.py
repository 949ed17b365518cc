"""`--via online|batch` on the analysis commands (embeddings, classifiers moderate and
moderate-chat): the options of the batch route and the rule that every option either works on
the route chosen or is refused, with the reason, before anything is read or sent.

The route itself (request file, run once, watch, results in input order) is
commands/batch/route.py, loaded only when `--via batch` is given.
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import typer

from mistral_cli.commands.shared.interval import check_interval, interval_option
from mistral_cli.errors import UsageError

ROUTE = "Route"


class Via(str, Enum):
    """Where the requests run."""

    online = "online"
    batch = "batch"


ViaOpt = Annotated[Via, typer.Option(
    "--via", rich_help_panel=ROUTE, metavar="online|batch",
    help="online: answers now (default). batch: one job on Mistral's batch service at half the "
         "price, answered within the job's timeout; same output. Run again to resume.")]
NewOpt = Annotated[bool, typer.Option(
    "--new", rich_help_panel=ROUTE,
    help="With --via batch: start a separate run, even if the same inputs ran before.")]
IntervalOpt = Annotated[float, interval_option("With --via batch: ", rich_help_panel=ROUTE)]

# option (parameter name) -> why it has no meaning on the batch route
ONLINE_ONLY = {
    "per_request": "the batch route sends one request per input (its custom_id is the input number)",
    "batch_size": "the batch route sends one request per input (its custom_id is the input number)",
    "concurrency": "the batch service runs the requests; nothing is sent at once from here",
}
# option (parameter name) -> what it is for, on the batch route only
BATCH_ONLY = {
    "new": "it starts a separate batch run",
    "interval": "it sets how often the batch job is polled",
}


def check_route(ctx: typer.Context, via: Via, interval: float) -> None:
    """Refuse (exit 2) an option given on the command line that the chosen route cannot
    honour, and an --interval out of bounds."""
    check_interval(interval)
    refused = ONLINE_ONLY if via is Via.batch else BATCH_ONLY
    for name, reason in refused.items():
        if _given(ctx, name):
            flag = _flag(ctx, name)
            if via is Via.batch:
                raise UsageError(f"{flag} does not apply with --via batch: {reason}")
            raise UsageError(f"{flag} applies only with --via batch: {reason}")


def _given(ctx: typer.Context, name: str) -> bool:
    """Whether the option NAME was set on the command line (or from the environment)."""
    if name not in ctx.params:
        return False
    source = ctx.get_parameter_source(name)  # an enum of the click Typer carries: read by name
    return source is not None and source.name != "DEFAULT"


def _flag(ctx: typer.Context, name: str) -> str:
    """The option's long name, as the user types it."""
    for param in ctx.command.params:
        if param.name == name:
            return max(param.opts, key=len)
    return name
