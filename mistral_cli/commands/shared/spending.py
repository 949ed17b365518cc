"""`--max-cost` and `--estimate`, declared once for every command that can send many billed
requests, and the steps those commands share: the whole run's estimate before anything is sent,
printed (`--estimate`) or checked against the budgets in force (store/budget.py, exit 7)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from mistral_cli.commands.shared.common_options import number_option
from mistral_cli.numbers import Bound
from mistral_cli.render.output import OutputFormat

if TYPE_CHECKING:  # pragma: no cover
    from mistral_cli.env import Env
    from mistral_cli.store.budget import Budget, Estimate

SPENDING = "Spending"
MAX_COST = Bound("--max-cost", 0, None)
MaxCostOpt = Annotated[Optional[float], number_option(
    MAX_COST, metavar="AMOUNT", rich_help_panel=SPENDING, show_default=False,
    help="Stop before this run spends more than AMOUNT, in the price table's currency (estimated "
         "before it starts and before each request; exit 7); also allows a run past the profile's budgets")]
EstimateOpt = Annotated[bool, typer.Option(
    "--estimate", rich_help_panel=SPENDING,
    help="Print what the run would send (requests, tokens, cost, at most) and send nothing.")]


def text_plan(texts: Iterable[str], skip: int) -> tuple[int, int]:
    """(inputs, token bound) of TEXTS after the first SKIP."""
    from mistral_cli.store.budget import token_bound

    count = tokens = 0
    for number, text in enumerate(texts):
        if number >= skip:
            count += 1
            tokens += token_bound(text)
    return count, tokens


def text_estimate(env: "Env", model: str, texts: Iterable[str], skip: int, per_request: int,
                  batch: bool = False) -> "Estimate":
    """The estimate of sending TEXTS (after SKIP) to MODEL, PER_REQUEST a request (one a line at
    the batch rate when BATCH)."""
    from mistral_cli.store.budget import price_table, priced

    count, tokens = text_plan(texts, skip)
    requests = count if batch else math.ceil(count / per_request)
    return priced(price_table(env), model, requests, tokens, batch=batch)


def show_estimate(env: "Env", estimate: "Estimate", output: OutputFormat) -> None:
    """Print ESTIMATE (`--estimate`): a line on a terminal, its fields with -o json or jsonl."""
    from mistral_cli.render.output import write_json, write_jsonl
    from mistral_cli.store.budget import describe

    if output is OutputFormat.json:
        write_json(env, estimate.as_dict())
    elif output is OutputFormat.jsonl:
        write_jsonl(env, [estimate.as_dict()])
    else:
        env.stdout.write(f"would send {describe(estimate)}; nothing was sent\n")
        env.stdout.flush()


def start_text_run(env: "Env", max_cost: float | None, estimate: bool, model: str, texts: Iterable[str],
                   again: "Callable[[], Iterable[str]] | None", skip: int, per_request: int, output: OutputFormat,
                   batch: bool = False) -> "tuple[bool, Budget | None]":
    """Before a run over texts sends anything: with ESTIMATE, print what it would send (TEXTS
    read) and return (True, None): the command stops. Otherwise the Budget in force (None:
    none), once the whole run's estimate passed it (AGAIN: the texts read once more; None for
    stdin, checked request by request instead)."""
    from mistral_cli.store.budget import Budget

    if estimate:
        show_estimate(env, text_estimate(env, model, texts, skip, per_request, batch), output)
        return True, None
    guard = Budget.start(env, max_cost, model, batch)
    if guard is not None:
        guard.check_run(text_estimate(env, model, again(), skip, per_request, batch) if again is not None else None)
    return False, guard
