"""The conversation store: schema, WAL, round-trips, titles, incomplete flags, timing, concurrency."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone

import pytest

from mistral_cli.bodies.content import display_text, title_of, tool_call_text
from mistral_cli.env import Env
from mistral_cli.store import StoreError
from mistral_cli.store.conversations import ConversationStore, open_existing_store, open_store, store_path
from mistral_cli.store.schema import BUSY_TIMEOUT_MS, SCHEMA_VERSION

DAY1 = datetime(2025, 3, 1, 10, 0, tzinfo=timezone.utc)
DAY2 = datetime(2025, 3, 2, 23, 59, tzinfo=timezone.utc)
DAY3 = datetime(2025, 3, 3, 0, 1, tzinfo=timezone.utc)

USER = {"role": "user", "content": "Hello there"}
ANSWER = {"role": "assistant", "content": "General Kenobi"}
CHUNKED_USER = {"role": "user", "content": [
    {"type": "text", "text": "What is in this picture?"},
    {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
]}
TOOL_CALL_ANSWER = {"role": "assistant", "content": "", "tool_calls": [
    {"id": "call_1", "type": "function", "index": 0,
     "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}},
    {"id": "call_2", "function": {"name": "get_time", "arguments": {"tz": "Europe/Paris"}}},
]}
TOOL_RESULT = {"role": "tool", "name": "get_weather", "tool_call_id": "call_1", "content": "{\"temp\": 21.5}"}


def env() -> Env:
    return Env(environ=dict(os.environ))


@pytest.fixture
def store():
    opened = open_store(env())
    yield opened
    opened.close()


def at(moment: datetime):
    return lambda: moment


# -- the database file ------------------------------------------------------------------------


def test_open_store_creates_the_database_in_the_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("MCLI_DATA_DIR", str(tmp_path / "deep" / "data"))
    with open_store(env()) as opened:
        assert opened.path == tmp_path / "deep" / "data" / "history.db"
    assert (tmp_path / "deep" / "data" / "history.db").is_file()
    assert store_path(env()) == tmp_path / "deep" / "data" / "history.db"


def test_database_is_in_wal_mode_with_a_busy_timeout_and_a_schema_version(store):
    assert store._conn.execute("PRAGMA busy_timeout").fetchone()[0] == BUSY_TIMEOUT_MS
    raw = sqlite3.connect(store.path)
    try:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION >= 1
    finally:
        raw.close()


def test_reopening_keeps_the_data(store):
    conv = store.create(None, "chat", "m")
    store.add_messages(conv.id, [USER, ANSWER])
    store.close()
    with open_store(env()) as again:
        assert again.messages(conv.id) == [USER, ANSWER]


def test_a_database_from_a_newer_mcli_is_refused(store):
    store._conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    store.close()
    with pytest.raises(StoreError, match="newer mcli"):
        open_store(env())


def test_a_file_that_is_not_a_database_is_a_store_error(tmp_path):
    path = tmp_path / "mcli-data" / "history.db"
    path.write_bytes(b"this is not an sqlite database" * 100)
    with pytest.raises(StoreError, match="history database"):
        ConversationStore(path)


def test_a_data_dir_that_cannot_be_created_is_a_store_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(StoreError, match="cannot open the history database"):
        ConversationStore(blocker / "data" / "history.db")


def test_open_existing_store_does_not_create_the_file():
    assert open_existing_store(env()) is None
    assert not store_path(env()).exists()
    open_store(env()).close()
    existing = open_existing_store(env())
    assert existing is not None
    existing.close()


def test_importing_the_app_does_not_import_sqlite3():
    code = "import sys, mistral_cli.app; print('sqlite3' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# -- conversations ----------------------------------------------------------------------------


def test_create_generates_short_unique_ids(store):
    ids = {store.create(None, "chat", "m").id for _ in range(20)}
    assert len(ids) == 20
    assert all(len(cid) == 12 and int(cid, 16) >= 0 for cid in ids)


def test_create_with_an_id_and_an_agent(store):
    conv = store.create("my-conv", "agents", None, agent_id="ag:123")
    got = store.get("my-conv")
    assert (got.id, got.kind, got.model, got.agent_id) == ("my-conv", "agents", None, "ag:123")
    assert conv.message_count == got.message_count == 0
    assert got.messages == [] and got.title is None and got.incomplete is False
    assert got.created_at == got.updated_at and got.created_at.endswith("Z")


def test_create_refuses_a_duplicate_id_and_an_unknown_kind(store):
    store.create("dup", "chat", "m")
    with pytest.raises(StoreError, match="already exists"):
        store.create("dup", "chat", "m")
    with pytest.raises(ValueError):
        store.create(None, "embeddings", "m")


def test_get_unknown_is_none(store):
    assert store.get("nope") is None
    assert store.messages("nope") == []


def test_messages_round_trip_exactly(store):
    conv = store.create(None, "chat", "m")
    odd = {"role": "assistant", "content": None, "prefix": True, "extra": {"nested": [1, 2.5, None, "é✓"]}}
    first = [{"role": "system", "content": "Be brief."}, CHUNKED_USER, TOOL_CALL_ANSWER, TOOL_RESULT]
    second = [odd, {"role": "user", "content": "line 1\nline 2\t\"quoted\" 🚀"}]
    store.add_messages(conv.id, first)
    store.add_messages(conv.id, second)
    assert store.messages(conv.id) == first + second
    assert json.dumps(store.messages(conv.id)) == json.dumps(first + second)
    assert store.get(conv.id).messages == first + second
    assert store.get(conv.id).message_count == 6


def test_add_messages_does_not_keep_a_reference_to_the_callers_dicts(store):
    conv = store.create(None, "chat", "m")
    message = {"role": "user", "content": "before"}
    store.add_messages(conv.id, [message])
    message["content"] = "after"
    assert store.messages(conv.id) == [{"role": "user", "content": "before"}]


def test_add_messages_to_an_unknown_conversation_is_a_store_error(store):
    with pytest.raises(StoreError, match="no conversation"):
        store.add_messages("ghost", [USER])


def test_add_messages_updates_model_and_updated_at(store):
    store.clock = at(DAY1)
    conv = store.create(None, "chat", "small")
    store.clock = at(DAY2)
    store.add_messages(conv.id, [USER, ANSWER], model="large")
    got = store.get(conv.id)
    assert got.model == "large"
    assert (got.created_at, got.updated_at) == ("2025-03-01T10:00:00Z", "2025-03-02T23:59:00Z")
    store.add_messages(conv.id, [USER])  # no model given: keeps the last one
    assert store.get(conv.id).model == "large"


def test_title_is_the_first_user_message_truncated(store):
    conv = store.create(None, "chat", "m")
    long_text = "word " * 40
    store.add_messages(conv.id, [{"role": "system", "content": "You are terse."},
                                 {"role": "user", "content": long_text}, ANSWER])
    store.add_messages(conv.id, [{"role": "user", "content": "a later question"}])
    title = store.get(conv.id).title
    assert title.startswith("word word") and title.endswith("…") and len(title) <= 60
    assert "later" not in title


def test_title_from_chunked_content(store):
    conv = store.create(None, "chat", "m")
    store.add_messages(conv.id, [CHUNKED_USER])
    assert store.get(conv.id).title.startswith("What is in this picture? [image: data:image/png;base64,")


def test_latest_is_the_most_recently_updated(store):
    first = store.create(None, "chat", "m")
    second = store.create(None, "fim", "codestral")
    assert store.latest().id == second.id
    store.add_messages(first.id, [USER])  # same second: the write order decides
    latest = store.latest()
    assert latest.id == first.id and latest.messages == [USER]
    assert store.latest("fim").id == second.id
    assert store.latest("agents") is None


def test_latest_of_an_empty_store_is_none(store):
    assert store.latest() is None
    assert list(store.list()) == []


def test_list_orders_newest_first_with_a_limit_and_loads_messages_lazily(store):
    ids = []
    for day in (DAY1, DAY3, DAY2):
        store.clock = at(day)
        conv = store.create(None, "chat", "m")
        store.add_messages(conv.id, [USER, ANSWER])
        ids.append(conv.id)
    listed = list(store.list())
    assert [c.id for c in listed] == [ids[1], ids[2], ids[0]]
    assert [c.id for c in store.list(limit=2)] == [ids[1], ids[2]]
    assert listed[0].message_count == 2 and listed[0].title == "Hello there"
    assert listed[0]._messages is None
    assert listed[0].messages == [USER, ANSWER]


def test_to_dict_has_the_conversation_fields_only(store):
    conv = store.create("c1", "chat", "m")
    assert set(conv.to_dict()) == {"id", "kind", "model", "agent_id", "created_at", "updated_at",
                                   "title", "message_count", "incomplete"}


# -- incomplete exchanges ---------------------------------------------------------------------


def test_incomplete_exchange_flags_its_last_message(store):
    conv = store.create(None, "chat", "m")
    store.add_messages(conv.id, [USER, ANSWER], finish_reason="stop")
    assert store.get(conv.id).incomplete is False
    store.add_messages(conv.id, [USER, {"role": "assistant", "content": "Gen"}], complete=False)
    records = store.records(conv.id)
    assert [r.incomplete for r in records] == [False, False, False, True]
    assert [r.finish_reason for r in records] == [None, "stop", None, None]
    assert store.get(conv.id).incomplete is True
    assert next(store.list()).incomplete is True
    assert store.messages(conv.id)[-1] == {"role": "assistant", "content": "Gen"}


# -- deleting ---------------------------------------------------------------------------------


def test_delete_one(store):
    keep = store.create(None, "chat", "m")
    drop = store.create(None, "chat", "m")
    store.add_messages(drop.id, [USER, ANSWER])
    store.add_messages(keep.id, [USER])
    assert store.delete(drop.id) is True
    assert store.delete(drop.id) is False
    assert store.get(drop.id) is None and store.messages(drop.id) == []
    assert [c.id for c in store.list()] == [keep.id]
    assert store._conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == 1


def test_delete_all_and_match(store):
    store.create("abcd1111", "chat", "m")
    store.create("abcd2222", "chat", "m")
    assert store.match("abcd") == ["abcd1111", "abcd2222"]
    assert store.match("abcd2") == ["abcd2222"]
    assert store.match("zz") == []
    assert store.count() == 2
    assert store.delete_all() == 2
    assert store.count() == 0


# -- content helpers --------------------------------------------------------------------------


def test_display_text_handles_strings_chunks_and_none():
    assert display_text(None) == ""
    assert display_text("plain") == "plain"
    assert display_text([{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]) == "ab"
    assert display_text([{"type": "text", "text": "see"}, {"type": "document_url", "document_url": "https://x/d.pdf",
                                                            "document_name": "d.pdf"}]) == "see [document: d.pdf]"
    assert display_text([{"type": "reference", "reference_ids": [1, 2]}]) == "[references: 1, 2]"


def test_tool_call_text_and_titles():
    assert tool_call_text(TOOL_CALL_ANSWER["tool_calls"][0]) == 'get_weather({"city": "Paris"})'
    assert tool_call_text(TOOL_CALL_ANSWER["tool_calls"][1]) == 'get_time({"tz":"Europe/Paris"})'
    assert title_of(ANSWER) is None
    assert title_of({"role": "user", "content": "  many\n\nlines  "}) == "many lines"


# -- concurrency ------------------------------------------------------------------------------


def test_threads_appending_to_one_conversation_do_not_lock_each_other(store):
    conv = store.create(None, "chat", "m")
    errors: list[BaseException] = []

    def writer(name: str) -> None:
        try:
            with open_store(env()) as own:
                for index in range(40):
                    own.add_messages(conv.id, [{"role": "user", "content": f"{name}-{index}"}])
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(f"t{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    contents = [m["content"] for m in store.messages(conv.id)]
    assert len(contents) == 160
    for name in ("t0", "t1", "t2", "t3"):
        assert [c for c in contents if c.startswith(name + "-")] == [f"{name}-{i}" for i in range(40)]


COUNT = 400  # per process: enough for the two to overlap
WRITER = """
import os, sys, time
from mistral_cli.env import Env
from mistral_cli.store.conversations import open_store
store = open_store(Env(environ=dict(os.environ)))
cid, go = sys.argv[1], sys.argv[3]
while not os.path.exists(go):  # start together, so the writes really overlap
    time.sleep(0.005)
for index in range(int(sys.argv[4])):
    store.add_messages(cid, [{"role": "user", "content": f"{sys.argv[2]}-{index}"}])
store.close()
"""


def test_two_processes_append_without_database_is_locked(store, tmp_path):
    conv = store.create(None, "chat", "m")
    go = tmp_path / "go"
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, conv.id, name, str(go), str(COUNT)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for name in ("p1", "p2")]
    go.touch()
    results = [proc.communicate(timeout=60) for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], results
    assert all("locked" not in err for _out, err in results)
    contents = [m["content"] for m in store.messages(conv.id)]
    for name in ("p1", "p2"):
        assert [c for c in contents if c.startswith(name + "-")] == [f"{name}-{i}" for i in range(COUNT)]
    assert len(contents) == 2 * COUNT


def test_a_store_held_busy_by_a_long_writer_waits_instead_of_failing(store):
    conv = store.create(None, "chat", "m")
    blocker = sqlite3.connect(store.path, isolation_level=None, check_same_thread=False)
    blocker.execute("BEGIN IMMEDIATE")
    released = threading.Timer(0.15, lambda: blocker.execute("COMMIT"))
    released.start()
    try:
        with open_store(env()) as other:
            other.add_messages(conv.id, [USER])  # waits for the lock (busy_timeout), then writes
    finally:
        released.join()
        blocker.close()
    assert store.messages(conv.id) == [USER]



def test_tools_are_remembered_per_conversation(store):
    store.create("c1", "chat", "m")
    store.create("c2", "chat", "m")
    tools = [{"type": "function", "function": {"name": "weather", "parameters": {}}}]
    assert store.tools("c1") is None
    store.set_tools("c1", tools)
    assert store.tools("c1") == tools
    assert store.tools("c2") is None
    assert store.delete("c1")
    assert store.tools("c1") is None


def test_a_version_1_database_is_migrated_and_keeps_its_data(tmp_path):
    from mistral_cli.store.schema import MIGRATIONS, _statements

    path = tmp_path / "history.db"
    raw = sqlite3.connect(path)
    for statement in _statements(MIGRATIONS[0]):
        raw.execute(statement)
    raw.execute("INSERT INTO conversations (id, kind, created_at, updated_at) VALUES ('old', 'chat', 't', 't')")
    raw.execute("PRAGMA user_version = 1")
    raw.commit()
    raw.close()
    with ConversationStore(path) as migrated:
        assert migrated.get("old") is not None
        migrated.set_tools("old", [{"type": "function"}])
        assert migrated.tools("old") == [{"type": "function"}]


def _fill(store, count: int) -> None:
    """COUNT conversations of two messages each, written straight into the database."""
    with store._conn:
        store._conn.executemany(
            "INSERT INTO conversations (id, kind, created_at, updated_at, revision) VALUES (?, 'chat', ?, ?, ?)",
            ((f"c{n:06d}", "2024-01-01T00:00:00Z", f"2024-01-01T00:{n // 60 % 60:02d}:{n % 60:02d}Z", n)
             for n in range(count)))
        store._conn.executemany(
            "INSERT INTO messages (conversation_id, seq, body, created_at) VALUES (?, ?, '{}', '2024')",
            ((f"c{n:06d}", seq) for n in range(count) for seq in range(2)))


def _steps(store, read) -> int:
    """The SQLite VM steps READ takes (counted in units of 100 instructions)."""
    steps = [0]

    def count() -> int:
        steps[0] += 1
        return 0

    store._conn.set_progress_handler(count, 100)
    try:
        read()
    finally:
        store._conn.set_progress_handler(None, 100)
    return steps[0]


def test_the_newest_conversations_cost_the_same_whatever_the_history_holds(store):
    _fill(store, 500)
    small = (_steps(store, store.latest), _steps(store, lambda: list(store.list(20))))
    older = [(f"d{n:06d}",) for n in range(4_500)]
    with store._conn:
        store._conn.executemany(
            "INSERT INTO conversations (id, kind, created_at, updated_at, revision) "
            "VALUES (?, 'chat', '2023-01-01T00:00:00Z', '2023-01-01T00:00:00Z', 0)", older)
    large = (_steps(store, store.latest), _steps(store, lambda: list(store.list(20))))
    assert store.latest().id == "c000499"
    assert large[0] <= small[0] + 2 and large[1] <= small[1] + 2, (small, large)
