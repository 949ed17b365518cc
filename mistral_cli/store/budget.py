"""Budgets: the one path every run that can send many billed requests goes through, so that it
stops before it passes `--max-cost` or the profile's `budget.daily` / `budget.monthly`.

    guard = Budget.start(env, max_cost, model)      # None: no budget in force, nothing checked
    guard.check_run(estimate)                       # before anything is sent (exit 7: nothing sent)
    reserved = guard.before_request(tokens)         # before each request (exit 7: stop here)
    guard.after_request(reserved)                   # once its answer came (the ledger has it)

Spend so far is what the ledger recorded in this process (store/ledger.spent_this_run), plus
the estimates of the requests still in flight; where the ledger cannot price or record an
answer, that answer's estimate counts instead (never 0). Estimates are upper bounds: tokens
from bytes (`token_bound`), completions at most `max_tokens` (else DEFAULT_COMPLETION_BOUND).
A loop that sends one request after another (chat tools, `-n`) calls `check_request(env, ...)`
before each: it uses the run's Budget if the command started one.
"""

from __future__ import annotations

import threading
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, NamedTuple

from mistral_cli.errors import BudgetError

if TYPE_CHECKING:  # pragma: no cover
    from mistral_cli.config.prices import PriceTable
    from mistral_cli.env import Env

TOKENS_PER_TEXT = 4  # a text's tokens are at most its UTF-8 bytes, plus this for special tokens
TOKENS_PER_MESSAGE = 8  # a chat message's role and separators, beyond its JSON bytes
DEFAULT_COMPLETION_BOUND = 4_096  # a completion's tokens when no max_tokens bounds it
WARN_AT = 0.8  # a profile budget's share that is warned about, once a UTC day
WARNED_FILE = "budget-warned"
PRICE_HINT = ('add its price to config.toml: [prices.models."{model}"] with input = USD per million '
              "prompt tokens (and output, pages); `mcli usage --prices` shows the table in force")


def token_bound(text: str) -> int:
    """At most how many tokens TEXT is (Tekken is byte-level BPE: a token holds 1 byte or more)."""
    return len(text.encode("utf-8", "surrogatepass")) + TOKENS_PER_TEXT


def tokens_of(texts: Any) -> int:
    """The token bound of TEXTS, summed."""
    return sum(token_bound(text) for text in texts)


class Estimate(NamedTuple):
    """What a run (or one request) would send, at most, and what that would cost (None: unknown)."""

    model: str
    requests: int
    prompt_tokens: int
    completion_tokens: int = 0
    pages: int = 0
    batch: bool = False
    cost: float | None = None
    currency: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape of `--estimate -o json`."""
        return {**self._asdict(), "bound": "at most"}


def priced(table: "PriceTable", model: str, requests: int, prompt_tokens: int, completion_tokens: int = 0,
           pages: int = 0, batch: bool = False) -> Estimate:
    """An Estimate of REQUESTS requests of MODEL with its cost from TABLE (None when unknown)."""
    from mistral_cli.config.prices import Counts

    cost = table.cost(model, Counts(prompt_tokens, completion_tokens, pages), batch) \
        if (prompt_tokens or completion_tokens or pages) else (0.0, _currency(table, model))
    return Estimate(model, requests, prompt_tokens, completion_tokens, pages, batch,
                    cost[0] if cost else None, cost[1] if cost else None)


def _currency(table: "PriceTable", model: str) -> str | None:
    price = table.price_of(model)
    return price.currency if price else None


def price_table(env: "Env") -> "PriceTable":
    """The price table in force for ENV (shipped table and the config's [prices])."""
    from mistral_cli.config.prices import load

    return load(env.config.data, env.config.path)


def money(amount: float, currency: str | None) -> str:
    """AMOUNT as messages show it: `0.0123 USD`, small amounts down to a millionth."""
    text = f"{amount:.2f}" if amount >= 1 else f"{amount:.8f}".rstrip("0").rstrip(".")
    return f"{text if text not in ('', '0') else '0'} {currency or ''}".strip()


def describe(estimate: Estimate) -> str:
    """`3 requests, at most 1,234 prompt tokens ... of MODEL: at most 0.01 USD`."""
    parts = [f"{estimate.requests:,} request(s)", f"at most {estimate.prompt_tokens:,} prompt tokens"]
    if estimate.completion_tokens:
        parts.append(f"{estimate.completion_tokens:,} completion tokens")
    if estimate.pages:
        parts.append(f"{estimate.pages:,} pages")
    cost = "unknown cost" if estimate.cost is None else f"at most {money(estimate.cost, estimate.currency)}"
    rate = " at the batch rate" if estimate.batch else ""
    return f"{', '.join(parts)} of {estimate.model}{rate}: {cost}"


class Limit(NamedTuple):
    """One cap in force for a run: its name, the amount this run may spend under it, its message."""

    name: str
    room: float
    why: str


class Budget:
    """The caps in force for one run and what it has spent and reserved so far."""

    def __init__(self, env: "Env", table: "PriceTable", model: str, limits: list[Limit], batch: bool):
        self.env, self.table, self.model, self.limits, self.batch = env, table, model, limits, batch
        self.currency = _currency(table, model)
        self.reserved = 0.0  # estimates of requests sent and not yet answered
        self.unrecorded = 0.0  # estimates of answered requests the ledger could not price or record
        self._lock = threading.Lock()

    @classmethod
    def start(cls, env: "Env", max_cost: float | None, model: str, batch: bool = False) -> "Budget | None":
        """The Budget of a run of MODEL: --max-cost MAX_COST when given, else the profile's
        budgets; None when no cap is in force (then nothing is checked or loaded)."""
        daily, monthly = (env.effective(key).value for key in ("budget.daily", "budget.monthly"))
        if max_cost is None and daily is None and monthly is None:
            return None
        table = price_table(env)
        if table.price_of(model) is None:
            raise BudgetError(f"cannot estimate what this run costs: the price table has no price for {model}, "
                              "and a budget is in force (an unknown price is never taken as free); nothing was sent",
                              hint=PRICE_HINT.format(model=model))
        currency = _currency(table, model)
        if max_cost is not None:
            limits = [Limit("--max-cost", max_cost, f"--max-cost {money(max_cost, currency)}")]
        else:
            limits = profile_limits(env, table, currency, daily, monthly)
        guard = cls(env, table, model, limits, batch)
        env.services["budget"] = guard
        return guard

    # -- before the run ----------------------------------------------------------------------

    def check_run(self, estimate: Estimate | None) -> None:
        """Refuse (exit 7, nothing sent) a run whose whole ESTIMATE passes a cap; warn at 80%
        of a profile budget. ESTIMATE None: the input's length is unknown (checked as it goes)."""
        cost = 0.0
        if estimate is not None:
            self.check_total(estimate)
            cost = estimate.cost or 0.0
        warn_near(self.env, self.limits, cost, self.currency)

    def check_total(self, estimate: Estimate) -> None:
        """Refuse (exit 7) a run, nothing of it sent yet, whose ESTIMATE passes a cap (or has
        no known cost: some request of it names a model the price table lacks)."""
        if estimate.cost is None:
            raise BudgetError(f"cannot estimate what this run costs: {describe(estimate)}, some of it on a model "
                              "the price table has no price for; nothing was sent",
                              hint=PRICE_HINT.format(model="MODEL"))
        for limit in self.limits:
            if estimate.cost > limit.room:
                raise BudgetError(f"this run would pass {limit.why}: {describe(estimate)} (an upper bound); "
                                  "nothing was sent", hint=_raise_hint(limit))

    # -- before each request -----------------------------------------------------------------

    def estimate(self, prompt_tokens: int, completion_tokens: int = 0, pages: int = 0,
                 model: str | None = None) -> float:
        """The cost, at most, of one request (an unknown price refuses the run)."""
        chosen = model or self.model
        cost = priced(self.table, chosen, 1, prompt_tokens, completion_tokens, pages, self.batch).cost
        if cost is None:
            raise BudgetError(f"cannot estimate what a request to {chosen} costs: the price table has no price "
                              "for it", hint=PRICE_HINT.format(model=chosen))
        return cost

    def before_request(self, prompt_tokens: int, completion_tokens: int = 0, pages: int = 0,
                       model: str | None = None) -> float:
        """Reserve one request's estimate, or refuse it (exit 7) when spend so far plus the
        requests in flight plus it would pass a cap; returns the amount reserved."""
        cost = self.estimate(prompt_tokens, completion_tokens, pages, model)
        with self._lock:
            so_far = self.spent() + self.reserved
            for limit in self.limits:
                if so_far + cost > limit.room:
                    raise BudgetError(
                        f"stopped before passing {limit.why}: this run has spent about {money(so_far, self.currency)} "
                        f"and the next request may cost up to {money(cost, self.currency)}",
                        hint=_raise_hint(limit))
            self.reserved += cost
        return cost

    def after_request(self, reserved: float, recorded: bool = True) -> None:
        """Release what BEFORE_REQUEST reserved, once the answer came (the ledger holds its
        cost) or the request failed; RECORDED False: count the estimate as spent."""
        with self._lock:
            self.reserved -= reserved
            if not recorded or not self._ledger_prices():
                self.unrecorded += reserved

    def spent(self) -> float:
        """What this process spent so far, in the model's currency, as the ledger priced it
        (plus the estimates of answers it could not record or price)."""
        from mistral_cli.store.ledger import spent_this_run

        run = spent_this_run(self.env, self.table)
        return run["cost"].get(self.currency, 0.0) + self.unrecorded

    def _ledger_prices(self) -> bool:
        """Whether the ledger records in this process and every answer so far had a price."""
        from mistral_cli.store.ledger import spent_this_run

        recorder = self.env.services.get("ledger")
        if recorder is None or not recorder.on or recorder.failed:
            return False
        return not spent_this_run(self.env, self.table)["unpriced"]


def _raise_hint(limit: Limit) -> str:
    """What to do about a run that LIMIT stops."""
    if limit.name == "--max-cost":
        return "give a larger --max-cost, or see what the run would send with --estimate"
    return (f"give --max-cost AMOUNT to allow this run anyway, or raise {limit.name} "
            f"(mcli config set {limit.name} AMOUNT)")


def profile_limits(env: "Env", table: "PriceTable", currency: str | None, daily: float | None,
                   monthly: float | None) -> list[Limit]:
    """The room left under the profile's daily and monthly budgets (ledger spend so far)."""
    from mistral_cli.store.ledger import spent_this_month, spent_today

    limits = []
    for key, cap, spent in (("budget.daily", daily, spent_today), ("budget.monthly", monthly, spent_this_month)):
        if cap is None:
            continue
        used = spent(env, table)["cost"].get(currency, 0.0)
        period = "today" if key == "budget.daily" else "this month"
        limits.append(Limit(key, cap - used, f"the profile's {key} of {money(cap, currency)} "
                                             f"({money(used, currency)} spent {period})"))
    return limits


def warn_near(env: "Env", limits: list[Limit], cost: float, currency: str | None) -> None:
    """Warn, once a UTC day per budget, when a run brings a profile budget to 80% or more."""
    from mistral_cli.config.paths import data_dir

    day = datetime.now(timezone.utc).date().isoformat()
    for limit in limits:
        if limit.name == "--max-cost":
            continue
        cap = float(env.effective(limit.name).value)
        used = cap - limit.room + cost
        if cap and used >= WARN_AT * cap and remember(data_dir(env.environ) / WARNED_FILE, f"{limit.name} {day}"):
            env.warn(f"{limit.name}: {money(used, currency)} of {money(cap, currency)} used or about to be "
                     f"({used / cap:.0%}), counting this run's estimate")


def remember(path: Any, line: str) -> bool:
    """Add LINE to the file at PATH unless it is there; whether it was new (a warning is due).
    A file that cannot be read or written means warning again (never failing the run)."""
    try:
        seen = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
        if line in seen:
            return False
        path.parent.mkdir(parents=True, exist_ok=True)
        kept = [old for old in seen if old.split(" ")[0] != line.split(" ")[0]]  # the other budget's day
        path.write_text("\n".join([*kept, line]) + "\n", encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        pass
    return True


def check_request(env: "Env", prompt_tokens: int, completion_tokens: int = 0, model: str | None = None) -> float:
    """For a loop that sends one request after another (chat tool calls, `-n`): reserve the next
    request's estimate under the run's Budget (0.0 when none is in force); exit 7 past a cap.
    Call `settle(env, reserved)` once its answer came."""
    guard = env.services.get("budget")
    return guard.before_request(prompt_tokens, completion_tokens, model=model) if guard is not None else 0.0


def settle(env: "Env", reserved: float) -> None:
    """Release what check_request or before_generation reserved (the ledger now holds the
    answer's cost)."""
    guard = env.services.get("budget")
    if guard is not None and reserved:
        guard.after_request(reserved)


def generation_tokens(request: dict) -> tuple[int, int]:
    """(prompt, completion) token bounds of a chat or agents REQUEST body: its messages' and
    tools' JSON bytes plus a margin a message; n answers of max_tokens each (else
    DEFAULT_COMPLETION_BOUND each)."""
    import json

    messages = request.get("messages") if isinstance(request.get("messages"), list) else []
    sent = json.dumps([messages, request.get("tools"), request.get("prediction")], ensure_ascii=False)
    prompt = token_bound(sent) + TOKENS_PER_MESSAGE * len(messages)
    n, limit = request.get("n"), request.get("max_tokens")
    answers = n if isinstance(n, int) and not isinstance(n, bool) and n > 0 else 1
    each = limit if isinstance(limit, int) and not isinstance(limit, bool) and limit >= 0 else DEFAULT_COMPLETION_BOUND
    return prompt, answers * each


def before_generation(env: "Env", request: dict) -> float:
    """The one call before each chat or agents request (one turn, each round of a tool loop):
    the command's spending check when it set one (--max-cost, --estimate, -n), else nothing.
    Returns what was reserved; pass it to `settle(env, reserved)` once the answer came."""
    check = env.services.get("generation_budget")
    return check(request) if check is not None else 0.0
