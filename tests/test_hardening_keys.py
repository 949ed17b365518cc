"""The key never reaches the user's screen: keys are stripped and checked wherever they come
from, and every error text passes one redaction step."""

from __future__ import annotations

import os
from pathlib import Path

import keyring
import pytest

from mistral_cli.errors import redact
from tests.conftest import TEST_API_KEY
from tests.fakeapi import error_401_detail, error_proxy_text

SECRET = "sk-Zq81Xv0Secret99"


def sent_key(api) -> str:
    return api.last().headers["Authorization"]


@pytest.mark.parametrize("raw", [TEST_API_KEY + "\r", f"  {TEST_API_KEY}\r\n", f"\t{TEST_API_KEY} "])
def test_a_key_with_surrounding_whitespace_from_the_environment_is_stripped(api, cli, monkeypatch, raw):
    monkeypatch.setenv("MISTRAL_API_KEY", raw)
    result = cli("models", "list")
    assert result.exit_code == 0, result
    assert sent_key(api) == f"Bearer {TEST_API_KEY}"


def test_a_key_from_the_keyring_is_stripped(api, cli, monkeypatch):
    monkeypatch.delenv("MISTRAL_API_KEY")
    keyring.set_password("mcli", "default", TEST_API_KEY + "\r\n")
    assert cli("models", "list").exit_code == 0
    assert sent_key(api) == f"Bearer {TEST_API_KEY}"


def test_a_key_from_the_insecure_file_is_stripped(api, cli, monkeypatch):
    monkeypatch.delenv("MISTRAL_API_KEY")
    path = Path(os.environ["MCLI_CONFIG_DIR"]) / "credentials.toml"
    path.write_text(f'default = "{TEST_API_KEY}\\r\\n"\n', encoding="utf-8")
    assert cli("models", "list").exit_code == 0
    assert sent_key(api) == f"Bearer {TEST_API_KEY}"


@pytest.mark.parametrize("bad", [f"{SECRET}\x00x", f"sk-\u00e9{SECRET}", f"{SECRET} {SECRET}",
                                 f"{SECRET}\x1b[2J"])
def test_a_key_with_a_control_or_non_ascii_character_is_refused_unseen(api, run_mcli, monkeypatch, bad):
    if "\x00" in bad:  # the environment cannot hold NUL: try it from the keyring
        monkeypatch.delenv("MISTRAL_API_KEY")
        keyring.set_password("mcli", "default", bad)
    else:
        monkeypatch.setenv("MISTRAL_API_KEY", bad)
    result = run_mcli("models", "list")
    assert result.exit_code == 3
    assert "Zq81" not in result.stderr and "Zq81" not in result.stdout
    assert api.requests == []


def test_login_strips_the_key_it_stores(api, cli):
    result = cli("auth", "login", "--with-key-stdin", input=f"  {TEST_API_KEY}\r\n")
    assert result.exit_code == 0, result
    assert keyring.get_password("mcli", "default") == TEST_API_KEY


def test_a_server_error_that_echoes_the_key_is_masked(api, cli, monkeypatch):
    monkeypatch.setenv("MISTRAL_API_KEY", SECRET)
    api.add("GET", "/v1/models", error_proxy_text(400, f"bad header Authorization: Bearer {SECRET}"))
    result = cli("models", "list", "--debug")
    assert result.exit_code == 1
    assert SECRET not in result.stderr and "Zq81" not in result.stderr
    assert "****" in result.stderr


def test_a_401_does_not_show_the_key(api, cli, monkeypatch):
    monkeypatch.setenv("MISTRAL_API_KEY", SECRET)
    api.add("GET", "/v1/models", error_401_detail())
    result = cli("models", "list")
    assert result.exit_code == 3
    assert SECRET not in result.stderr


def test_terminal_control_sequences_from_the_server_are_escaped(api, cli):
    api.add("GET", "/v1/models", error_proxy_text(400, "evil\x1b]0;owned\x07\x1b[2J text"))
    result = cli("models", "list")
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr
    assert "\\x1b" in result.stderr


@pytest.mark.parametrize("text, secrets, expected", [
    ("Illegal header value b'Bearer sk-abc\\r'", (), "Illegal header value b'Bearer ****'"),
    ("key sk-abc123 failed", ("sk-abc123",), "key **** failed"),
    ("line\r\nnext", (), "line\\r\nnext"),
    ("short", ("ab",), "short"),
])
def test_redact(text, secrets, expected):
    assert redact(text, secrets) == expected


def test_warnings_pass_the_same_redaction_step():
    import io

    from mistral_cli.env import Env

    stderr = io.StringIO()
    env = Env(stderr=stderr, environ={"MISTRAL_API_KEY": SECRET + "\r\n"})
    env.info(f"warning: OS keyring: backend said {SECRET}\x1b[2J")
    assert SECRET not in stderr.getvalue() and "\x1b" not in stderr.getvalue()
