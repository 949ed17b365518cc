"""Conversations, their messages and token usage, saved in `<data dir>/history.db`.

    store = open_store(env)
    conv = store.latest("chat") or store.create(None, "chat", model)
    store.add_messages(conv.id, [user_msg, answer], model=model, usage=body["usage"])

Messages are stored as the JSON the API takes, exactly as given, in order. Each
`add_messages` call is one exchange; `complete=False` flags its last message as cut short.
Token usage is summed per UTC day and model in its own table, so it outlives deleted
conversations. Any SQLite failure surfaces as `StoreError`.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mistral_cli.bodies.content import title_of
from mistral_cli.config.paths import data_dir
from mistral_cli.store import StoreError, schema
from mistral_cli.store.schema import connect, connect_reader, guarded, store_error, write_transaction
from mistral_cli.times import iso

if TYPE_CHECKING:  # pragma: no cover
    from mistral_cli.env import Env

DB_NAME = "history.db"
KINDS = ("chat", "agents", "fim")
USAGE_GROUPS = ("day", "model")
TOKEN_KEYS = ("prompt_tokens", "completion_tokens", "total_tokens")
UNKNOWN_MODEL = "unknown"

_CONVERSATION_SELECT = """
    SELECT c.id, c.kind, c.model, c.agent_id, c.created_at, c.updated_at, c.title,
           (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id) AS message_count,
           EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND m.incomplete)
             AS incomplete
    FROM conversations c
"""
# Times are stored to the second; `revision` (bumped on every write) orders writes within one.
_NEWEST_FIRST = " ORDER BY c.updated_at DESC, c.revision DESC"


def store_path(env: "Env") -> Path:
    """Where the history database lives: `history.db` in the data dir (MCLI_DATA_DIR overrides)."""
    return data_dir(env.environ) / DB_NAME


def open_store(env: "Env") -> "ConversationStore":
    """Open the history database of ENV, creating it (and its folder) if needed."""
    return ConversationStore(store_path(env))


def open_existing_store(env: "Env") -> "ConversationStore | None":
    """The history database if its file exists, else None: reading commands never create it,
    and open it read-only when they may not write it."""
    path = store_path(env)
    return ConversationStore(path, reading=True) if path.exists() else None


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


@dataclass(frozen=True)
class Exchange:
    """One exchange to save into conversation CID: its MESSAGES (what was sent, then the
    answer), the model that answered, its token usage, why it stopped, whether it is whole,
    and the tools its request offered (None: leave the remembered ones)."""

    cid: str
    messages: list[dict]
    model: str | None = None
    usage: dict | None = None
    finish_reason: str | None = None
    complete: bool = True
    tools: list[dict] | None = None


def new_id() -> str:
    """A new short conversation id (12 hex digits)."""
    return uuid.uuid4().hex[:12]


@dataclass(frozen=True)
class StoredMessage:
    """A message as saved: the API message, whether its exchange was cut short, why the model
    stopped (on an exchange's last message), and when it was saved."""

    message: dict
    incomplete: bool
    finish_reason: str | None
    created_at: str


_HINT = "set `history = false` in the config (or pass --no-log) to stop saving"
_guarded = guarded("history database", hint=_HINT)


def utc_now() -> datetime:
    """The current time in UTC (the store's clock; tests replace `store.clock`)."""
    return datetime.now(timezone.utc)


def usage_groups(by: str) -> tuple[str, ...]:
    """Parse BY ("model", "day", or "day,model") into the columns usage is grouped by."""
    groups = tuple(part.strip() for part in by.split(",") if part.strip())
    if not groups or any(group not in USAGE_GROUPS for group in groups) or len(set(groups)) != len(groups):
        raise ValueError(f"usage: by must be model, day or day,model (got {by!r})")
    return tuple(group for group in USAGE_GROUPS if group in groups)


def token_counts(usage: dict) -> tuple[int, int, int]:
    """(prompt, completion, total) tokens from an API `usage` object; total defaults to the sum."""
    def count(key: str) -> int:
        value = usage.get(key)
        return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0

    prompt, completion = count("prompt_tokens"), count("completion_tokens")
    return prompt, completion, count("total_tokens") or prompt + completion


class ConversationStore:
    """The history database: conversations, their messages, and token usage."""

    def __init__(self, path: Path, *, reading: bool = False):
        """Open PATH (see schema.connect); READING: for a command that only reads (read-only
        when this process may not write the file)."""
        self.path = Path(path)
        self.clock: Callable[[], datetime] = utc_now
        try:
            self._conn = connect_reader(self.path) if reading else connect(self.path)
        except (sqlite3.Error, OSError) as exc:
            raise store_error("cannot open the history database", self.path, exc, _HINT) from exc

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
        row = self._conn.execute(_CONVERSATION_SELECT + where + _NEWEST_FIRST + " LIMIT 1", params).fetchone()
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
            "SELECT body, incomplete, finish_reason, created_at FROM messages "
            "WHERE conversation_id = ? ORDER BY seq", (cid,)).fetchall()
        return [StoredMessage(json.loads(body), bool(incomplete), reason, created)
                for body, incomplete, reason, created in rows]

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

    @_guarded
    def usage(self, by: str = "model", since: str | None = None) -> list[dict[str, Any]]:
        """Token totals grouped BY "model", "day" or "day,model", from UTC day SINCE (YYYY-MM-DD) on.

        Each row: the group's day and/or model, requests, prompt_tokens, completion_tokens,
        total_tokens. Days run oldest first; models alone are ordered by total tokens, largest first.
        """
        groups = usage_groups(by)
        columns = ", ".join(groups)
        order = ("day, model" if len(groups) == 2 else "day" if groups == ("day",)
                 else "SUM(total_tokens) DESC, model")
        rows = self._conn.execute(
            f"SELECT {columns}, SUM(requests), SUM(prompt_tokens), SUM(completion_tokens), "
            f"SUM(total_tokens) FROM usage WHERE ? IS NULL OR day >= ? GROUP BY {columns} ORDER BY {order}",
            (since, since)).fetchall()
        keys = (*groups, "requests", *TOKEN_KEYS)
        return [dict(zip(keys, row)) for row in rows]

    # -- writing (`list` comes last: defined earlier, it would shadow the builtin) --------

    @_guarded
    def create(self, cid: str | None, kind: str, model: str | None,
               agent_id: str | None = None) -> Conversation:
        """Start a conversation of KIND ("chat", "agents" or "fim"); CID None makes a new short id."""
        now = iso(self.clock())
        with write_transaction(self._conn) as conn:
            cid = cid or self._new_id(conn)
            if self._exists(conn, cid):
                raise StoreError(f"a conversation with id {cid} already exists")
            self._insert_conversation(conn, cid, kind, model, agent_id, now)
        return Conversation(cid, kind, model, agent_id, now, now, None, 0, False, _messages=[],
                            _loader=lambda: self.messages(cid))

    @_guarded
    def claim(self, cid: str, kind: str, agent_id: str | None = None) -> Conversation:
        """Conversation CID, created (of KIND, empty) in the same transaction if it does not exist."""
        now = iso(self.clock())
        with write_transaction(self._conn) as conn:
            self._insert_conversation(conn, cid, kind, None, agent_id, now, ignore=True)
        return self.get(cid)

    @staticmethod
    def _insert_conversation(conn: sqlite3.Connection, cid: str, kind: str, model: str | None,
                             agent_id: str | None, now: str, ignore: bool = False) -> None:
        """Insert conversation CID (IGNORE: unless it exists)."""
        if kind not in KINDS:
            raise ValueError(f"conversation kind must be one of {', '.join(KINDS)} (got {kind!r})")
        conn.execute(
            f"INSERT {'OR IGNORE ' if ignore else ''}INTO conversations (id, kind, model, agent_id, "
            "created_at, updated_at, revision) VALUES (?, ?, ?, ?, ?, ?, "
            "(SELECT COALESCE(MAX(revision), 0) + 1 FROM conversations))",
            (cid, kind, model, agent_id, now, now))

    @_guarded
    def check_writable(self) -> None:
        """Take and release the write lock (waiting as long as any write would), so a locked,
        read-only or broken database is reported before a request is sent."""
        with write_transaction(self._conn):
            pass

    @staticmethod
    def _exists(conn: sqlite3.Connection, cid: str) -> bool:
        """Whether conversation CID is in the database."""
        return conn.execute("SELECT 1 FROM conversations WHERE id = ?", (cid,)).fetchone() is not None

    @classmethod
    def _new_id(cls, conn: sqlite3.Connection) -> str:
        """A new short id no conversation has."""
        while True:
            cid = new_id()
            if not cls._exists(conn, cid):
                return cid

    @_guarded
    def add_messages(self, cid: str, messages: list[dict], *, model: str | None = None,
                     usage: dict | None = None, finish_reason: str | None = None,
                     complete: bool = True) -> None:
        """Append one exchange's MESSAGES to CID, in order, and record its token USAGE.

        MODEL (if given) becomes the conversation's model; FINISH_REASON is kept on the
        exchange's last message, and `complete=False` flags that message as cut short.
        """
        self.save_exchange(Exchange(cid, messages, model, usage, finish_reason, complete),
                           wait_ms=schema.BUSY_TIMEOUT_MS)

    @_guarded
    def save_exchange(self, exchange: "Exchange", *, new: tuple[str, str | None] | None = None,
                      wait_ms: int | None = None) -> str:
        """Save EXCHANGE in one transaction, all of it or nothing: with NEW (a kind and an agent)
        the conversation is created first (under another new id if its id is taken), then the
        messages, usage and tools. Waits up to WAIT_MS (default schema.SAVE_WAIT_MS: an answer
        was paid for) for a lock another process holds. Returns the conversation's id."""
        moment = self.clock()
        now = iso(moment)
        cid = exchange.cid
        with write_transaction(self._conn, schema.SAVE_WAIT_MS if wait_ms is None else wait_ms) as conn:
            if new is not None:
                cid = self._new_id(conn) if self._exists(conn, cid) else cid
                self._insert_conversation(conn, cid, new[0], None, new[1], now)
            row = conn.execute("SELECT model, title FROM conversations WHERE id = ?", (cid,)).fetchone()
            if row is None:
                raise StoreError(f"no conversation with id {cid} in the history (deleted meanwhile?)")
            model = exchange.model or row[0]
            self._insert_messages(conn, cid, exchange.messages, now, exchange.finish_reason, not exchange.complete)
            conn.execute(
                "UPDATE conversations SET updated_at = ?, model = ?, title = ?, "
                "revision = (SELECT MAX(revision) + 1 FROM conversations) WHERE id = ?",
                (now, model, row[1] or next(filter(None, map(title_of, exchange.messages)), None), cid))
            if exchange.tools is not None:
                conn.execute("UPDATE conversations SET tools = ? WHERE id = ?",
                             (json.dumps(exchange.tools, ensure_ascii=False), cid))
            if exchange.usage:
                self._add_usage(conn, moment, model, exchange.usage)
        return cid

    @staticmethod
    def _insert_messages(conn: sqlite3.Connection, cid: str, messages: list[dict], now: str,
                         finish_reason: str | None, cut_short: bool) -> None:
        start = conn.execute("SELECT COALESCE(MAX(seq), -1) + 1 FROM messages WHERE conversation_id = ?",
                             (cid,)).fetchone()[0]
        last = len(messages) - 1
        conn.executemany(
            "INSERT INTO messages (conversation_id, seq, body, incomplete, finish_reason, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(cid, start + index, json.dumps(message, ensure_ascii=False), int(cut_short and index == last),
              finish_reason if index == last else None, now)
             for index, message in enumerate(messages)])

    @staticmethod
    def _add_usage(conn: sqlite3.Connection, moment: datetime, model: str | None, usage: dict) -> None:
        day = moment.astimezone(timezone.utc).strftime("%Y-%m-%d")
        prompt, completion, total = token_counts(usage)
        conn.execute(
            "INSERT INTO usage (day, model, requests, prompt_tokens, completion_tokens, total_tokens) "
            "VALUES (?, ?, 1, ?, ?, ?) ON CONFLICT (day, model) DO UPDATE SET "
            "requests = requests + 1, prompt_tokens = prompt_tokens + excluded.prompt_tokens, "
            "completion_tokens = completion_tokens + excluded.completion_tokens, "
            "total_tokens = total_tokens + excluded.total_tokens",
            (day, model or UNKNOWN_MODEL, prompt, completion, total))

    @_guarded
    def delete(self, cid: str) -> bool:
        """Delete conversation CID and its messages; False if there was none. Usage totals stay."""
        with write_transaction(self._conn) as conn:
            return conn.execute("DELETE FROM conversations WHERE id = ?", (cid,)).rowcount > 0

    @_guarded
    def delete_all(self) -> int:
        """Delete every conversation and message; return how many conversations went. Usage totals stay."""
        with write_transaction(self._conn) as conn:
            conn.execute("DELETE FROM messages")
            return conn.execute("DELETE FROM conversations").rowcount

    @_guarded
    def list(self, limit: int | None = None) -> list[Conversation]:
        """Conversations, most recently updated first; at most LIMIT of them (None or 0: all)."""
        rows = self._conn.execute(_CONVERSATION_SELECT + _NEWEST_FIRST + " LIMIT ?",
                                  (limit or -1,)).fetchall()
        return [self._conversation(row) for row in rows]
