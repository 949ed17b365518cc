"""The ledger: one row per billed answer, counts only (never text), in the history database.

Every billed answer reaches `note(env, operation, body)`: the HTTP layer's operation table
says which operations bill (api/operations.py, `bills`), `api.operations.call` and `mcli api`
hand their decoded answers to the client's hook, which app.main points here; a streamed
answer is noted by its reader when the stream ends (generation/turn.py); a batch job's
result lines by whoever reads them (`record_batch`), once per job. A row holds the time,
profile, server (no credentials), operation, the model the answer names, tokens as its
`usage` says, OCR pages, training tokens, the batch flag and a cost the server stated (a
fine-tuning job's). A row that must exist once (a batch job's results, an ended fine-tuning
job) carries a `once` key; a second record of it is ignored.

The ledger has its own setting (`ledger`, on by default) and works with `history = false`.
A failing ledger never fails the command whose answer already arrived: it warns once.
Prices are applied when reading (`cost_of`), never stored: a corrected table corrects the past.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from mistral_cli.store import StoreError
from mistral_cli.store.schema import connect, connect_reader, guarded, store_error, write_transaction
from mistral_cli.times import iso

if TYPE_CHECKING:  # pragma: no cover
    from mistral_cli.config.prices import PriceTable
    from mistral_cli.env import Env

GROUPS = ("day", "month", "profile", "operation", "model")
COUNT_KEYS = ("requests", "prompt_tokens", "completion_tokens", "total_tokens", "pages", "training_tokens")
MAX_NAME = 200  # a model or operation name longer than this from a server is cut
MAX_COUNT = 10 ** 15  # a count past this from a server is not believed
ENDED_JOBS = frozenset({"SUCCESS", "FAILED", "FAILED_VALIDATION", "CANCELLED"})
_COLUMNS = ("at, day, profile, server, operation, model, requests, prompt_tokens, completion_tokens, "
            "total_tokens, pages, training_tokens, batch, cost, currency, once")
_guarded = guarded("ledger in the history database", hint="set `ledger = false` in the config to stop recording")


class Entry(NamedTuple):
    """One billed answer (or, for a batch job, its lines of one model) as the ledger keeps it."""

    operation: str
    model: str | None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None
    pages: int | None = None
    training_tokens: int | None = None
    requests: int = 1
    batch: bool = False
    cost: float | None = None
    currency: str | None = None
    once: str | None = None


# -- reading answers --------------------------------------------------------------------------


def count(value: Any) -> int | None:
    """VALUE as a count when it is one (a whole number from 0 to MAX_COUNT), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        return None
    return int(value) if 0 <= value <= MAX_COUNT and value == int(value) else None


def money(value: Any) -> float | None:
    """VALUE as an amount the server stated: a finite number, 0 or more, else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if 0 <= value <= MAX_COUNT else None  # NaN fails both comparisons


def name(value: Any) -> str | None:
    """A model or currency name from the server: a string, cut to MAX_NAME, or None."""
    return value[:MAX_NAME] if isinstance(value, str) and value else None


def entry_of(operation: str, body: Any, batch: bool = False, model: str | None = None) -> Entry | None:
    """What the answer BODY to OPERATION bills, or None when it bills nothing (the operation
    table's `bills`: tokens, pages, or an ended fine-tuning job)."""
    from mistral_cli.api.operations import OPERATIONS

    spec = OPERATIONS.get(operation)
    if spec is None or not spec.bills or not isinstance(body, dict):
        return None
    if spec.bills == "job":
        return _job_entry(operation, body)
    usage = body.get("usage") if isinstance(body.get("usage"), dict) else {}
    info = body.get("usage_info") if isinstance(body.get("usage_info"), dict) else {}
    prompt, completion = count(usage.get("prompt_tokens")), count(usage.get("completion_tokens"))
    total = count(usage.get("total_tokens"))
    if total is None and (prompt is not None or completion is not None):
        total = (prompt or 0) + (completion or 0)
    return Entry(operation, name(body.get("model")) or model, prompt, completion, total,
                 count(info.get("pages_processed")), batch=batch)


def _job_entry(operation: str, body: dict) -> Entry | None:
    """An ended fine-tuning job: its training tokens and the cost it states, once per job id."""
    job_id = name(body.get("id"))
    if name(body.get("status")) not in ENDED_JOBS or job_id is None:
        return None
    metadata = body.get("metadata") if isinstance(body.get("metadata"), dict) else {}
    stated = money(metadata.get("cost"))
    trained = count(body.get("trained_tokens"))
    return Entry(operation, name(body.get("model")), training_tokens=trained, cost=stated,
                 currency=name(metadata.get("cost_currency")) if stated is not None else None,
                 once=f"fine-tuning:{job_id}")


class BatchTally:
    """The usage of a batch job's result lines, summed per model (one Entry each)."""

    def __init__(self, operation: str, model: str | None):
        self.operation, self.model = operation, model
        self.sums: dict[str | None, list[int | None]] = {}

    def add(self, line: Any) -> None:
        """Count one answered result line (a JSON object with a 2xx `response` and its `body`);
        others count nothing."""
        response = line.get("response") if isinstance(line, dict) else None
        status = response.get("status_code") if isinstance(response, dict) else None
        if status is not None and not (isinstance(status, int) and 200 <= status < 300):
            return
        body = response.get("body") if isinstance(response, dict) else None
        entry = entry_of(self.operation, body, batch=True, model=self.model)
        if entry is None:
            return
        sums = self.sums.setdefault(entry.model, [0, None, None, None, None])
        sums[0] += 1
        for index, value in enumerate((entry.prompt_tokens, entry.completion_tokens, entry.total_tokens,
                                       entry.pages), 1):
            if value is not None:
                sums[index] = (sums[index] or 0) + value

    def entries(self, job_id: str) -> list[Entry]:
        """One batch-rate Entry per model, keyed once for JOB_ID."""
        return [Entry(self.operation, model, prompt, completion, total, pages, requests=requests,
                      batch=True, once=f"batch:{job_id}")
                for model, (requests, prompt, completion, total, pages) in self.sums.items()]


# -- the database -----------------------------------------------------------------------------


def ledger_path(env: "Env") -> Path:
    """The history database, where the ledger is a table."""
    from mistral_cli.store.conversations import store_path

    return store_path(env)


class Ledger:
    """The ledger table: rows added one transaction each, read summed by groups."""

    def __init__(self, path: Path, *, reading: bool = False):
        self.path = Path(path)
        self._lock = threading.Lock()  # commands record from their worker threads
        try:
            self._conn = connect_reader(self.path, shared=True) if reading else connect(self.path, shared=True)
        except (sqlite3.Error, OSError) as exc:
            raise store_error("cannot open the ledger in", self.path, exc,
                              "set `ledger = false` in the config to stop recording") from exc

    def __enter__(self) -> "Ledger":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()

    @_guarded
    def add(self, entries: Iterable[Entry], profile: str | None, server: str | None,
            moment: datetime) -> int:
        """Record ENTRIES at MOMENT; an entry whose `once` key is already there is skipped.
        Returns how many were recorded."""
        at = iso(moment)
        rows = [(at, at[:10], profile, server, e.operation, e.model, e.requests, e.prompt_tokens,
                 e.completion_tokens, e.total_tokens, e.pages, e.training_tokens, int(e.batch), e.cost,
                 e.currency, e.once) for e in entries]
        with self._lock, write_transaction(self._conn) as conn:
            before = conn.total_changes
            conn.executemany(f"INSERT OR IGNORE INTO ledger ({_COLUMNS}) VALUES "
                             "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            return conn.total_changes - before

    @_guarded
    def has(self, once: str) -> bool:
        """Whether rows keyed ONCE are recorded (a batch job's results, a fine-tuning job)."""
        with self._lock:
            return self._conn.execute("SELECT 1 FROM ledger WHERE once = ? LIMIT 1", (once,)).fetchone() is not None

    @_guarded
    def sums(self, groups: Iterable[str] = (), since: str | None = None, until: str | None = None,
             profile: str | None = None) -> list[dict[str, Any]]:
        """Counts summed by GROUPS (of GROUPS) and by what prices them (model, operation, batch,
        stated currency), from UTC time SINCE to before UNTIL (ISO 8601), of PROFILE if given."""
        chosen = [group for group in GROUPS if group in groups]
        keys = list(dict.fromkeys([*chosen, "model", "operation", "batch", "currency"]))
        columns = [("substr(day, 1, 7)" if key == "month" else key) for key in keys]
        select = ", ".join(f"{column} AS {key}" for column, key in zip(columns, keys))
        sums = ", ".join(f"SUM({key})" for key in COUNT_KEYS)
        with self._lock:
            rows = self._conn.execute(
                f"SELECT {select}, {sums}, SUM(cost), COUNT(cost), COUNT(*) FROM ledger "
                "WHERE (? IS NULL OR at >= ?) AND (? IS NULL OR at < ?) AND (? IS NULL OR profile = ?) "
                f"GROUP BY {', '.join(columns)} ORDER BY {', '.join(columns)}",
                (since, since, until, until, profile, profile)).fetchall()
        names = [*keys, *COUNT_KEYS, "stated_cost", "stated_rows", "rows"]
        return [dict(zip(names, row)) for row in rows]


# -- pricing what was recorded -----------------------------------------------------------------


def cost_of(row: dict[str, Any], table: "PriceTable") -> tuple[float, str] | None:
    """(cost, currency) of a summed ROW (Ledger.sums): the server's stated cost where every
    row of it has one, else the price table's; None when unknown."""
    from mistral_cli.config.prices import Counts

    if row.get("stated_rows") and row["stated_rows"] == row["rows"] and row.get("currency"):
        return float(row["stated_cost"]), str(row["currency"])
    counts = Counts(row.get("prompt_tokens") or 0, row.get("completion_tokens") or 0,
                    row.get("pages") or 0, row.get("training_tokens") or 0)
    if not any(counts) and (row.get("total_tokens") or 0):
        return None  # tokens with no split into prompt and completion: no price applies
    return table.cost(row.get("model"), counts, bool(row.get("batch")))


def spent(env: "Env", table: "PriceTable", since: datetime | None = None,
          until: datetime | None = None) -> dict[str, Any]:
    """What the ledger holds from SINCE to before UNTIL, priced: {"cost": {currency: amount},
    "unpriced": requests without a known cost} (the spend so far a budget compares against)."""
    ledger = open_existing_ledger(env)
    if ledger is None:
        return {"cost": {}, "unpriced": 0}
    with ledger:
        rows = ledger.sums(since=iso(since) if since else None, until=iso(until) if until else None)
    return price_rows(rows, table)


def spent_today(env: "Env", table: "PriceTable", now: datetime | None = None) -> dict[str, Any]:
    """What the ledger holds for the current UTC day, priced (see `spent`)."""
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return spent(env, table, now.replace(hour=0, minute=0, second=0, microsecond=0))


def spent_this_month(env: "Env", table: "PriceTable", now: datetime | None = None) -> dict[str, Any]:
    """What the ledger holds for the current UTC month, priced (see `spent`)."""
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return spent(env, table, now.replace(day=1, hour=0, minute=0, second=0, microsecond=0))


def spent_this_run(env: "Env", table: "PriceTable") -> dict[str, Any]:
    """What this process recorded so far, priced (the spend of the current run)."""
    current = env.services.get("ledger")
    # list() copies the sums in one step: worker threads may add a row meanwhile (budgets read this)
    return price_rows(list(current.run.values()) if current is not None else (), table)


def price_rows(rows: Iterable[dict[str, Any]], table: "PriceTable") -> dict[str, Any]:
    """The priced total of ROWS: cost per currency and the requests left unpriced."""
    cost: dict[str, float] = {}
    unpriced = 0
    for row in rows:
        priced = cost_of(row, table)
        if priced is None:
            unpriced += row.get("requests") or 0
        else:
            cost[priced[1]] = cost.get(priced[1], 0.0) + priced[0]
    return {"cost": cost, "unpriced": unpriced}


def open_existing_ledger(env: "Env") -> Ledger | None:
    """The ledger if the history database exists (reading never creates it), else None."""
    path = ledger_path(env)
    return Ledger(path, reading=True) if path.exists() else None


# -- recording --------------------------------------------------------------------------------


class Recorder:
    """The process's ledger writer: opened on the first billed answer, closed with the Env."""

    def __init__(self, env: "Env"):
        self.env = env
        self.on = bool(env.effective("ledger").value) and env.server_url != "sandbox"  # the local API bills nothing
        self.profile = env.profile_name
        self.server = without_credentials(env.server_url)
        self.ledger: Ledger | None = None
        self.failed = False
        self.run: dict[tuple, dict[str, Any]] = {}  # what this process recorded, summed as `sums` rows
        self._lock = threading.Lock()

    def record(self, entries: list[Entry]) -> None:
        """Add ENTRIES now; a failure is warned about once (whatever the thread) and never raised."""
        with self._lock:
            if not self.on or self.failed or not entries:
                return
            try:
                self._open().add(entries, self.profile, self.server, datetime.now(timezone.utc))
            except StoreError as exc:
                self.failed = True
                self.env.warn(f"the ledger did not record a billed answer: {exc.message}")
                return
            for entry in entries:
                self._add_to_run(entry)

    def has(self, once: str) -> bool:
        """Whether ONCE is recorded already (False when the ledger is off or broken)."""
        with self._lock:
            if not self.on or self.failed:
                return False
            try:
                return self._open().has(once)
            except StoreError:
                return False

    def _add_to_run(self, entry: Entry) -> None:
        """Add ENTRY to this run's sums (one row per model, operation, rate and stated currency)."""
        key = (entry.model, entry.operation, entry.batch, entry.currency)
        row = self.run.setdefault(key, {"model": entry.model, "operation": entry.operation, "batch": entry.batch,
                                        "currency": entry.currency, **{name: 0 for name in COUNT_KEYS},
                                        "stated_cost": 0.0, "stated_rows": 0, "rows": 0})
        for name in COUNT_KEYS:
            row[name] += getattr(entry, name) or 0
        row["rows"] += 1
        if entry.cost is not None:
            row["stated_cost"] += entry.cost
            row["stated_rows"] += 1

    def _open(self) -> Ledger:
        if self.ledger is None:
            self.ledger = Ledger(ledger_path(self.env))
        return self.ledger

    def close(self) -> None:
        """Close the ledger if it was opened."""
        if self.ledger is not None:
            self.ledger.close()
            self.ledger = None


_MAKING = threading.Lock()  # the first answers may arrive on several threads at once


def recorder(env: "Env") -> Recorder:
    """ENV's Recorder, made on first use and closed when ENV closes."""
    current = env.services.get("ledger")
    if current is None:
        with _MAKING:
            current = env.services.get("ledger")
            if current is None:
                current = env.services["ledger"] = Recorder(env)
                env.closing.append(current.close)
    return current


def note(env: "Env", operation: str, body: Any, facts: dict[str, Any] | None = None) -> None:
    """The hook every billed answer reaches: record what BODY, the answer to OPERATION, bills."""
    entry = entry_of(operation, body, **(facts or {}))
    if entry is None:
        return
    rec = recorder(env)
    if entry.once and rec.has(entry.once):
        return
    rec.record([entry])


def batch_tally(env: "Env", job_id: str, endpoint: str | None, model: str | None) -> BatchTally | None:
    """A tally for the result lines of batch job JOB_ID (its ENDPOINT and MODEL as the job
    says), or None when there is nothing to record: the job is recorded already, the ledger
    is off, or the endpoint is no billed operation."""
    from mistral_cli.api.operations import find

    operation = find("POST", endpoint) if isinstance(endpoint, str) else None
    if operation is None or not operation.bills:
        return None
    rec = recorder(env)
    if not rec.on or rec.has(f"batch:{job_id}"):
        return None
    return BatchTally(operation.name, name(model))


def record_batch(env: "Env", job_id: str, tally: BatchTally | None) -> None:
    """Record TALLY, the usage of batch job JOB_ID's result lines, at the batch rate, once."""
    if tally is not None:
        recorder(env).record(tally.entries(job_id))


def without_credentials(url: str) -> str:
    """URL as the ledger keeps it: scheme and host lowercase, no user or password, no query."""
    from urllib.parse import urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
        host = parts.netloc.rpartition("@")[2].lower()
        return urlunsplit((parts.scheme.lower(), host, parts.path.rstrip("/"), "", ""))
    except ValueError:
        return ""
