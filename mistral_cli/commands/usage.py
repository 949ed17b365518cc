"""`mcli usage`: tokens spent by model and by day, summed from the local history database.

Chat, agents and fim add each answer's `usage` to per-day (UTC) per-model totals; deleting
conversations keeps those totals. `-o text` prints the grand total of tokens alone.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from enum import Enum
from typing import Annotated, Any, Optional

import typer

from mistral_cli.commands.shared.common_options import OutputOpt, env_of, epilog, number_option
from mistral_cli.env import Env
from mistral_cli.errors import UsageError
from mistral_cli.numbers import Bound, check_bound
from mistral_cli.render.output import Column, OutputFormat, emit_list, write_json, write_jsonl, write_lines

TOKEN_COLUMNS = (
    Column("PROMPT", "prompt_tokens", priority=2),
    Column("COMPLETION", "completion_tokens", priority=2),
    Column("TOTAL", "total_tokens"),
    Column("REQUESTS", "requests", priority=3),
)
GROUP_COLUMNS = {"day": Column("DAY", "day", priority=0), "model": Column("MODEL", "model", "id", priority=0)}
DAY_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}")
DAYS = Bound("--days", 1, 36_600, integer=True)  # a century; a date arithmetic overflow lies past ~739,000


class UsageBy(str, Enum):
    """Values of `usage --by`."""

    model = "model"
    day = "day"


def register(root: typer.Typer) -> None:
    """Add the `usage` command to the root app."""
    root.command("usage", epilog=epilog("mcli usage", "mcli usage --by model --days 30",
                                        "mcli usage --since 2025-01-01 -o json",
                                        "mcli usage --days 1 -o text   # today's total tokens"))(usage)


def usage(
    ctx: typer.Context,
    by: Annotated[Optional[UsageBy], typer.Option(
        "--by", help="Sum by model or by day only (default: one row per day and model).",
        case_sensitive=False, show_default=False)] = None,
    since: Annotated[Optional[str], typer.Option(
        "--since", metavar="YYYY-MM-DD", help="Only from this UTC day on.")] = None,
    days: Annotated[Optional[int], number_option(DAYS, help="Only the last N UTC days, today included.")] = None,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Show token usage by model and by day, from the local history."""
    env = env_of(ctx)
    first_day = since_day(since, days)
    groups = by.value if by else "day,model"
    rows = load_usage(env, groups, first_day)
    if not rows and output in (OutputFormat.table, OutputFormat.text):
        from mistral_cli.commands.shared.several_ids import empty_note

        empty_note(env, "no token usage recorded" + (f" since {first_day}" if first_day else " yet"))
        return
    emit_usage(env, output, rows, [GROUP_COLUMNS[g] for g in groups.split(",")])


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


def load_usage(env: Env, groups: str, first_day: str | None) -> list[dict[str, Any]]:
    """Usage rows grouped by GROUPS from FIRST_DAY on; [] when there is no database yet."""
    from mistral_cli.store.conversations import open_existing_store

    store = open_existing_store(env)
    if store is None:
        return []
    with store:
        return store.usage(by=groups, since=first_day)


def totals(rows: list[dict[str, Any]]) -> dict[str, int]:
    """The sum of every token column and of requests over ROWS."""
    keys = ("requests", "prompt_tokens", "completion_tokens", "total_tokens")
    return {key: sum(row.get(key) or 0 for row in rows) for key in keys}


def emit_usage(env: Env, output: OutputFormat, rows: list[dict[str, Any]], groups: list[Column]) -> None:
    """Print usage ROWS: JSON rows, the grand total as text, a table with a total line on a terminal."""
    if output is OutputFormat.json:
        write_json(env, rows)
    elif output is OutputFormat.jsonl:
        write_jsonl(env, rows)
    elif output is OutputFormat.text:
        write_lines(env, [totals(rows)["total_tokens"]])
    elif env.stdout_isatty:
        print_table(env, rows, groups)
    else:
        emit_list(env, output, rows, (*groups, *TOKEN_COLUMNS))


def print_table(env: Env, rows: list[dict[str, Any]], groups: list[Column]) -> None:
    """A Rich table with thousands separators and a total line."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    from mistral_cli.render.safe_text import safe_text

    table = Table(box=box.SIMPLE, header_style="bold", show_edge=False, show_footer=True)
    total = totals(rows)
    for index, col in enumerate(groups):
        table.add_column(col.header, footer="total" if index == 0 else "")
    for col in TOKEN_COLUMNS:
        table.add_column(col.header, justify="right", footer=f"{total[col.key]:,}")
    for row in rows:
        table.add_row(*(Text(safe_text(row.get(col.key) or "")) for col in groups),
                      *(f"{row.get(col.key) or 0:,}" for col in TOKEN_COLUMNS))
    env.console.print(table)
