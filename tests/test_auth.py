"""`mcli auth`: login (verify before store), status, logout, token; key lookup order,
profiles, missing and hanging keyrings, and the key never leaking into output."""

from __future__ import annotations

import io
import json
import os
import socket
import stat
import tomllib
from pathlib import Path

import pytest

from mistral_cli.app import main
from mistral_cli.env import Env
from tests.fakeapi import error_401_detail, error_401_message, json_response
from tests.fakeapi.defaults import base_model
from tests.fakeapi.keyring_backend import FileKeyring

NEW_KEY = "sk-new-key-Zq9w8e7r6t5y"
KEYRING_KEY = "kr-stored-key-aaaa5678"
FILE_KEY = "file-stored-key-bbbb9012"
ENV_KEY = "env-given-key-cccc3456"


def credentials_path() -> Path:
    return Path(os.environ["MCLI_CONFIG_DIR"]) / "credentials.toml"


def keyring_entries() -> dict[str, str]:
    return {name.split("\0", 1)[1]: value for name, value in FileKeyring.read_all().items()
            if name.startswith("mcli\0")}


def put_keyring(profile: str, key: str) -> None:
    FileKeyring().set_password("mcli", profile, key)


def put_file(profile: str, key: str) -> None:
    from mistral_cli.config.credentials import file_set

    file_set(profile, key, dict(os.environ))


def file_entries() -> dict[str, str]:
    path = credentials_path()
    return tomllib.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


@pytest.fixture
def server(api, monkeypatch):
    """The FakeAPI with MISTRAL_API_KEY removed (login and lookup tests need it absent)."""
    monkeypatch.delenv("MISTRAL_API_KEY")
    return api


def only_key(good: str):
    """A /v1/models stub that accepts GOOD and answers 401 to any other key."""
    def respond(request):
        if request.headers.get("Authorization") == f"Bearer {good}":
            return json_response({"object": "list", "data": [base_model()]})
        return error_401_detail()
    return respond


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def assert_no_key(result, key: str = NEW_KEY) -> None:
    assert key not in result.stdout and key not in result.stderr, result


# -- login -----------------------------------------------------------------------------

def test_login_verifies_then_stores_in_the_keyring(cli, server):
    result = cli("auth", "login", "--with-key-stdin", input=NEW_KEY + "\n")
    assert result.exit_code == 0, result
    request = server.last("GET", "/v1/models")
    assert request.headers["Authorization"] == f"Bearer {NEW_KEY}"
    assert keyring_entries() == {"default": NEW_KEY}
    assert not credentials_path().exists()
    assert result.stdout == ""
    assert "OS keyring" in result.stderr and "****5y" not in result.stderr
    assert_no_key(result)
    assert cli("auth", "token").stdout == NEW_KEY + "\n"


@pytest.mark.parametrize("refusal", [error_401_detail, error_401_message])
def test_login_with_a_refused_key_stores_nothing(cli, server, refusal):
    server.add("GET", "/v1/models", refusal())
    result = cli("auth", "login", "--with-key-stdin", input=NEW_KEY)
    assert result.exit_code == 3, result
    assert "refused" in result.stderr and "nothing was stored" in result.stderr
    assert keyring_entries() == {}
    assert not credentials_path().exists()
    assert_no_key(result)


def test_login_refused_with_insecure_storage_writes_no_file(cli, server):
    server.add("GET", "/v1/models", error_401_detail())
    result = cli("auth", "login", "--with-key-stdin", "--insecure-storage", input=NEW_KEY)
    assert result.exit_code == 3
    assert not credentials_path().exists()


def test_login_keeps_the_old_key_when_the_new_one_is_refused(cli, server):
    put_keyring("default", KEYRING_KEY)
    server.add("GET", "/v1/models", only_key(KEYRING_KEY))
    assert cli("auth", "login", "--with-key-stdin", input=NEW_KEY).exit_code == 3
    assert keyring_entries() == {"default": KEYRING_KEY}


def test_login_unreachable_server_stores_nothing(cli, monkeypatch):
    monkeypatch.setenv("MISTRAL_SERVER_URL", closed_port_url())
    result = cli("auth", "login", "--with-key-stdin", "--max-retries", "0", input=NEW_KEY)
    assert result.exit_code == 1, result
    assert "cannot connect" in result.stderr and "--no-verify" in result.stderr
    assert keyring_entries() == {}
    assert_no_key(result)


def test_login_no_verify_sends_nothing(cli, monkeypatch):
    monkeypatch.setenv("MISTRAL_SERVER_URL", closed_port_url())
    result = cli("auth", "login", "--with-key-stdin", "--no-verify", input=NEW_KEY)
    assert result.exit_code == 0, result
    assert "not verified" in result.stderr
    assert keyring_entries() == {"default": NEW_KEY}


def test_login_insecure_storage_writes_a_0600_file(cli, server):
    result = cli("auth", "login", "--with-key-stdin", "--insecure-storage", input=NEW_KEY)
    assert result.exit_code == 0, result
    assert stat.S_IMODE(credentials_path().stat().st_mode) == 0o600
    assert file_entries() == {"default": NEW_KEY}
    assert keyring_entries() == {}
    assert "unencrypted" in result.stderr
    assert_no_key(result)


def test_insecure_file_stays_0600_when_a_second_profile_is_added(cli, server):
    server.add("GET", "/v1/models", only_key(NEW_KEY))
    cli("auth", "login", "--with-key-stdin", "--insecure-storage", input=NEW_KEY)
    os.chmod(credentials_path(), 0o644)
    put_file("other", FILE_KEY)
    assert stat.S_IMODE(credentials_path().stat().st_mode) == 0o600
    assert file_entries() == {"default": NEW_KEY, "other": FILE_KEY}


def test_insecure_login_removes_an_older_keyring_key_that_would_shadow_it(cli, server):
    put_keyring("default", KEYRING_KEY)
    result = cli("auth", "login", "--with-key-stdin", "--insecure-storage", input=NEW_KEY)
    assert result.exit_code == 0
    assert keyring_entries() == {}
    assert cli("auth", "token").stdout == NEW_KEY + "\n"


def test_keyring_login_removes_an_older_plain_file_key(cli, server):
    put_file("default", FILE_KEY)
    put_file("other", "other-key-0000")
    result = cli("auth", "login", "--with-key-stdin", input=NEW_KEY)
    assert result.exit_code == 0
    assert file_entries() == {"other": "other-key-0000"}
    assert "removed the older key" in result.stderr


def test_login_without_a_keyring_backend_points_to_the_alternatives(cli, server, keyring_backend):
    keyring_backend("NoKeyring")
    result = cli("auth", "login", "--with-key-stdin", input=NEW_KEY)
    assert result.exit_code == 3, result
    assert "no usable OS keyring backend" in result.stderr
    assert "MISTRAL_API_KEY" in result.stderr and "--insecure-storage" in result.stderr
    assert not credentials_path().exists()
    assert_no_key(result)


def test_login_with_insecure_storage_works_without_a_keyring(cli, server, keyring_backend):
    keyring_backend("NoKeyring")
    assert cli("auth", "login", "--with-key-stdin", "--insecure-storage", input=NEW_KEY).exit_code == 0
    assert cli("auth", "token").stdout == NEW_KEY + "\n"


def test_login_with_a_locked_keyring(cli, server, keyring_backend):
    keyring_backend("LockedKeyring")
    result = cli("auth", "login", "--with-key-stdin", input=NEW_KEY)
    assert result.exit_code == 3
    assert "locked" in result.stderr and "--insecure-storage" in result.stderr


def test_login_off_a_terminal_needs_with_key_stdin(cli):
    result = cli("auth", "login", input=NEW_KEY)
    assert result.exit_code == 2
    assert "--with-key-stdin" in result.stderr
    assert keyring_entries() == {}


def test_login_with_key_stdin_refuses_a_terminal(cli):
    result = cli("auth", "login", "--with-key-stdin", tty=True)
    assert result.exit_code == 2
    assert "stdin is a terminal" in result.stderr


@pytest.mark.parametrize("text, code", [("", 2), ("  \n", 2), ("two words\n", 3), ("a\nb\n", 3),
                                        ("caf\u00e9-key\n", 3)])
def test_login_refuses_empty_or_malformed_input(cli, text, code):
    result = cli("auth", "login", "--with-key-stdin", "--no-verify", input=text)
    assert result.exit_code == code
    assert keyring_entries() == {}


def run_on_terminal(*args: str, typed: str) -> tuple[int, str, str]:
    """Run main() with stdin flagged as a terminal that holds TYPED."""
    stdout, stderr = io.StringIO(), io.StringIO()
    env = Env(io.StringIO(typed), stdout, stderr, stdin_isatty=True, stderr_isatty=True,
              environ=dict(os.environ))
    code = main(list(args), env)
    return code, stdout.getvalue(), stderr.getvalue()


def test_login_prompts_on_a_terminal(server):
    code, out, err = run_on_terminal("auth", "login", typed=NEW_KEY + "\n")
    assert code == 0, err
    assert "API key" in err
    assert NEW_KEY not in out + err
    assert keyring_entries() == {"default": NEW_KEY}


def test_login_for_a_named_profile_registers_it(cli, server):
    assert cli("auth", "login", "--with-key-stdin", "--profile", "work", input=NEW_KEY).exit_code == 0
    assert keyring_entries() == {"work": NEW_KEY}
    assert cli("config", "use", "work").exit_code == 0
    assert cli("auth", "token").stdout == NEW_KEY + "\n"


def test_login_notes_that_MISTRAL_API_KEY_wins(cli, api):
    result = cli("auth", "login", "--with-key-stdin", input=NEW_KEY)
    assert result.exit_code == 0
    assert "MISTRAL_API_KEY is set" in result.stderr


# -- lookup order and profiles -----------------------------------------------------------

def test_lookup_order_env_then_keyring_then_file(cli, monkeypatch):
    put_file("default", FILE_KEY)
    assert cli("auth", "token").stdout == FILE_KEY + "\n"
    put_keyring("default", KEYRING_KEY)
    assert cli("auth", "token").stdout == KEYRING_KEY + "\n"
    monkeypatch.setenv("MISTRAL_API_KEY", ENV_KEY)
    assert cli("auth", "token").stdout == ENV_KEY + "\n"


@pytest.mark.parametrize("setup, kind", [
    (lambda mp: mp.setenv("MISTRAL_API_KEY", ENV_KEY), "environment variable MISTRAL_API_KEY"),
    (lambda mp: put_keyring("default", KEYRING_KEY), "OS keyring"),
    (lambda mp: put_file("default", FILE_KEY), "credentials.toml"),
])
def test_status_names_the_source(cli, monkeypatch, setup, kind):
    setup(monkeypatch)
    report = json.loads(cli("auth", "status", "--no-verify", "-o", "json").stdout)
    assert kind in report["source"]


def test_file_key_is_used_when_there_is_no_keyring(cli, keyring_backend):
    put_file("default", FILE_KEY)
    keyring_backend("NoKeyring")
    assert cli("auth", "token").stdout == FILE_KEY + "\n"


def test_profiles_keep_their_own_keys(cli):
    put_keyring("a", "key-of-profile-a-1111")
    put_file("b", "key-of-profile-b-2222")
    assert cli("auth", "token", "--profile", "a").stdout == "key-of-profile-a-1111\n"
    assert cli("--profile", "b", "auth", "token").stdout == "key-of-profile-b-2222\n"
    result = cli("auth", "token")
    assert result.exit_code == 3 and result.stdout == ""
    assert "no API key for profile 'default'" in result.stderr
    assert cli("auth", "logout", "--profile", "a").exit_code == 0
    assert cli("auth", "token", "--profile", "a").exit_code == 3
    assert cli("auth", "token", "--profile", "b").stdout == "key-of-profile-b-2222\n"


def test_MCLI_PROFILE_and_config_use_select_the_key(cli, monkeypatch):
    put_keyring("a", "key-of-profile-a-1111")
    put_keyring("b", "key-of-profile-b-2222")
    cli("config", "use", "a", "--create")
    assert cli("auth", "token").stdout == "key-of-profile-a-1111\n"
    monkeypatch.setenv("MCLI_PROFILE", "b")
    assert cli("auth", "token").stdout == "key-of-profile-b-2222\n"


# -- status ----------------------------------------------------------------------------

def test_status_checks_the_key(cli, server):
    put_keyring("default", KEYRING_KEY)
    server.add("GET", "/v1/models", only_key(KEYRING_KEY))
    result = cli("auth", "status", "-o", "json")
    assert result.exit_code == 0, result
    report = json.loads(result.stdout)
    assert report == {"profile": "default", "server_url": server.url, "key": "****5678",
                      "source": "OS keyring (service 'mcli', profile 'default')", "verified": True,
                      "models": 1, "error": None, "keyring": None}
    assert_no_key(result, KEYRING_KEY)


def test_status_with_a_refused_key_exits_3(cli, server):
    put_keyring("default", KEYRING_KEY)
    server.add("GET", "/v1/models", error_401_detail())
    result = cli("auth", "status", "-o", "json")
    assert result.exit_code == 3
    report = json.loads(result.stdout)
    assert report["verified"] is False and "Unauthorized" in report["error"]
    assert_no_key(result, KEYRING_KEY)


def test_status_table_off_a_terminal(cli, server):
    put_file("default", FILE_KEY)
    lines = cli("auth", "status").stdout.splitlines()
    assert "key\t****9012" in lines
    assert "verified\ttrue" in lines
    assert f"server\t{server.url}" in lines


def test_status_on_a_terminal_shows_a_panel(cli, server):
    put_keyring("default", KEYRING_KEY)
    result = cli("auth", "status", tty=True)
    assert result.exit_code == 0
    assert "****5678" in result.stdout
    assert_no_key(result, KEYRING_KEY)


def test_status_without_a_key(cli, keyring_backend):
    keyring_backend("NoKeyring")
    result = cli("auth", "status", "-o", "json")
    assert result.exit_code == 3
    report = json.loads(result.stdout)
    assert report["key"] is None and report["keyring"] == "no usable OS keyring backend"
    assert "mcli auth login" in result.stderr and "MISTRAL_API_KEY" in result.stderr
    assert "--insecure-storage" in result.stderr


def test_status_verbose_never_shows_the_key(cli, server):
    put_keyring("default", KEYRING_KEY)
    result = cli("-v", "auth", "status", "--debug")
    assert result.exit_code == 0
    assert "> GET" in result.stderr
    assert_no_key(result, KEYRING_KEY)


def test_login_verbose_and_debug_never_show_the_key(cli, server):
    server.add("GET", "/v1/models", error_401_detail())
    result = cli("auth", "login", "--with-key-stdin", "-v", "--debug", input=NEW_KEY)
    assert result.exit_code == 3
    assert "> GET" in result.stderr
    assert_no_key(result)


# -- logout and token --------------------------------------------------------------------

def test_logout_removes_keyring_and_file_entries(cli):
    put_keyring("default", KEYRING_KEY)
    put_file("default", FILE_KEY)
    result = cli("auth", "logout")
    assert result.exit_code == 0
    assert "from the OS keyring" in result.stderr and "credentials.toml" in result.stderr
    assert keyring_entries() == {}
    assert not credentials_path().exists()
    assert_no_key(result, KEYRING_KEY)


def test_logout_with_nothing_stored(cli):
    result = cli("auth", "logout")
    assert result.exit_code == 0
    assert "no stored key for profile 'default'" in result.stderr


def test_logout_warns_that_MISTRAL_API_KEY_still_applies(cli, monkeypatch):
    put_keyring("default", KEYRING_KEY)
    monkeypatch.setenv("MISTRAL_API_KEY", ENV_KEY)
    result = cli("auth", "logout")
    assert "MISTRAL_API_KEY is set" in result.stderr
    assert keyring_entries() == {}


def test_logout_without_a_keyring_still_removes_the_file(cli, keyring_backend):
    put_file("default", FILE_KEY)
    keyring_backend("NoKeyring")
    result = cli("auth", "logout")
    assert result.exit_code == 0
    assert "no usable OS keyring backend" in result.stderr
    assert not credentials_path().exists()


def test_token_prints_the_key_alone(cli, monkeypatch):
    monkeypatch.setenv("MISTRAL_API_KEY", ENV_KEY)
    result = cli("auth", "token")
    assert (result.exit_code, result.stdout, result.stderr) == (0, ENV_KEY + "\n", "")


def test_broken_credentials_file_does_not_show_its_content(cli):
    credentials_path().write_text(f'default = "{FILE_KEY}"\nbroken = \n', encoding="utf-8")
    result = cli("auth", "token")
    assert result.exit_code == 2
    assert "credentials file" in result.stderr and "does not parse" in result.stderr
    assert_no_key(result, FILE_KEY)


# -- a keyring that hangs ----------------------------------------------------------------

def test_hanging_keyring_is_cut_off_in_process(cli, keyring_backend, monkeypatch):
    from mistral_cli.config import credentials

    monkeypatch.setattr(credentials, "KEYRING_TIMEOUT", 0.2)
    keyring_backend("HangingKeyring", hang_seconds=2)
    put_file("default", FILE_KEY)
    result = cli("auth", "status", "--no-verify", "-o", "json")
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["source"].endswith("credentials.toml")
    assert "did not answer within 0.2 s" in report["keyring"]


def test_hanging_keyring_process_exits_promptly(run_mcli, keyring_backend):
    # The fake backend sleeps 120 s; the 60 s subprocess timeout fails the test if the
    # process waits for it. mcli gives up after 3 s and exits.
    keyring_backend("HangingKeyring", hang_seconds=120)
    result = run_mcli("auth", "token", timeout=60)
    assert result.exit_code == 3, result
    assert "did not answer within 3 s" in result.stderr
    assert "MISTRAL_API_KEY" in result.stderr and "--insecure-storage" in result.stderr
    assert "Traceback" not in result.stderr


def test_hanging_keyring_login_stores_nothing_and_exits(run_mcli, keyring_backend):
    keyring_backend("HangingKeyring", hang_seconds=120)
    result = run_mcli("auth", "login", "--with-key-stdin", "--no-verify", input=NEW_KEY, timeout=60)
    assert result.exit_code == 3, result
    assert "did not answer" in result.stderr and "nothing was stored" in result.stderr
    assert not credentials_path().exists()
    assert_no_key(result)


# -- a real terminal -----------------------------------------------------------------------

def test_login_prompt_on_a_real_terminal_does_not_echo(tmp_path):
    """stdin is a pseudo-terminal: the typed key must not be echoed, and echo is restored."""
    import pty
    import select
    import subprocess
    import sys
    import termios

    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "mistral_cli", "auth", "login", "--no-verify"],
                            stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=dict(os.environ), cwd=tmp_path)
    try:
        err = b""
        while b"API key" not in err:  # the prompt is written once echo is off
            ready, _, _ = select.select([proc.stderr], [], [], 30)
            assert ready, f"no prompt; stderr so far: {err!r}"
            chunk = os.read(proc.stderr.fileno(), 4096)
            assert chunk, f"mcli exited before prompting: {err!r}"
            err += chunk
        os.write(master, NEW_KEY.encode() + b"\n")
        out, rest = proc.communicate(timeout=30)
        echoed = b""
        while select.select([master], [], [], 0.2)[0]:
            try:
                data = os.read(master, 4096)
            except OSError:
                break
            if not data:
                break
            echoed += data
        assert proc.returncode == 0, (err + rest).decode()
        assert NEW_KEY.encode() not in echoed + out + err + rest
        assert termios.tcgetattr(slave)[3] & termios.ECHO, "echo was not restored"
        assert keyring_entries() == {"default": NEW_KEY}
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
        os.close(slave)


def test_a_refused_key_from_the_environment_is_blamed_on_the_environment(api, cli):
    api.add("GET", "/v1/models", error_401_detail())
    result = cli("models", "list")
    assert result.exit_code == 3, result
    assert "MISTRAL_API_KEY" in result.stderr and "`mcli auth login` cannot override it" in result.stderr


def test_a_refused_stored_key_keeps_the_login_hint(cli, server):
    put_keyring("default", "k" * 32)
    server.add("GET", "/v1/models", error_401_detail())
    result = cli("models", "list")
    assert result.exit_code == 3, result
    assert "store a new one with `mcli auth login`" in result.stderr
    assert "MISTRAL_API_KEY" not in result.stderr


def test_a_short_key_is_masked_whole_as_the_readme_says():
    """`****last4` only for a key longer than 8 characters; a shorter one shows none of it."""
    from mistral_cli.config.credentials import mask

    assert mask("sk-123456789") == "****6789"
    assert mask("12345678") == "****" and mask("abc") == "****"
