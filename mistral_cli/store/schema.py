"""The local database's connection settings and schema migrations (history, batch run journal, ledger).

The schema version lives in `PRAGMA user_version`: MIGRATIONS[n] takes a database from
version n to n + 1, so a later change appends one script and older files catch up on open.
Connections run in autocommit mode; writers take the lock up front with `BEGIN IMMEDIATE`
(a deferred transaction that upgrades from read to write can fail at once with "database is
locked" whatever the busy timeout), and WAL lets readers go on while one process writes.

Any number of processes may open, migrate and write the file at once: each step that finds
it locked waits (SQLite's busy timeout, and a retry loop for the steps SQLite does not wait
on by itself, such as the first switch to WAL) up to a bound, then fails with a clear
StoreError. Commands that only read open a file they may not write read-only (`mode=ro`).
"""

from __future__ import annotations

import inspect
import os
import random
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

from mistral_cli.config.paths import private_file
from mistral_cli.store import StoreError

BUSY_TIMEOUT_MS = 5000  # how long opening, migrating or one write waits for other processes
SAVE_WAIT_MS = 30000  # how long saving an answered (billed) exchange waits, retrying
READ_ONLY_HINT = "make the file and its folder writable, or point MCLI_DATA_DIR at another folder"
_BUSY_CODES = (5, 6)  # SQLITE_BUSY, SQLITE_LOCKED (and their extended codes)
_READ_ONLY_CODE = 8  # SQLITE_READONLY
_CANT_OPEN_CODE = 14  # SQLITE_CANTOPEN

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
        raise store_error(what, path, exc, hint) from exc


class Locked(sqlite3.OperationalError):
    """The database stayed locked by another process for all of WAITED seconds."""

    def __init__(self, waited: float):
        super().__init__(f"database is locked (waited {waited:g} s)")
        self.waited = waited


def _code(exc: BaseException) -> int | None:
    """The primary SQLite result code of EXC, if it carries one."""
    code = getattr(exc, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None


def is_busy(exc: BaseException) -> bool:
    """Whether EXC says another connection holds the lock SQLite needed."""
    return isinstance(exc, Locked) or (isinstance(exc, sqlite3.OperationalError)
                                       and (_code(exc) in _BUSY_CODES or "locked" in str(exc)))


def is_read_only(exc: BaseException) -> bool:
    """Whether EXC says the database (or its folder) cannot be written."""
    return _code(exc) == _READ_ONLY_CODE or "readonly database" in str(exc)


def pause(seconds: float) -> None:
    """Sleep between two tries at a locked database (tests replace it)."""
    time.sleep(seconds)


R = TypeVar("R")


def retrying(action: Callable[[], R], wait_ms: int | None = None) -> R:
    """ACTION(), tried again while it finds the database locked, for up to WAIT_MS (default
    BUSY_TIMEOUT_MS); then Locked. Each try may itself wait up to the busy timeout."""
    waited_s = (BUSY_TIMEOUT_MS if wait_ms is None else wait_ms) / 1000
    deadline = time.monotonic() + waited_s
    while True:
        try:
            return action()
        except sqlite3.OperationalError as exc:
            if not is_busy(exc):
                raise
            left = deadline - time.monotonic()
            if left <= 0:
                raise Locked(waited_s) from exc
        pause(min(left, random.uniform(0.005, 0.05)))  # jitter: processes that collided spread out


def store_error(what: str, path: Path, exc: BaseException, hint: str | None = None) -> StoreError:
    """The StoreError for EXC, raised by the database at PATH while doing WHAT: a lock held too
    long and a read-only file get words of their own."""
    if is_busy(exc):
        waited = f" for {exc.waited:g} s" if isinstance(exc, Locked) else ""
        return StoreError(f"{what} {path}: another process kept the database locked{waited}",
                          hint="another mcli (or a program holding the file open) is writing to it; "
                               "try again when it has finished")
    if is_read_only(exc):
        return StoreError(f"{what} {path}: the database is read-only",
                          hint=READ_ONLY_HINT + (f"; {hint}" if hint else ""))
    return StoreError(f"{what} {path}: {exc}", hint=hint)


def guarded(what: str, hint: str | None = None) -> Callable[[F], F]:
    """A decorator for the methods of a store with a `path`: an SQLite error they raise becomes
    a StoreError naming WHAT and the database file (with HINT)."""
    def decorate(method: F) -> F:
        @wraps(method)
        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                result = method(self, *args, **kwargs)
            except sqlite3.Error as exc:
                raise store_error(what, self.path, exc, hint) from exc
            return _guarded_rows(result, what, self.path, hint) if inspect.isgenerator(result) else result
        return wrapper  # type: ignore[return-value]
    return decorate


def writable(path: Path) -> bool:
    """Whether this process may write PATH and create files beside it (SQLite's -wal, -shm)."""
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)


def connect(path: Path, shared: bool = False) -> sqlite3.Connection:
    """Open (creating if needed) the database at PATH, in WAL mode, migrated to the latest
    schema; waits for other processes doing the same (see the module docstring). SHARED lets
    several threads use the connection (the caller holds a lock around each use)."""
    if path.exists() and not writable(path):
        raise sqlite3.OperationalError("attempt to write a readonly database")
    private_file(path)
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                           check_same_thread=not shared)
    try:
        retrying(lambda: _prepare(conn, path))
    except BaseException:
        conn.close()
        raise
    return conn


def connect_reader(path: Path, shared: bool = False) -> sqlite3.Connection:
    """Open the existing database at PATH for a command that only reads it: as `connect` does
    when this process may write it, else read-only, creating no file beside it (SQLite would
    leave a -wal and -shm it cannot remove, with the file's read-only mode)."""
    if writable(path):
        return connect(path, shared)
    if Path(f"{path}-wal").exists():  # a writer may be at work (or died): read through its WAL
        try:
            return _read_only(path, "mode=ro", shared)
        except sqlite3.OperationalError as exc:
            if _code(exc) not in (_CANT_OPEN_CODE, _READ_ONLY_CODE):
                raise
    # no WAL: no process is writing the file, and nothing in it is left to read beside it
    return _read_only(path, "mode=ro&immutable=1", shared)


def _read_only(path: Path, flags: str, shared: bool = False) -> sqlite3.Connection:
    """A read-only connection to PATH (URI FLAGS): not migrated, so a file from an older mcli
    is read as it is (an index it lacks costs time; a table it lacks is a StoreError)."""
    conn = sqlite3.connect(f"{path.absolute().as_uri()}?{flags}", uri=True,
                           timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=not shared)
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        _check_version(retrying(lambda: _version(conn)), path)  # an older one is read as it is
    except BaseException:
        conn.close()
        raise
    return conn


def _prepare(conn: sqlite3.Connection, path: Path) -> None:
    """Set the connection up and migrate the file (every step may be tried again)."""
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode = WAL")  # SQLite does not wait on this one: retrying does
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    migrate(conn, path)


def migrate(conn: sqlite3.Connection, path: Path) -> None:
    """Apply the migrations the database has not seen yet, in one transaction that holds the
    write lock; the version is read again under the lock (another process may have migrated)."""
    if _version(conn) == SCHEMA_VERSION:
        return
    with write_transaction(conn):
        version = _version(conn)
        _check_version(version, path)
        for script in MIGRATIONS[version:]:
            for statement in _statements(script):
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def _check_version(version: int, path: Path) -> None:
    """Refuse a file written by a newer mcli (schema VERSION above SCHEMA_VERSION)."""
    if version > SCHEMA_VERSION:
        raise StoreError(f"the history database {path} was written by a newer mcli "
                         f"(schema {version}, this version knows {SCHEMA_VERSION})",
                         hint="upgrade mcli, or move the file aside")


def _version(conn: sqlite3.Connection) -> int:
    return conn.execute("PRAGMA user_version").fetchone()[0]


def _statements(script: str) -> Iterator[str]:
    """Split a migration script into statements (executescript would commit our transaction)."""
    for statement in script.split(";"):
        if statement.strip():
            yield statement


@contextmanager
def write_transaction(conn: sqlite3.Connection, wait_ms: int | None = None) -> Iterator[sqlite3.Connection]:
    """A transaction that holds the write lock from its start (waiting up to WAIT_MS, default
    BUSY_TIMEOUT_MS, for another process to let go of it); rolled back on any error."""
    retrying(lambda: conn.execute("BEGIN IMMEDIATE"), wait_ms)
    try:
        yield conn
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
