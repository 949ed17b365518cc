"""Fault matrix, local state: the history database is checked and a new --cid claimed before
anything is sent; private files are 0700/0600 whatever the umask; no HOME or a read-only config
folder is a clear error; a prompt while tool calls are pending is refused before sending."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.fakeapi.responses import sse_response
from tests.generation_helpers import history_path, saved, tool_call, tool_call_chunks

CHAT = "/v1/chat/completions"


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


# -- the history database and --cid ---------------------------------------------------------------


def test_parallel_runs_with_one_new_cid_save_every_answer(api, run_mcli):
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda _i: run_mcli("chat", "--cid", "new-id", "hi"), range(6)))
    assert [r.exit_code for r in results] == [0] * 6, results
    conversation, records = saved("chat")
    assert conversation.id == "new-id"
    assert len(records) == 12  # six exchanges of a prompt and an answer
    assert len(api.requests_to("POST", CHAT)) == 6


def test_a_corrupt_history_database_is_found_before_sending(api, cli):
    path = history_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"this is not a database" * 100)
    result = cli("chat", "hi")
    assert result.exit_code == 1
    assert "history database" in result.stderr and "internal error" not in result.stderr
    assert api.requests == []


def test_a_locked_history_database_is_found_before_sending(api, cli, monkeypatch):
    from mistral_cli.store import schema

    assert cli("chat", "--no-stream", "first").exit_code == 0
    monkeypatch.setattr(schema, "BUSY_TIMEOUT_MS", 50)
    holder = sqlite3.connect(history_path(), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        result = cli("chat", "hi")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert result.exit_code == 1
    assert "locked" in result.stderr
    assert len(api.requests) == 1  # only the first chat


def test_no_log_needs_no_database(api, cli):
    path = history_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"broken" * 100)
    assert cli("chat", "--no-log", "hi").exit_code == 0


# -- a prompt while a tool call is pending --------------------------------------------------------


def test_a_prompt_while_a_tool_call_is_pending_is_refused_before_sending(api, cli, tmp_path):
    call = tool_call("call_1", "get_weather", {"city": "Paris"})
    api.add("POST", CHAT, sse_response(tool_call_chunks(call)))
    tool = tmp_path / "weather.json"
    tool.write_text('{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}}')
    assert cli("chat", "--tool", tool, "weather?").exit_code == 0
    result = cli("chat", "-c", "never mind")
    assert result.exit_code == 2
    assert "call_1" in result.stderr and "--tool-result call_1=" in result.stderr
    assert len(api.requests_to("POST", CHAT)) == 1


# -- private files ----------------------------------------------------------------------------------


def test_private_state_is_0700_and_0600_whatever_the_umask(api, run_mcli, tmp_path, monkeypatch):
    config, data = tmp_path / "fresh" / "config", tmp_path / "fresh" / "data"
    monkeypatch.setenv("MCLI_CONFIG_DIR", str(config))
    monkeypatch.setenv("MCLI_DATA_DIR", str(data))
    old = os.umask(0)
    try:
        assert run_mcli("config", "set", "timeout", "30").exit_code == 0
        assert run_mcli("chat", "hi").exit_code == 0
        assert run_mcli("auth", "login", "--with-key-stdin", "--insecure-storage", "--no-verify",
                        input="sk-abcdef123456\n").exit_code == 0
    finally:
        os.umask(old)
    assert mode(config) == mode(data) == 0o700
    for path in (config / "config.toml", config / "credentials.toml", data / "history.db"):
        assert mode(path) == 0o600, path
    assert all(mode(path) == 0o600 for path in data.glob("history.db*"))


def test_repl_history_file_is_0600(tmp_path):
    from mistral_cli.config.paths import private_file

    old = os.umask(0)
    try:
        path = private_file(tmp_path / "new" / "repl_history")
    finally:
        os.umask(old)
    assert mode(path) == 0o600 and mode(path.parent) == 0o700


# -- no HOME, read-only config --------------------------------------------------------------------


def test_no_home_and_no_config_dirs_still_answers(api, tmp_path):
    environ = {k: v for k, v in os.environ.items()
               if k not in ("HOME", "MCLI_CONFIG_DIR", "MCLI_DATA_DIR") and not k.startswith("XDG_")}
    proc = subprocess.run([sys.executable, "-m", "mistral_cli", "chat", "--no-log", "hi"],
                          capture_output=True, env=environ, cwd=tmp_path, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.decode().startswith("Hello from the fake API")


def test_a_read_only_config_folder_is_a_one_line_error(cli, tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root reads anything")
    folder = tmp_path / "mcli-config"
    folder.chmod(0o500)
    try:
        result = cli("config", "set", "timeout", "30")
    finally:
        folder.chmod(0o700)
    assert result.exit_code == 1
    assert result.stderr.startswith("mcli: error: ") and "internal error" not in result.stderr


def test_a_config_folder_that_cannot_be_made_is_a_one_line_error(cli, tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    monkeypatch.setenv("MCLI_CONFIG_DIR", str(blocker / "mcli"))
    result = cli("config", "set", "timeout", "30")
    assert result.exit_code == 2  # a config folder mcli cannot use is a ConfigError
    assert result.stderr.startswith("mcli: error: ") and "internal error" not in result.stderr
    assert str(blocker) in result.stderr


def test_a_read_only_data_folder_is_found_before_sending(api, cli, tmp_path, monkeypatch):
    target = tmp_path / "ro-data"
    target.mkdir()
    monkeypatch.setenv("MCLI_DATA_DIR", str(target / "file-not-folder"))
    (target / "file-not-folder").write_text("x")
    result = cli("chat", "hi")
    assert result.exit_code == 1
    assert "internal error" not in result.stderr
    assert api.requests == []
