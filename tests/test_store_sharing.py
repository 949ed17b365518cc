"""Several mcli at once on one data folder, and a data folder mcli may not write: processes
that open, migrate and write the history database together wait for each other (within a
bound, then a clear error), and commands that only read work on a read-only database."""

from __future__ import annotations

import io
import multiprocessing
import os
import sqlite3
import subprocess
import sys

import pytest

from mistral_cli.env import Env
from mistral_cli.store import StoreError, schema
from mistral_cli.store.conversations import ConversationStore
from tests.generation_helpers import history_path, saved

CHAT = "/v1/chat/completions"
PROCESSES = 20

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="fork, file modes and chattr are POSIX")


# -- many processes at once -----------------------------------------------------------------------


def run_forked(args: list[str], err_path, barrier) -> int:
    """Run mcli's main on ARGS in this (forked) process, its stderr into ERR_PATH; it opens the
    history database when all the others do (BARRIER), so that their opening steps collide."""
    from mistral_cli.app import main
    from mistral_cli.store import conversations

    opening = conversations.connect

    def together(path):
        barrier.wait(timeout=60)
        return opening(path)

    conversations.connect = together
    with open(err_path, "w", encoding="utf-8") as err:
        env = Env(io.StringIO(""), io.StringIO(), err, environ=dict(os.environ))
        return main(args, env)


def test_twenty_mcli_started_at_once_on_a_fresh_data_folder_all_save(api, cli, tmp_path):
    assert cli("chat", "--no-log", "warm up").exit_code == 0  # imports done once, before the forks
    import mistral_cli.store.runs  # noqa: F401 - the store too: the children only run

    for leftover in history_path().parent.glob("history.db*"):  # the ledger records even --no-log
        leftover.unlink()
    barrier = multiprocessing.get_context("fork").Barrier(PROCESSES)
    pids = []
    for number in range(PROCESSES):
        pid = os.fork()
        if pid == 0:  # the child: a whole `mcli chat`, its store opened, created and written at once
            code = 99
            try:
                code = run_forked(["chat", "--no-stream", f"hello {number}"], tmp_path / f"err{number}", barrier)
            finally:
                os._exit(code)
        pids.append(pid)
    codes = [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in pids]
    errors = [(tmp_path / f"err{n}").read_text() for n in range(PROCESSES)]
    assert codes == [0] * PROCESSES, [e for e in errors if e]
    assert not any("locked" in text for text in errors)
    with ConversationStore(history_path()) as store:
        assert sorted(len(conv.messages) for conv in store.list()) == [2] * PROCESSES
    assert len(api.requests_to("POST", CHAT)) == PROCESSES + 1


def test_opening_waits_while_another_process_writes_a_file_not_yet_in_wal_mode(tmp_path, monkeypatch):
    path = tmp_path / "history.db"
    writer = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    writer.execute("BEGIN IMMEDIATE")  # SQLite answers "locked" at once to a switch to WAL now
    tries = []

    def pause(_seconds: float) -> None:
        tries.append(1)
        if writer.in_transaction:
            writer.execute("COMMIT")

    monkeypatch.setattr(schema, "pause", pause, raising=False)
    try:
        with ConversationStore(path) as store:
            assert store.count() == 0
    finally:
        writer.close()
    assert tries  # it was locked, and waited


def test_a_lock_held_past_the_bound_is_a_clear_error(tmp_path, monkeypatch):
    path = tmp_path / "history.db"
    ConversationStore(path).close()
    monkeypatch.setattr(schema, "BUSY_TIMEOUT_MS", 50)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with ConversationStore(path) as store, pytest.raises(StoreError) as caught:
            store.create(None, "chat", "m")
    finally:
        holder.close()
    assert "another process kept the database locked for 0.05 s" in caught.value.message
    assert str(path) in caught.value.message


# -- a read-only history database -----------------------------------------------------------------


def chattr(flag: str, *paths) -> bool:
    """`chattr FLAG PATHS` (the immutable flag stops root too); False where it cannot be set."""
    try:
        done = subprocess.run(["chattr", flag, *map(str, paths)], capture_output=True, timeout=30)
    except OSError:
        return False
    return done.returncode == 0


@pytest.fixture(params=["file", "file and folder"])
def read_only(request, api, cli):
    """A history with one conversation, then its file (and folder) made read-only: by their
    mode, and (for root, whom modes do not stop) by the immutable flag."""
    assert cli("chat", "--no-stream", "remember me").exit_code == 0
    path = history_path()
    paths = [path, path.parent] if request.param == "file and folder" else [path]
    before = path.read_bytes()
    for target in paths:
        os.chmod(target, 0o555 if target.is_dir() else 0o444)
    if os.geteuid() == 0 and not chattr("+i", *paths):
        pytest.skip("chattr +i is not available here, and root reads anything (and writes)")
    try:
        yield path
    finally:
        if os.geteuid() == 0:
            chattr("-i", *paths)
        os.chmod(path.parent, 0o700)
        os.chmod(path, 0o600)
    assert path.read_bytes() == before  # nothing was written to it
    assert sorted(p.name for p in path.parent.iterdir()) == ["history.db"]  # no -wal or -shm left


def test_reading_commands_work_on_a_read_only_history(read_only, cli):
    for args, expected in ([["history", "list", "-o", "json"], "remember me"],
                           [["history", "show", "latest"], "remember me"],
                           [["usage", "-o", "json"], '"requests": 1'],
                           [["batch", "runs", "-o", "json"], "[]"]):
        result = cli(*args)
        assert result.exit_code == 0, (args, result)
        assert expected in result.stdout, (args, result)


def test_a_read_only_history_is_opened_read_only(read_only):
    from mistral_cli.store.conversations import open_existing_store

    store = open_existing_store(Env(environ=dict(os.environ)))
    try:
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            store._conn.execute("DELETE FROM ledger")
        assert store.count() == 1
    finally:
        store.close()


def test_a_command_that_must_write_to_a_read_only_history_says_so_before_sending(read_only, api, cli):
    sent = len(api.requests)
    for args in (["chat", "hello"], ["history", "delete", "--all", "--yes"]):
        result = cli(*args)
        assert result.exit_code == 1, (args, result)
        assert "read-only" in result.stderr and str(read_only) in result.stderr, (args, result)
        assert "internal error" not in result.stderr
    assert len(api.requests) == sent


def test_a_read_only_history_another_process_is_writing_is_read_with_its_latest_writes(api, cli, tmp_path):
    assert cli("chat", "--no-stream", "remember me").exit_code == 0
    path = history_path()
    writer = sqlite3.connect(path, isolation_level=None)  # the file's owner, at work: its WAL stays
    writer.execute("PRAGMA wal_autocheckpoint = 0")
    writer.execute("UPDATE conversations SET title = 'written just now'")
    os.chmod(path, 0o444)
    if os.geteuid() == 0 and not chattr("+i", path):
        writer.close()
        pytest.skip("chattr +i is not available here, and root reads anything (and writes)")
    try:
        result = cli("history", "list", "-o", "json")
    finally:
        if os.geteuid() == 0:
            chattr("-i", path)
        os.chmod(path, 0o600)
        writer.close()
    assert result.exit_code == 0, result
    assert "written just now" in result.stdout


def test_a_read_only_history_from_an_older_mcli_is_read_as_it_is(tmp_path):
    path = tmp_path / "history.db"
    raw = sqlite3.connect(path)
    for statement in schema._statements(schema.MIGRATIONS[0]):
        raw.execute(statement)
    raw.execute("INSERT INTO conversations (id, kind, created_at, updated_at) VALUES ('old', 'chat', 't', 't')")
    raw.execute("PRAGMA user_version = 1")
    raw.commit()
    raw.close()
    os.chmod(path, 0o444)
    if os.geteuid() == 0 and not chattr("+i", path):
        pytest.skip("chattr +i is not available here, and root reads anything (and writes)")
    try:
        with ConversationStore(path, reading=True) as store:
            assert [conv.id for conv in store.list()] == ["old"]
    finally:
        if os.geteuid() == 0:
            chattr("-i", path)
        os.chmod(path, 0o600)
    with sqlite3.connect(path) as check:
        assert check.execute("PRAGMA user_version").fetchone()[0] == 1  # not migrated
