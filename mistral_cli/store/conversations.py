"""Conversations and their messages, saved in `<data dir>/history.db`.

    store = open_store(env)
    conv = store.latest("chat") or store.create(None, "chat", model)
    store.add_messages(conv.id, [user_msg, answer], model=model, timing=Timing(210, 48.5))

Messages are stored as the JSON the API takes, exactly as given, in order. Each
`add_messages` call is one exchange; `complete=False` flags its last message as cut short,
and a streamed answer keeps its timing (time to first token, tokens per second). What the
exchange used is the ledger's (store/ledger.py), which outlives deleted conversations. Any
SQLite failure surfaces as `StoreError`.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from mistral_cli.bodies.content import title_of
from mistral_cli.config.paths import data_dir
from mistral_cli.store import StoreError
from mistral_cli.store.schema import connect, guarded, write_transaction
from mistral_cli.times import iso

if TYPE_CHECKING:  # pragma: no cover
    from mistral_cli.env import Env

DB_NAME = "history.db"
KINDS = ("chat", "agents", "fim")

_CONVERSATION_COLUMNS = """
    SELECT c.id, c.kind, c.model, c.agent_id, c.created_at, c.updated_at, c.title,
           (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id) AS message_count,
           EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND m.incomplete)
             AS incomplete
"""
_CONVERSATION_SELECT = _CONVERSATION_COLUMNS + " FROM conversations c"
# Times are stored to the second; `revision` (bumped on every write) orders writes within one.
_NEWEST_FIRST = " ORDER BY c.updated_at DESC, c.revision DESC"


def _newest(where: str = "") -> str:
    """The query of the newest conversations (WHERE on `c`, then a LIMIT parameter): the limit
    is taken first, on the update-time index, so the per-row counts run only for the rows shown."""
    return (_CONVERSATION_COLUMNS + " FROM (SELECT * FROM conversations c" + where + _NEWEST_FIRST
            + " LIMIT ?) c" + _NEWEST_FIRST)


def store_path(env: "Env") -> Path:
    """Where the history database lives: `history.db` in the data dir (MCLI_DATA_DIR overrides)."""
    return data_dir(env.environ) / DB_NAME


def open_store(env: "Env") -> "ConversationStore":
    """Open the history database of ENV, creating it (and its folder) if needed."""
    return ConversationStore(store_path(env))


def open_existing_store(env: "Env") -> "ConversationStore | None":
    """The history database if its file exists, else None: reading commands never create it."""
    path = store_path(env)
    return ConversationStore(path) if path.exists() else None


@dataclass
class Conversation:
    """One saved conversation; `.messages` loads its API messages on first use."""

    id: str
    kind: str
    model: str | None
    agent_id: str | None
    created_at: str
    updated_at: str
    title: str | None
    message_count: int
    incomplete: bool
    _messages: list[dict] | None = field(default=None, repr=False, compare=False)
    _loader: Callable[[], list[dict]] | None = field(default=None, repr=False, compare=False)

    @property
    def messages(self) -> list[dict]:
        """The conversation's messages, as the API takes them, in order."""
        if self._messages is None:
            self._messages = self._loader() if self._loader else []
        return self._messages

    def to_dict(self) -> dict[str, Any]:
        """The conversation's fields (without messages), for JSON output."""
        return {f.name: getattr(self, f.name) for f in fields(self) if not f.name.startswith("_")}


class Timing(NamedTuple):
    """How a streamed answer came: milliseconds to its first token, tokens per second after it."""

    first_token_ms: int | None
    tokens_per_second: float | None


@dataclass(frozen=True)
class StoredMessage:
    """A message as saved: the API message, whether its exchange was cut short, why the model
    stopped (on an exchange's last message), when it was saved, and a streamed answer's timing."""

    message: dict
    incomplete: bool
    finish_reason: str | None
    created_at: str
    timing: Timing | None = None


_guarded = guarded("history database", hint="set `history = false` in the config to stop saving")


def utc_now() -> datetime:
    """The current time in UTC (the store's clock; tests replace `store.clock`)."""
    return datetime.now(timezone.utc)


class ConversationStore:
    """The history database: conversations and their messages."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.clock: Callable[[], datetime] = utc_now
        try:
            self._conn = connect(self.path)
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"cannot open the history database {self.path}: {exc}",
                             hint="set `history = false` in the config to stop saving") from exc

    def __enter__(self) -> "ConversationStore":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the database connection."""
        self._conn.close()

    # -- reading -------------------------------------------------------------------------

    def _conversation(self, row: sqlite3.Row | tuple) -> Conversation:
        cid = row[0]
        return Conversation(*row[:7], message_count=row[7], incomplete=bool(row[8]),
                            _loader=lambda: self.messages(cid))

    @_guarded
    def get(self, cid: str) -> Conversation | None:
        """The conversation CID (messages loaded on first use, while the store is open), or None."""
        row = self._conn.execute(_CONVERSATION_SELECT + " WHERE c.id = ?", (cid,)).fetchone()
        return self._conversation(row) if row else None

    @_guarded
    def latest(self, kind: str | None = None) -> Conversation | None:
        """The most recently updated conversation (of KIND, if given), or None."""
        where, params = (" WHERE c.kind = ?", (kind,)) if kind else ("", ())
        row = self._conn.execute(_newest(where), (*params, 1)).fetchone()
        return self._conversation(row) if row else None

    @_guarded
    def match(self, prefix: str) -> list[str]:
        """The ids that start with PREFIX (for short ids typed by hand)."""
        rows = self._conn.execute("SELECT id FROM conversations WHERE substr(id, 1, ?) = ? ORDER BY id",
                                  (len(prefix), prefix)).fetchall()
        return [row[0] for row in rows]

    @_guarded
    def messages(self, cid: str) -> list[dict]:
        """The API messages of CID in order, exactly as they were added ([] for an unknown id)."""
        return [stored.message for stored in self.records(cid)]

    @_guarded
    def records(self, cid: str) -> list[StoredMessage]:
        """The messages of CID with mcli's own columns: the incomplete flag and the time saved."""
        rows = self._conn.execute(
            "SELECT body, incomplete, finish_reason, created_at, first_token_ms, tokens_per_second "
            "FROM messages WHERE conversation_id = ? ORDER BY seq", (cid,)).fetchall()
        return [StoredMessage(json.loads(body), bool(incomplete), reason, created,
                              Timing(first, rate) if first is not None or rate is not None else None)
                for body, incomplete, reason, created, first, rate in rows]

    @_guarded
    def tools(self, cid: str) -> list[dict] | None:
        """The tools remembered for CID (see set_tools), or None."""
        row = self._conn.execute("SELECT tools FROM conversations WHERE id = ?", (cid,)).fetchone()
        return json.loads(row[0]) if row and row[0] else None

    @_guarded
    def set_tools(self, cid: str, tools: list[dict]) -> None:
        """Remember the TOOLS the latest turn of CID sent, for the turns that continue it."""
        with write_transaction(self._conn) as conn:
            conn.execute("UPDATE conversations SET tools = ? WHERE id = ?",
                         (json.dumps(tools, ensure_ascii=False), cid))

    @_guarded
    def count(self) -> int:
        """How many conversations are saved."""
        return self._conn.execute("SELECT COUNT(*) FROM conversations").fetchone()[0]

    # -- writing (`list` comes last: defined earlier, it would shadow the builtin) --------

    @_guarded
    def create(self, cid: str | None, kind: str, model: str | None,
               agent_id: str | None = None) -> Conversation:
        """Start a conversation of KIND ("chat", "agents" or "fim"); CID None makes a new short id."""
        if kind not in KINDS:
            raise ValueError(f"conversation kind must be one of {', '.join(KINDS)} (got {kind!r})")
        now = iso(self.clock())
        with write_transaction(self._conn) as conn:
            cid = cid or self._new_id(conn)
            if conn.execute("SELECT 1 FROM conversations WHERE id = ?", (cid,)).fetchone():
                raise StoreError(f"a conversation with id {cid} already exists")
            conn.execute(
                "INSERT INTO conversations (id, kind, model, agent_id, created_at, updated_at, revision) "
                "VALUES (?, ?, ?, ?, ?, ?, (SELECT COALESCE(MAX(revision), 0) + 1 FROM conversations))",
                (cid, kind, model, agent_id, now, now))
        return Conversation(cid, kind, model, agent_id, now, now, None, 0, False, _messages=[],
                            _loader=lambda: self.messages(cid))

    @_guarded
    def claim(self, cid: str, kind: str, agent_id: str | None = None) -> Conversation:
        """Conversation CID, created (of KIND, empty) in the same transaction if it does not exist."""
        if kind not in KINDS:
            raise ValueError(f"conversation kind must be one of {', '.join(KINDS)} (got {kind!r})")
        now = iso(self.clock())
        with write_transaction(self._conn) as conn:
            conn.execute(
                "INSERT OR IGNORE INTO conversations (id, kind, model, agent_id, created_at, updated_at, "
                "revision) VALUES (?, ?, NULL, ?, ?, ?, "
                "(SELECT COALESCE(MAX(revision), 0) + 1 FROM conversations))",
                (cid, kind, agent_id, now, now))
        return self.get(cid)

    @_guarded
    def check_writable(self) -> None:
        """Take and release the write lock (waiting as long as any write would), so a locked,
        read-only or broken database is reported before a request is sent."""
        with write_transaction(self._conn):
            pass

    @staticmethod
    def _new_id(conn: sqlite3.Connection) -> str:
        while True:
            cid = uuid.uuid4().hex[:12]
            if not conn.execute("SELECT 1 FROM conversations WHERE id = ?", (cid,)).fetchone():
                return cid

    @_guarded
    def add_messages(self, cid: str, messages: list[dict], *, model: str | None = None,
                     finish_reason: str | None = None, complete: bool = True,
                     timing: Timing | None = None) -> None:
        """Append one exchange's MESSAGES to CID, in order.

        MODEL (if given) becomes the conversation's model; FINISH_REASON and a streamed
        answer's TIMING are kept on the exchange's last message, and `complete=False` flags
        that message as cut short.
        """
        now = iso(self.clock())
        with write_transaction(self._conn) as conn:
            row = conn.execute("SELECT model, title FROM conversations WHERE id = ?", (cid,)).fetchone()
            if row is None:
                raise StoreError(f"no conversation with id {cid} in the history (deleted meanwhile?)")
            stored_model, title = row
            self._insert_messages(conn, cid, messages, now, finish_reason, not complete, timing)
            title = title or next(filter(None, map(title_of, messages)), None)
            conn.execute(
                "UPDATE conversations SET updated_at = ?, model = ?, title = ?, "
                "revision = (SELECT MAX(revision) + 1 FROM conversations) WHERE id = ?",
                (now, model or stored_model, title, cid))

    @staticmethod
    def _insert_messages(conn: sqlite3.Connection, cid: str, messages: list[dict], now: str,
                         finish_reason: str | None, cut_short: bool, timing: Timing | None) -> None:
        start = conn.execute("SELECT COALESCE(MAX(seq), -1) + 1 FROM messages WHERE conversation_id = ?",
                             (cid,)).fetchone()[0]
        last = len(messages) - 1
        first_token, rate = timing if timing is not None else (None, None)
        conn.executemany(
            "INSERT INTO messages (conversation_id, seq, body, incomplete, finish_reason, created_at, "
            "first_token_ms, tokens_per_second) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(cid, start + index, json.dumps(message, ensure_ascii=False), int(cut_short and index == last),
              finish_reason if index == last else None, now,
              first_token if index == last else None, rate if index == last else None)
             for index, message in enumerate(messages)])

    @_guarded
    def delete(self, cid: str) -> bool:
        """Delete conversation CID and its messages; False if there was none. The ledger stays."""
        with write_transaction(self._conn) as conn:
            return conn.execute("DELETE FROM conversations WHERE id = ?", (cid,)).rowcount > 0

    @_guarded
    def delete_all(self) -> int:
        """Delete every conversation and message; return how many conversations went. The ledger stays."""
        with write_transaction(self._conn) as conn:
            conn.execute("DELETE FROM messages")
            return conn.execute("DELETE FROM conversations").rowcount

    @_guarded
    def list(self, limit: int | None = None) -> Iterator[Conversation]:
        """Conversations, most recently updated first; at most LIMIT of them (None or 0: all),
        read one by one while the store is open."""
        for row in self._conn.execute(_newest(), (limit or -1,)):
            yield self._conversation(row)
