"""An answered exchange the history database cannot take (another connection holds its lock
past the wait): the saving waits and tries again; when it still cannot save, mcli says so,
naming the conversation, and the REPL stops rather than go on with a conversation the saved
one lacks a turn of (the answer stays printed, exit 1)."""

from __future__ import annotations

import sqlite3

import pytest

from mistral_cli.store import schema
from tests.generation_helpers import chat_requests, history_path, saved

ANSWER = "Hello from the fake API!"


class Holder:
    """Another connection that takes the history's write lock when the server receives chat
    request number AT (so after mcli checked the lock), and lets go when told to."""

    def __init__(self, at: int):
        self.at = at
        self.seen = 0
        self.conn: sqlite3.Connection | None = None

    def hook(self, stage: str, req) -> None:
        if stage == "received" and req.path == "/v1/chat/completions":
            self.seen += 1
            if self.seen == self.at:
                self.conn = sqlite3.connect(history_path(), isolation_level=None, check_same_thread=False)
                self.conn.execute("BEGIN IMMEDIATE")

    def release(self) -> None:
        if self.conn is not None:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            self.conn.close()
            self.conn = None


@pytest.fixture
def holder(api, monkeypatch):
    monkeypatch.setattr(schema, "BUSY_TIMEOUT_MS", 50)
    monkeypatch.setattr(schema, "SAVE_WAIT_MS", 200, raising=False)
    held = Holder(at=2)
    api.hooks.append(held.hook)
    yield held
    api.hooks.remove(held.hook)
    held.release()


def test_the_repl_stops_when_an_answered_turn_cannot_be_saved(api, cli, holder):
    result = cli("chat", "-i", "--no-stream", input="first\nsecond\nthird\n")
    holder.release()
    assert result.exit_code == 1, result
    assert result.stdout == f"{ANSWER}\n{ANSWER}\n"  # the second answer stays printed
    assert len(chat_requests(api)) == 2  # the third line is never sent
    conversation, records = saved("chat")
    assert [r.message["content"] for r in records] == ["first", ANSWER]
    assert f"the answer above was not saved in the history (conversation {conversation.id} holds the turns " \
           "before it)" in result.stderr
    assert "locked" in result.stderr and "the REPL stops here" in result.stderr
    assert "internal error" not in result.stderr


def test_the_repl_saves_the_turn_when_the_lock_is_let_go_while_it_waits(api, cli, holder, monkeypatch):
    tries = []

    def pause(_seconds: float) -> None:
        tries.append(1)
        holder.release()

    monkeypatch.setattr(schema, "pause", pause, raising=False)
    result = cli("chat", "-i", "--no-stream", input="first\nsecond\nthird\n")
    assert result.exit_code == 0, result
    assert tries
    _conversation, records = saved("chat")
    assert [r.message["content"] for r in records] == ["first", ANSWER, "second", ANSWER, "third", ANSWER]
    assert [m["content"] for m in chat_requests(api)[-1].json["messages"]] == \
           ["first", ANSWER, "second", ANSWER, "third"]


def test_a_one_shot_chat_whose_answer_cannot_be_saved_says_so_naming_the_conversation(api, cli, holder):
    assert cli("chat", "--no-stream", "first").exit_code == 0
    result = cli("chat", "-c", "--no-stream", "second")
    holder.release()
    assert result.exit_code == 1, result
    assert result.stdout == f"{ANSWER}\n"
    conversation, records = saved("chat")
    assert [r.message["content"] for r in records] == ["first", ANSWER]
    assert f"not saved in the history (conversation {conversation.id} holds the turns before it)" in result.stderr
    assert "locked" in result.stderr


def test_a_new_conversation_that_cannot_be_saved_leaves_nothing_behind(api, cli, holder):
    holder.at = 1
    result = cli("chat", "--no-stream", "first")
    holder.release()
    assert result.exit_code == 1, result
    assert result.stdout == f"{ANSWER}\n"
    assert "was not created" in result.stderr
    assert saved("chat") == (None, [])


def test_the_repl_stops_when_a_turn_cut_short_by_ctrl_c_cannot_be_saved(api, cli, holder):
    import _thread

    take_lock = holder.hook

    def hook(stage: str, req) -> None:
        take_lock(stage, req)
        if stage == "received" and holder.seen == holder.at:
            _thread.interrupt_main()  # Ctrl-C while the answer is on its way

    api.hooks[api.hooks.index(take_lock)] = hook
    holder.hook = hook
    result = cli("chat", "-i", input="first\nsecond\nthird\n")
    holder.release()
    assert result.exit_code == 1, result
    assert len(chat_requests(api)) == 2  # the third line is never sent
    conversation, records = saved("chat")
    assert [r.message["content"] for r in records] == ["first", ANSWER]
    assert f"conversation {conversation.id} holds the turns before it" in result.stderr
    assert "the REPL stops here" in result.stderr
