"""The local database's connection settings and schema migrations (history, batch run journal, ledger).

The schema version lives in `PRAGMA user_version`: MIGRATIONS[n] takes a database from
version n to n + 1, so a later change appends one script and older files catch up on open.
Connections run in autocommit mode; writers take the lock up front with `BEGIN IMMEDIATE`
(a deferred transaction that upgrades from read to write can fail at once with "database is
locked" whatever the busy timeout), and WAL lets readers go on while one process writes.
"""

from __future__ import annotations

import inspect
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

from mistral_cli.config.paths import private_file
from mistral_cli.store import StoreError

BUSY_TIMEOUT_MS = 5000

MIGRATIONS: tuple[str, ...] = (
    # 0 -> 1: conversations, their messages, and per-day per-model token totals.
    """
    CREATE TABLE conversations (
        id         TEXT PRIMARY KEY,
        kind       TEXT NOT NULL,
        model      TEXT,
        agent_id   TEXT,
        title      TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        revision   INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX conversations_by_revision ON conversations (revision);
    CREATE TABLE messages (
        conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
        seq             INTEGER NOT NULL,
        body            TEXT NOT NULL,
        incomplete      INTEGER NOT NULL DEFAULT 0,
        finish_reason   TEXT,
        created_at      TEXT NOT NULL,
        PRIMARY KEY (conversation_id, seq)
    ) WITHOUT ROWID;
    CREATE TABLE usage (
        day               TEXT NOT NULL,
        model             TEXT NOT NULL,
        requests          INTEGER NOT NULL DEFAULT 0,
        prompt_tokens     INTEGER NOT NULL DEFAULT 0,
        completion_tokens INTEGER NOT NULL DEFAULT 0,
        total_tokens      INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (day, model)
    ) WITHOUT ROWID;
    """,
    # 1 -> 2: the tools a conversation's last turn with tools sent, so a continued turn
    # (a tool result) offers the model the same tools without repeating --tool.
    """
    ALTER TABLE conversations ADD COLUMN tools TEXT
    """,
    # 2 -> 3: the batch run journal (store/runs.py: a run, its uploads, its job, its results)
    # and the upload log that lets a later command reuse an upload of the same bytes.
    """
    CREATE TABLE batch_runs (
        tag            TEXT PRIMARY KEY,
        fingerprint    TEXT NOT NULL,
        kind           TEXT NOT NULL,
        server         TEXT NOT NULL,
        profile        TEXT NOT NULL,
        inputs         TEXT NOT NULL,
        state          TEXT NOT NULL,
        create_sent_at TEXT,
        job_id         TEXT,
        final_job      TEXT,
        results        TEXT,
        created_at     TEXT NOT NULL,
        updated_at     TEXT NOT NULL
    );
    CREATE INDEX batch_runs_by_fingerprint ON batch_runs (fingerprint);
    CREATE TABLE batch_run_uploads (
        tag     TEXT NOT NULL REFERENCES batch_runs (tag) ON DELETE CASCADE,
        seq     INTEGER NOT NULL,
        source  TEXT NOT NULL,
        name    TEXT NOT NULL,
        bytes   INTEGER NOT NULL,
        sha256  TEXT NOT NULL,
        sent_at TEXT,
        file_id TEXT,
        PRIMARY KEY (tag, seq)
    ) WITHOUT ROWID;
    CREATE TABLE uploads (
        server      TEXT NOT NULL,
        profile     TEXT NOT NULL,
        purpose     TEXT NOT NULL,
        sha256      TEXT NOT NULL,
        bytes       INTEGER NOT NULL,
        file_id     TEXT NOT NULL,
        uploaded_at TEXT NOT NULL,
        PRIMARY KEY (server, profile, purpose, sha256)
    ) WITHOUT ROWID
    """,
    # 3 -> 4: the newest conversations are read from an index on the update time (history
    # list, history show latest, chat -c, Tab), not sorted from the whole table.
    """
    CREATE INDEX conversations_by_update ON conversations (updated_at, revision)
    """,
    # 4 -> 5: the ledger (store/ledger.py): one row per billed answer, counts only, never text;
    # `once` keys a row that must be recorded once (a batch job's results, a fine-tuning job).
    # The per-day usage totals move into it (operation `generation`: chat, agents and fim before
    # the ledger) and the old table goes. Streamed answers keep their timing on the message.
    """
    CREATE TABLE ledger (
        id                INTEGER PRIMARY KEY,
        at                TEXT NOT NULL,
        day               TEXT NOT NULL,
        profile           TEXT,
        server            TEXT,
        operation         TEXT NOT NULL,
        model             TEXT,
        requests          INTEGER NOT NULL DEFAULT 1,
        prompt_tokens     INTEGER,
        completion_tokens INTEGER,
        total_tokens      INTEGER,
        pages             INTEGER,
        training_tokens   INTEGER,
        batch             INTEGER NOT NULL DEFAULT 0,
        cost              REAL,
        currency          TEXT,
        once              TEXT
    );
    CREATE INDEX ledger_by_day ON ledger (day);
    CREATE UNIQUE INDEX ledger_once ON ledger (once, operation, IFNULL(model, ''), batch) WHERE once IS NOT NULL;
    INSERT INTO ledger (at, day, operation, model, requests, prompt_tokens, completion_tokens, total_tokens)
        SELECT day || 'T00:00:00Z', day, 'generation', model, requests, prompt_tokens, completion_tokens,
               total_tokens FROM usage;
    DROP TABLE usage;
    ALTER TABLE messages ADD COLUMN first_token_ms INTEGER;
    ALTER TABLE messages ADD COLUMN tokens_per_second REAL
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)


F = TypeVar("F", bound=Callable[..., Any])


def _guarded_rows(rows: Iterator[Any], what: str, path: Any, hint: str | None) -> Iterator[Any]:
    """ROWS as they are read, an SQLite error while reading them a StoreError like any other."""
    try:
        yield from rows
    except sqlite3.Error as exc:
        raise StoreError(f"{what} {path}: {exc}", hint=hint) from exc


def guarded(what: str, hint: str | None = None) -> Callable[[F], F]:
    """A decorator for the methods of a store with a `path`: an SQLite error they raise becomes
    a StoreError naming WHAT and the database file (with HINT)."""
    def decorate(method: F) -> F:
        @wraps(method)
        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                result = method(self, *args, **kwargs)
            except sqlite3.Error as exc:
                raise StoreError(f"{what} {self.path}: {exc}", hint=hint) from exc
            return _guarded_rows(result, what, self.path, hint) if inspect.isgenerator(result) else result
        return wrapper  # type: ignore[return-value]
    return decorate


def connect(path: Path, shared: bool = False) -> sqlite3.Connection:
    """Open (creating if needed) the database at PATH, in WAL mode, migrated to the latest schema;
    SHARED lets several threads use the connection (the caller holds a lock around each use)."""
    private_file(path)
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                           check_same_thread=not shared)
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        migrate(conn, path)
    except BaseException:
        conn.close()
        raise
    return conn


def migrate(conn: sqlite3.Connection, path: Path) -> None:
    """Apply the migrations the database has not seen yet, each in its own transaction."""
    if _version(conn) == SCHEMA_VERSION:
        return
    with write_transaction(conn):
        version = _version(conn)  # re-read under the lock: another process may have migrated
        if version > SCHEMA_VERSION:
            raise StoreError(f"the history database {path} was written by a newer mcli "
                             f"(schema {version}, this version knows {SCHEMA_VERSION})",
                             hint="upgrade mcli, or move the file aside")
        for script in MIGRATIONS[version:]:
            for statement in _statements(script):
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def _version(conn: sqlite3.Connection) -> int:
    return conn.execute("PRAGMA user_version").fetchone()[0]


def _statements(script: str) -> Iterator[str]:
    """Split a migration script into statements (executescript would commit our transaction)."""
    for statement in script.split(";"):
        if statement.strip():
            yield statement


@contextmanager
def write_transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A transaction that holds the write lock from its start; rolled back on any error."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
