"""`mcli usage`: what the billed answers used and cost, summed from the local ledger.

Every billed answer (chat, fim, agents, embeddings, classifiers, OCR, batch results,
fine-tuning jobs, and `mcli api` calls to them) is a row of the ledger (store/ledger.py);
this command sums the rows by day, month, model, operation or profile (combinable) and
prices them with the table in force (config/prices.py): an estimate from a dated table,
`unknown` (null in JSON) where the table has no price, never 0. Rows of different
currencies, and rows without a price, are summed apart. New columns come after the old
ones, so `cut -f` of the tab-separated rows keeps working. `-o text` prints the total tokens.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from typing import Annotated, Any, Optional

import typer

from mistral_cli.commands.shared.common_options import OutputOpt, env_of, epilog, number_option
from mistral_cli.env import Env
from mistral_cli.errors import UsageError
from mistral_cli.numbers import Bound, check_bound
from mistral_cli.render.output import Column, OutputFormat, emit_list, write_json, write_jsonl, write_lines

DAY_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}")
MONTH_PATTERN = re.compile(r"\d{4}-\d{2}")
DAYS = Bound("--days", 1, 36_600, integer=True)  # a century; a date arithmetic overflow lies past ~739,000
GROUPS = ("day", "month", "profile", "operation", "model")
DEFAULT_GROUPS = "day,model"
COUNTS = ("requests", "prompt_tokens", "completion_tokens", "total_tokens", "pages")


def _number(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else ""


def _money(row: dict[str, Any]) -> str:
    """A row's cost as a terminal shows it: `0.0123 USD`, or `unknown`."""
    cost = row.get("cost")
    if cost is None:
        return "unknown"
    return f"{'≥' if row.get('partial') else ''}{amount(cost)} {row.get('currency') or ''}".strip()


def amount(cost: float) -> str:
    """COST as a terminal shows it: cents from 1 on, 4 decimals from 0.01, else down to a
    millionth (`-o json` has every digit)."""
    if cost >= 1:
        return f"{cost:,.2f}"
    text = f"{cost:.4f}" if cost >= 0.01 else f"{cost:.6f}".rstrip("0")
    return text + "0" * (2 - len(text.partition(".")[2]))


GROUP_COLUMNS = {
    "day": Column("DAY", "day", "time", show=lambda value: value or "", priority=0),  # whole, never cut
    "month": Column("MONTH", "month", "time", show=lambda value: value or "", priority=0),
    "profile": Column("PROFILE", "profile", priority=1),
    "operation": Column("OPERATION", lambda row: _operation(row), "id", priority=0),
    "model": Column("MODEL", "model", "id", priority=0),
}
COUNT_COLUMNS = (
    Column("PROMPT", "prompt_tokens", show=_number, priority=2),
    Column("COMPLETION", "completion_tokens", show=_number, priority=2),
    Column("TOTAL", "total_tokens", show=_number, priority=1),
    Column("REQUESTS", "requests", show=_number, priority=3),
    Column("PAGES", "pages", show=_number, priority=4),
)
def _plain(row: dict[str, Any]) -> str | None:
    """A cost as a plain decimal for tab-separated rows (no exponent, no separators)."""
    cost = row.get("cost")
    return None if cost is None else (f"{cost:.10f}".rstrip("0").rstrip(".") or "0")


COST_COLUMNS = (Column("COST", _plain), Column("CURRENCY", "currency"))  # tab-separated rows
TERMINAL_COST = Column("COST", "_cost", priority=0)  # the cost with its currency, `unknown`, `≥` a bound
PRICE_COLUMNS = (
    Column("MODEL", "model", "id", priority=0),
    Column("ALIAS OF", "alias_of", "id", priority=2),
    Column("INPUT/M", "input", priority=0),
    Column("OUTPUT/M", "output", priority=0),
    Column("PAGES/K", "pages", priority=1),
    Column("TRAIN/M", "training", priority=3),
    Column("CURRENCY", "currency", priority=4),
    Column("SOURCE", "source", priority=0),
)


def _operation(row: dict[str, Any]) -> str:
    """The operation, `(batch)` after one run at the batch rate."""
    return f"{row.get('operation') or ''}{' (batch)' if row.get('batch') else ''}"


def register(root: typer.Typer) -> None:
    """Add the `usage` command to the root app."""
    root.command("usage", epilog=epilog("mcli usage", "mcli usage --by operation --days 30",
                                        "mcli usage --by day,model --month 2026-11",
                                        "mcli usage --since 2025-01-01 -o json",
                                        "mcli usage --prices",
                                        "mcli usage --days 1 -o text   # today's total tokens"))(usage)


def usage(
    ctx: typer.Context,
    by: Annotated[Optional[str], typer.Option(
        "--by", metavar="GROUPS",
        help="Sum by day, month, model, operation or profile; several joined by commas "
             "(default: day,model).", show_default=False)] = None,
    since: Annotated[Optional[str], typer.Option(
        "--since", metavar="YYYY-MM-DD", help="Only from this UTC day on.")] = None,
    days: Annotated[Optional[int], number_option(DAYS, help="Only the last N UTC days, today included.")] = None,
    month: Annotated[Optional[str], typer.Option(
        "--month", metavar="YYYY-MM", help="Only this UTC month.")] = None,
    prices: Annotated[bool, typer.Option(
        "--prices", help="Show the price table in force and where each row came from.")] = False,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Show what the billed answers used and cost (an estimate), from the local ledger."""
    env = env_of(ctx)
    groups = parse_groups(by or DEFAULT_GROUPS)
    start, end = period(since, days, month)
    from mistral_cli.config.prices import load

    table = load(env.config.data, env.config.path)
    if prices:
        emit_prices(env, output, table)
        return
    rows = usage_rows(env, groups, start, end, table)
    if not rows and output in (OutputFormat.table, OutputFormat.text):
        from mistral_cli.commands.shared.several_ids import empty_note

        empty_note(env, "no usage recorded" + (f" since {start[:10]}" if start else " yet"))
        return
    emit_usage(env, output, rows, groups)


def parse_groups(by: str) -> list[str]:
    """--by GROUPS as a list in display order; a UsageError naming --by for anything else."""
    chosen = [part.strip().lower() for part in by.split(",") if part.strip()]
    wrong = [part for part in chosen if part not in GROUPS]
    if not chosen or wrong or len(set(chosen)) != len(chosen):
        raise UsageError(f"--by: expected one or more of {', '.join(GROUPS)} joined by commas (got {by!r})")
    return [group for group in GROUPS if group in chosen]


def period(since: str | None, days: int | None, month: str | None,
           today: date | None = None) -> tuple[str | None, str | None]:
    """The UTC times (ISO 8601) to count from and to stop before, from --since, --days or
    --month (only one of them)."""
    if sum(value is not None for value in (since, days, month)) > 1:
        raise UsageError("give one of --since, --days and --month")
    if month is not None:
        first = _month(month)
        following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
        return f"{first.isoformat()}T00:00:00Z", f"{following.isoformat()}T00:00:00Z"
    day = since_day(since, days, today)
    return (f"{day}T00:00:00Z" if day else None), None


def _month(text: str) -> date:
    try:
        if not MONTH_PATTERN.fullmatch(text):
            raise ValueError
        return date.fromisoformat(f"{text}-01")
    except ValueError:
        raise UsageError(f"--month: invalid month {text!r} (expected YYYY-MM, such as 2025-01)") from None


def since_day(since: str | None, days: int | None, today: date | None = None) -> str | None:
    """The first UTC day to count, from --since or --days (not both), as YYYY-MM-DD."""
    if since is not None and days is not None:
        raise UsageError("give --since or --days, not both")
    if days is not None:
        check_bound(days, DAYS)
        today = today or datetime.now(timezone.utc).date()
        return (today - timedelta(days=days - 1)).isoformat()
    if since is not None:
        try:
            if not DAY_PATTERN.fullmatch(since):
                raise ValueError
            return date.fromisoformat(since).isoformat()
        except ValueError:
            raise UsageError(f"--since: invalid day {since!r} (expected YYYY-MM-DD, such as 2025-01-31)") from None
    return None


def usage_rows(env: Env, groups: list[str], start: str | None, end: str | None,
               table: Any) -> list[dict[str, Any]]:
    """The ledger summed by GROUPS between START and END, priced by TABLE: one row per group
    and currency (rows without a price apart, cost None); [] when there is no database yet."""
    from mistral_cli.store.ledger import cost_of, open_existing_ledger

    ledger = open_existing_ledger(env)
    if ledger is None:
        return []
    with ledger:
        summed = ledger.sums(groups, since=start, until=end)
    keys = [*groups, *(["batch"] if "operation" in groups else [])]
    folded: dict[tuple, dict[str, Any]] = {}
    for row in summed:
        priced = cost_of(row, table)
        currency = priced[1] if priced else None
        key = (*(row[k] for k in keys), currency)
        out = folded.setdefault(key, {**{k: (bool(row[k]) if k == "batch" else row[k]) for k in keys},
                                      **{k: None for k in COUNTS}, "cost": None, "currency": currency})
        for name in COUNTS:
            if row.get(name) is not None:
                out[name] = (out[name] or 0) + row[name]
        if priced:
            out["cost"] = (out["cost"] or 0.0) + priced[0]
    return [_rounded(row) for _key, row in sorted(folded.items(), key=lambda item: _order(item[0]))]


def _order(key: tuple) -> tuple:
    """Sort key of a folded group: None after any value, unknown currency last."""
    return tuple((value is None, "" if value is None else str(value)) for value in key)


def _rounded(row: dict[str, Any]) -> dict[str, Any]:
    """ROW with its cost rounded to 10 decimals (float sums drift below that)."""
    if row["cost"] is not None:
        row["cost"] = round(row["cost"], 10)
    return row


def totals(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The total rows: every count summed; one row per currency (unpriced counts in the first)."""
    currencies = list(dict.fromkeys(row["currency"] for row in rows if row["currency"])) or [None]
    result = []
    for index, currency in enumerate(currencies):
        mine = [row for row in rows if row["currency"] == currency or (index == 0 and row["currency"] is None)]
        total: dict[str, Any] = {name: _sum(row[name] for row in mine) if index == 0 else None
                                 for name in COUNTS}
        costs = [row["cost"] for row in rows if row["currency"] == currency and row["cost"] is not None]
        total.update(cost=round(sum(costs), 10) if costs else None, currency=currency,
                     partial=bool(costs) and any(row["cost"] is None for row in rows))
        result.append(total)
    return result


def _sum(values: Any) -> int | None:
    """The sum of the counts among VALUES, None when there is none."""
    known = [value for value in values if value is not None]
    return sum(known) if known else None


def emit_usage(env: Env, output: OutputFormat, rows: list[dict[str, Any]], groups: list[str]) -> None:
    """Print usage ROWS: JSON rows, the grand total of tokens as text, a table with total rows on
    a terminal, tab-separated rows in a pipe."""
    columns = [GROUP_COLUMNS[group] for group in groups]
    if output is OutputFormat.json:
        write_json(env, rows)
    elif output is OutputFormat.jsonl:
        write_jsonl(env, rows)
    elif output is OutputFormat.text:
        write_lines(env, [totals(rows)[0]["total_tokens"] or 0])
    elif env.stdout_isatty:
        first = columns[0].key if isinstance(columns[0].key, str) else "operation"
        shown = [{**row, "_cost": _money(row)} for row in rows]
        shown += [{**total, first: "total" if index == 0 else "", "_cost": _money(total)}
                  for index, total in enumerate(totals(rows))]
        counts = [col for col in COUNT_COLUMNS if col.key != "pages" or any(row["pages"] for row in rows)]
        emit_list(env, output, shown, (*columns, *counts, TERMINAL_COST))
    else:
        emit_list(env, output, rows, (*columns, *COUNT_COLUMNS, *COST_COLUMNS))


def emit_prices(env: Env, output: OutputFormat, table: Any) -> None:
    """The price table in force: one row per model and alias with where it came from."""
    rows = table.rows()
    if output is OutputFormat.json:
        write_json(env, {"date": table.date, "source": table.source, "currency": table.currency,
                         "batch_discount": table.batch_discount, "models": rows})
        return
    if output is OutputFormat.jsonl:
        write_jsonl(env, rows)
        return
    if output is OutputFormat.text:
        write_lines(env, [row["model"] for row in rows])
        return
    discount = "unknown" if table.batch_discount is None else f"{table.batch_discount:.0%}"
    env.info(f"prices of {table.date} in {table.currency}: per million tokens, per thousand OCR pages; "
             f"batch discount {discount}; source: {table.source}")
    emit_list(env, output, rows, PRICE_COLUMNS)
