"""`--max-cost` and `--estimate`, declared once for every command that can send many billed
requests, and the steps those commands share: the whole run's estimate before anything is sent,
printed (`--estimate`) or checked against the budgets in force (store/budget.py, exit 7)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from mistral_cli.api.operations import OPERATIONS
from mistral_cli.commands.shared.common_options import number_option
from mistral_cli.errors import MCLIError
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
    from mistral_cli.render.output import for_stdout, write_json, write_jsonl
    from mistral_cli.store.budget import describe

    if output is OutputFormat.json:
        write_json(env, estimate.as_dict())
    elif output is OutputFormat.jsonl:
        write_jsonl(env, [estimate.as_dict()])
    else:
        env.stdout.write(for_stdout(env, f"would send {describe(estimate)}; nothing was sent") + "\n")
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


def start_run(env: "Env", max_cost: float | None, estimate: bool, model: str, requests: int, prompt_tokens: int,
              output: OutputFormat, completion_tokens: int = 0, pages: int = 0,
              batch: bool = False) -> "tuple[bool, Budget | None]":
    """start_text_run for a run whose size is known up front (REQUESTS requests, at most these
    tokens and pages in all): print it with ESTIMATE, else check it against the budgets in force."""
    from mistral_cli.store.budget import Budget, price_table, priced

    if estimate:
        show_estimate(env, priced(price_table(env), model, requests, prompt_tokens, completion_tokens, pages, batch),
                      output)
        return True, None
    guard = Budget.start(env, max_cost, model, batch)
    if guard is not None:
        guard.check_run(priced(guard.table, model, requests, prompt_tokens, completion_tokens, pages, batch))
    return False, guard


def messages_tokens(conversations: Iterable[list]) -> int:
    """The token bound of CONVERSATIONS (lists of messages): their JSON's bytes, plus a margin
    a message for its role and separators."""
    from mistral_cli.render.output import dumps
    from mistral_cli.store.budget import TOKENS_PER_MESSAGE, token_bound

    return sum(token_bound(dumps(conversation)) + TOKENS_PER_MESSAGE * len(conversation)
               for conversation in conversations)


def capped_inputs(guard: "Budget | None", inputs: Any, skip: int, model: str) -> Any:
    """INPUTS (a TextSource) for the batch route: piped texts, whose run was not estimated up
    front, checked as they are read into the request file, before anything is uploaded."""
    from dataclasses import replace

    if guard is None or inputs.again is not None:
        return inputs
    return replace(inputs, texts=_capped(guard, inputs.texts, skip, model))


def _capped(guard: "Budget", texts: Iterable[str], skip: int, model: str) -> Iterator[str]:
    """TEXTS, refused (exit 7) as soon as the batch run they make up passes a budget."""
    from mistral_cli.store.budget import priced, token_bound

    count = tokens = 0
    for number, text in enumerate(texts):
        if number >= skip:
            count += 1
            tokens += token_bound(text)
            guard.check_total(priced(guard.table, model, count, tokens, batch=True))
        yield text


_PDF_PAGE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")
_PDF_COUNT = re.compile(rb"/Type\s*/Pages\b[^>]*?/Count\s+(\d{1,7})|/Count\s+(\d{1,7})[^>]*?/Type\s*/Pages\b")


def document_pages(kind: str, path: Path | None, pages: list[int] | None) -> int | None:
    """How many pages an OCR request reads at most: the --pages asked for, 1 for an image,
    a local PDF's page count (its page objects, or its page tree's /Count, whichever is more);
    None when it cannot be known here (a URL, an uploaded file, a PDF whose objects are compressed)."""
    if pages is not None:
        return len(set(pages))
    if kind == "image":
        return 1
    if path is None:
        return None
    try:
        data = path.read_bytes()
    except OSError:
        return None
    counts = [int(a or b) for a, b in _PDF_COUNT.findall(data)]
    found = max([len(_PDF_PAGE.findall(data)), *counts])
    return found or None


def start_ocr_run(env: "Env", max_cost: float | None, estimate: bool, model: str, kind: str, path: Path | None,
                  pages: list[int] | None, output: OutputFormat) -> bool:
    """--estimate and the budgets for one OCR request (True: the command stops here)."""
    from mistral_cli.errors import BudgetError
    from mistral_cli.store.budget import Budget

    if not estimate and Budget.start(env, max_cost, model) is None:
        return False
    count = document_pages(kind, path, pages)
    if count is None:
        if estimate:
            from mistral_cli.store.budget import price_table, priced

            show_estimate(env, priced(price_table(env), model, 1, 0)._replace(cost=None), output)
            return True
        raise BudgetError("cannot estimate what this OCR run costs: its number of pages is not known here "
                          "(a URL, an uploaded file or a compressed PDF); nothing was sent",
                          hint="give the pages to read with --pages (such as --pages 0-9)")
    return start_run(env, max_cost, estimate, model, 1, 0, output, pages=count)[0]


# the batch endpoints whose answers are completions, bounded by max_tokens
GENERATING = tuple(OPERATIONS[name].template for name in ("chat.complete", "fim.complete", "agents.complete"))


def requests_estimate(env: "Env", model: str, endpoint: str, paths: Iterable[Path]) -> "Estimate":
    """The estimate of the batch request files at PATHS (JSONL: custom_id and body): each
    body's JSON bytes bound its prompt tokens, its max_tokens (else DEFAULT_COMPLETION_BOUND)
    its completion on a generating ENDPOINT; each line priced by its body's model (else MODEL)
    at the batch rate. A line without a price makes the cost unknown."""
    import json

    from mistral_cli.render.output import dumps
    from mistral_cli.store.budget import DEFAULT_COMPLETION_BOUND, price_table, priced, token_bound

    table = price_table(env)
    requests = prompt = completion = 0
    cost: float | None = 0.0
    for path in paths:
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                if not line.strip():
                    continue
                body = json.loads(line).get("body") or {}
                limit = body.get("max_tokens") if endpoint in GENERATING else 0
                out = limit if isinstance(limit, int) and not isinstance(limit, bool) and limit >= 0 else (
                    DEFAULT_COMPLETION_BOUND)
                tokens = token_bound(dumps(body))
                one = priced(table, str(body.get("model") or model), 1, tokens, out, batch=True).cost
                requests, prompt, completion = requests + 1, prompt + tokens, completion + out
                cost = None if cost is None or one is None else cost + one
    return priced(table, model, requests, prompt, completion, batch=True)._replace(cost=cost)


def start_batch_run(env: "Env", max_cost: float | None, estimate: bool, model: str, endpoint: str,
                    paths: list[Path], ids: list[str], output: OutputFormat) -> bool:
    """--estimate and the budgets for `batch create` over local request files PATHS and
    uploaded files IDS (whose requests cannot be read here: refused under a budget)."""
    from mistral_cli.errors import BudgetError
    from mistral_cli.store.budget import Budget

    guard = None if estimate else Budget.start(env, max_cost, model, batch=True)
    if not estimate and guard is None:
        return False
    if ids and not estimate:
        raise BudgetError(f"cannot estimate what this batch job costs: the requests of file {ids[0]} are on "
                          "the server, not here; nothing was sent", hint="give the local request file with --input")
    found = requests_estimate(env, model, endpoint, paths)
    if estimate:
        show_estimate(env, found, output)
        return True
    guard.check_run(found)
    return False


class EstimateShown(MCLIError):
    """`--estimate` printed what a chat would send: stop before sending it (exit 0)."""

    exit_code = 0
    already_reported = True

    def __init__(self) -> None:
        super().__init__("the estimate was printed; nothing was sent")


def guard_generation(env: "Env", max_cost: float | None, estimate: bool, n: int | None,
                     output: Any) -> None:
    """For `chat` and `agents`: before each request (generation's before_generation), print
    the estimate (--estimate) or check it against --max-cost, or the profile's budgets when
    -n asks for several answers. Nothing is set up (or loaded) for a plain chat."""
    if max_cost is None and not estimate and not (n is not None and n > 1):
        return
    state: dict[str, Any] = {}

    def check(request: dict) -> float:
        """Check REQUEST, about to be sent; the amount reserved for it."""
        from mistral_cli.store.budget import Budget, generation_tokens, price_table, priced

        model = str(request.get("model") or request.get("agent_id") or "")
        prompt, completion = generation_tokens(request)
        if estimate:
            show_estimate(env, priced(price_table(env), model, 1, prompt, completion),
                          OutputFormat.json if getattr(output, "value", "") == "json" else OutputFormat.table)
            raise EstimateShown()
        if "guard" not in state:
            state["guard"] = Budget.start(env, max_cost, model)
            if state["guard"] is not None:
                state["guard"].check_run(priced(state["guard"].table, model, 1, prompt, completion))
        guard = state["guard"]
        return guard.before_request(prompt, completion, model=model) if guard is not None else 0.0

    env.services["generation_budget"] = check
