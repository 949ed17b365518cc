"""The root app: global options, exit codes and error messages, help, version, lazy
imports, verbose traces without the key, closed pipes and Ctrl-C.

Errors are driven through a real command (`mcli models list`) against the fake server's
error shapes; process-level behaviour (pipes, signals, imports) runs in subprocesses.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from mistral_cli import __version__
from mistral_cli.app import parse_global_options
from mistral_cli.errors import UsageError
from mistral_cli.http import client as client_mod
from tests.conftest import TEST_API_KEY
from tests.fakeapi import (
    error_400,
    error_401_detail,
    error_401_message,
    error_422,
    error_empty,
    error_proxy_text,
    json_response,
)
from tests.fakeapi.defaults import base_model
from tests.process_helpers import read_exactly, start_mcli

ANSI = "\x1b["


@pytest.fixture
def no_backoff(monkeypatch):
    """Retries without waiting."""
    monkeypatch.setattr(client_mod, "BACKOFF_BASE", 0)


def assert_clean(result) -> None:
    """No traceback and no internal-error message reached the user."""
    assert "Traceback" not in result.stderr
    assert "internal error" not in result.stderr


# -- errors -> exit codes and messages ---------------------------------------------------


def test_401_detail_is_exit_3_with_login_hint(api, cli):
    api.add("GET", "/v1/models", error_401_detail())
    result = cli("models", "list")
    assert result.exit_code == 3
    assert "Unauthorized" in result.stderr
    assert "mcli auth login" in result.stderr
    assert result.stdout == ""
    assert_clean(result)


def test_401_message_shows_request_id(api, cli):
    api.add("GET", "/v1/models", error_401_message(request_id="req-abc-42"))
    result = cli("models", "list")
    assert result.exit_code == 3
    assert "req-abc-42" in result.stderr
    assert "mcli auth login" in result.stderr
    assert_clean(result)


def test_403_is_exit_3(api, cli):
    api.add("GET", "/v1/models", json_response({"detail": "Forbidden"}, 403))
    result = cli("models", "list")
    assert result.exit_code == 3
    assert "Forbidden" in result.stderr
    assert_clean(result)


def test_404_is_exit_4(api, cli):
    api.add("GET", "/v1/models/{model_id}",
            json_response({"detail": "Model not found", "request_id": "rq-404"}, 404))
    result = cli("models", "get", "no-such-model")
    assert result.exit_code == 4
    assert "Model not found" in result.stderr
    assert "rq-404" in result.stderr
    assert_clean(result)


def test_422_is_exit_2_with_field_lines(api, cli):
    api.add("GET", "/v1/models", error_422(loc=("body", "temperature"),
                                           msg="Input should be less than or equal to 1.5"))
    result = cli("models", "list")
    assert result.exit_code == 2
    assert "temperature: Input should be less than or equal to 1.5" in result.stderr
    assert_clean(result)


def test_400_object_error_is_exit_1_with_message(api, cli):
    api.add("GET", "/v1/models", error_400("Invalid model: foo"))
    result = cli("models", "list")
    assert result.exit_code == 1
    assert "Invalid model: foo" in result.stderr
    assert_clean(result)


def test_proxy_text_502_after_retries_is_exit_1_with_text(api, cli, no_backoff):
    api.add("GET", "/v1/models", error_proxy_text(502, "upstream connect error or disconnect"))
    result = cli("models", "list", "--max-retries", "2")
    assert result.exit_code == 1
    assert "upstream connect error or disconnect" in result.stderr
    assert len(api.requests) == 3
    assert_clean(result)


def test_empty_500_is_exit_1(api, cli, no_backoff):
    api.add("GET", "/v1/models", error_empty(500))
    result = cli("models", "list")
    assert result.exit_code == 1
    assert "500" in result.stderr
    assert_clean(result)


def test_missing_key_is_exit_3_naming_auth_login(api, cli, monkeypatch):
    monkeypatch.delenv("MISTRAL_API_KEY")
    result = cli("models", "list")
    assert result.exit_code == 3
    assert "mcli auth login" in result.stderr
    assert api.requests == []
    assert_clean(result)


def test_unreachable_server_is_exit_1(cli, monkeypatch, no_backoff):
    monkeypatch.setenv("MISTRAL_API_KEY", TEST_API_KEY)
    monkeypatch.setenv("MISTRAL_SERVER_URL", "http://127.0.0.1:9")
    result = cli("models", "list", "--max-retries", "1")
    assert result.exit_code == 1
    assert "cannot connect" in result.stderr
    assert_clean(result)


@pytest.mark.parametrize("url", ["api.mistral.ai", "http://bad host", "ftp://x"])
def test_bad_server_url_is_exit_2(api, cli, url):
    result = cli("models", "list", "--server-url", url)
    assert result.exit_code == 2
    assert "--server-url" in result.stderr
    assert api.requests == []
    assert_clean(result)


def test_debug_adds_a_traceback(api, cli):
    api.add("GET", "/v1/models", error_400("Invalid model: foo"))
    result = cli("--debug", "models", "list")
    assert result.exit_code == 1
    assert "Traceback" in result.stderr
    assert "Invalid model: foo" in result.stderr


def test_unknown_command_is_exit_2(cli):
    result = cli("no-such-command")
    assert result.exit_code == 2
    assert_clean(result)


def test_unknown_option_is_exit_2(cli):
    result = cli("models", "list", "--no-such-option")
    assert result.exit_code == 2
    assert_clean(result)


# -- verbose and the key -------------------------------------------------------------------


def test_verbose_prints_method_url_status_time(api, cli):
    result = cli("-v", "models", "list", "-o", "json")
    assert result.exit_code == 0
    assert f"GET {api.url}/v1/models" in result.stderr
    assert "200" in result.stderr
    assert " ms" in result.stderr
    assert json.loads(result.stdout)["object"] == "list"
    assert f"GET {api.url}" not in result.stdout


def test_verbose_reports_retries(api, cli, no_backoff):
    api.add("GET", "/v1/models", error_empty(503), times=1)
    result = cli("models", "list", "-v")
    assert result.exit_code == 0
    assert "503" in result.stderr
    assert "retry 1/3" in result.stderr
    assert "after 1 retries" in result.stderr


def test_without_verbose_stderr_is_quiet(api, cli):
    result = cli("models", "list")
    assert result.exit_code == 0
    assert result.stderr == ""


@pytest.mark.parametrize("flags", [["-v"], ["--debug"], ["-v", "--debug"]])
@pytest.mark.parametrize("stub", ["ok", "401", "400"])
def test_key_never_printed(api, cli, flags, stub, no_backoff):
    if stub == "401":
        api.add("GET", "/v1/models", error_401_message())
    elif stub == "400":
        api.add("GET", "/v1/models", error_400())
    result = cli(*flags, "models", "list", "-o", "json")
    assert result.stderr  # the trace or the error is there
    assert TEST_API_KEY not in result.stdout + result.stderr


def test_key_never_printed_in_subprocess_debug(api, run_mcli):
    api.add("GET", "/v1/models", error_401_detail())
    result = run_mcli("--debug", "-v", "models", "list")
    assert result.exit_code == 3
    assert "Traceback" in result.stderr
    assert TEST_API_KEY not in result.stdout + result.stderr


# -- global options ---------------------------------------------------------------------------


@pytest.mark.parametrize("args", [
    ["-v", "models", "list"],
    ["models", "-v", "list"],
    ["models", "list", "-v"],
    ["models", "list", "--verbose"],
])
def test_verbose_anywhere(api, cli, args):
    result = cli(*args)
    assert result.exit_code == 0, result
    assert "GET " in result.stderr


def test_server_url_equals_form(api, cli, monkeypatch):
    monkeypatch.setenv("MISTRAL_SERVER_URL", "http://127.0.0.1:9")
    result = cli("models", "list", f"--server-url={api.url}", "--max-retries=0")
    assert result.exit_code == 0, result
    assert len(api.requests) == 1


def test_timeout_option_reaches_the_client(api, cli, monkeypatch):
    seen = {}
    original = client_mod.HTTPClient.__init__

    def spy(self, *args, **kw):
        seen.update(kw)
        original(self, *args, **kw)

    monkeypatch.setattr(client_mod.HTTPClient, "__init__", spy)
    assert cli("models", "list", "--timeout", "7.5", "--max-retries", "1").exit_code == 0
    assert seen["timeout"] == 7.5
    assert seen["max_retries"] == 1


def test_global_options_parser_keeps_arguments_after_double_dash():
    options, rest = parse_global_options(["models", "get", "--", "-v", "--debug"])
    assert rest == ["models", "get", "--", "-v", "--debug"]
    assert not options.verbose and not options.debug


def test_global_options_parser_values():
    options, rest = parse_global_options(
        ["--profile", "work", "models", "--color=never", "list", "--timeout", "3",
         "--max-retries=0", "--server-url", "http://x", "--debug"])
    assert rest == ["models", "list"]
    assert (options.profile, options.color, options.timeout, options.max_retries,
            options.server_url, options.debug) == ("work", "never", 3.0, 0, "http://x", True)


@pytest.mark.parametrize("args", [
    ["--color", "purple"], ["--color=sometimes"], ["--timeout", "abc"], ["--timeout", "0"],
    ["--timeout=-1"], ["--timeout", "nan"], ["--timeout", "inf"], ["--max-retries", "-1"],
    ["--max-retries", "two"], ["--max-retries", "1.5"], ["--server-url"],
    ["--profile"],
])
def test_bad_global_option_values_are_exit_2(api, cli, args):
    result = cli("models", "list", *args)
    assert result.exit_code == 2
    assert args[0].split("=")[0] in result.stderr
    assert api.requests == []
    assert_clean(result)


def test_bad_global_option_parser_raises_usage_error():
    with pytest.raises(UsageError):
        parse_global_options(["--color", "rainbow"])


def test_color_never_on_terminal(api, cli, monkeypatch):
    monkeypatch.setenv("TERM", "xterm-256color")
    coloured = cli("models", "list", tty=True)
    plain = cli("models", "list", "--color", "never", tty=True)
    assert coloured.exit_code == plain.exit_code == 0
    assert ANSI in coloured.stdout
    assert ANSI not in plain.stdout
    assert "mistral-small-latest" in plain.stdout


def test_color_always_off_terminal_styles_errors(api, cli):
    api.add("GET", "/v1/models", error_400())
    assert ANSI in cli("models", "list", "--color", "always").stderr
    assert ANSI not in cli("models", "list").stderr


# -- version and help -------------------------------------------------------------------------


def test_version(cli):
    result = cli("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"mcli {__version__}"


def test_help_needs_no_key_and_no_network(run_mcli, monkeypatch):
    monkeypatch.setenv("MISTRAL_SERVER_URL", "http://127.0.0.1:9")
    root = run_mcli("--help")
    assert root.exit_code == 0, root
    for name in ("models", "chat", "files", "auth", "config"):
        assert name in root.stdout
    assert "Examples" in root.stdout
    assert "mcli models list" in root.stdout
    group = run_mcli("models", "--help")
    assert group.exit_code == 0, group
    for name in ("list", "get", "delete", "update", "archive", "unarchive"):
        assert name in group.stdout
    assert "Examples" in group.stdout
    assert root.stderr == group.stderr == ""


@pytest.mark.parametrize("command", ["list", "get", "delete", "update", "archive", "unarchive"])
def test_models_command_help_shows_examples(cli, command):
    result = cli("models", command, "--help")
    assert result.exit_code == 0
    assert "Examples" in result.stdout
    assert f"mcli models {command}" in result.stdout


@pytest.mark.parametrize("command", [["models", "list"], ["files", "upload"], ["chat"], ["config", "set"]])
def test_command_help_says_where_the_global_options_are(cli, command, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    result = cli(*command, "--help")
    assert result.exit_code == 0
    assert "Global options, before or after the command" in result.stdout
    assert "--max-retries" in result.stdout


def test_help_after_global_option(cli):
    result = cli("-v", "models", "--help")
    assert result.exit_code == 0
    assert "unarchive" in result.stdout


# -- lazy imports -----------------------------------------------------------------------------


def test_importing_app_stays_light():
    heavy = ["httpx", "keyring", "rich.markdown", "sqlite3", "mistral_cli.bodies"]
    code = ("import json, sys, mistral_cli.app; "
            f"print(json.dumps([m for m in {heavy!r} if m in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env=dict(os.environ)).stdout
    assert json.loads(out) == []


def test_root_help_stays_light():
    # rich.markdown is left out: typer.rich_utils imports it for any help screen.
    code = ("import json, sys, io, contextlib\n"
            "from mistral_cli.app import main\n"
            "from mistral_cli.env import Env\n"
            "env = Env(io.StringIO(), io.StringIO(), io.StringIO(), environ={})\n"
            "code = main(['--help'], env)\n"
            "heavy = [m for m in ('httpx', 'keyring', 'sqlite3', 'mistral_cli.bodies')"
            " if m in sys.modules]\n"
            "print(json.dumps([code, heavy]))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env=dict(os.environ)).stdout
    assert json.loads(out) == [0, []]


# -- pipes closed by the reader -------------------------------------------------------------


def big_model_list(count: int = 3000) -> dict:
    return {"object": "list",
            "data": [base_model(f"model-{i:06d}-{'x' * 60}") for i in range(count)]}


@pytest.mark.parametrize("fmt", ["json", "jsonl", "table", "text"])
def test_closed_pipe_exits_0_quietly(api, fmt):
    api.add("GET", "/v1/models", json_response(big_model_list()))
    proc = start_mcli("models", "list", "-o", fmt)
    try:
        head = read_exactly(proc.stdout, 10)
        proc.stdout.close()
        _out, err = proc.communicate(timeout=30)
        stderr, code = err.decode("utf-8", "replace"), proc.returncode
    finally:
        proc.kill()
    assert len(head) == 10
    assert stderr == ""
    assert code == 0


def test_closed_pipe_in_shell_pipeline(api):
    api.add("GET", "/v1/models", json_response(big_model_list()))
    script = (f'"{sys.executable}" -m mistral_cli models list -o jsonl | head -c 10 >/dev/null;'
              ' echo "status=${PIPESTATUS[0]}" >&2')
    proc = subprocess.run(["bash", "-c", script], capture_output=True, text=True,
                          env=dict(os.environ), timeout=60)
    assert proc.stderr.strip() == "status=0"


def test_closed_pipe_carrying_stderr_too(api):
    api.add("GET", "/v1/models", json_response(big_model_list()))
    script = (f'"{sys.executable}" -m mistral_cli -v models list -o jsonl 2>&1 | head -n 1;'
              ' echo "status=${PIPESTATUS[0]}"')
    proc = subprocess.run(["bash", "-c", script], capture_output=True, text=True,
                          env=dict(os.environ), timeout=60)
    first, status = proc.stdout.splitlines()
    assert first.startswith("> GET ")
    assert status == "status=0"
    assert proc.stderr == ""


def test_failure_with_closed_stderr_keeps_its_exit_code(api, no_backoff):
    api.add("GET", "/v1/models", error_400())
    script = (f'"{sys.executable}" -m mistral_cli models list 2>&1 | true;'
              ' echo "status=${PIPESTATUS[0]}"')
    proc = subprocess.run(["bash", "-c", script], capture_output=True, text=True,
                          env=dict(os.environ), timeout=60)
    assert proc.stdout.strip() == "status=1"
    assert proc.stderr == ""


# -- Ctrl-C -----------------------------------------------------------------------------------


def test_ctrl_c_while_waiting_exits_130_without_traceback(api):
    release = threading.Event()

    def slow(_request):
        release.wait(20)
        return json_response({"object": "list", "data": []})

    api.add("GET", "/v1/models", slow)
    proc = start_mcli("models", "list")
    try:
        deadline = time.monotonic() + 20
        while not api.requests and time.monotonic() < deadline:
            time.sleep(0.02)
        assert api.requests, "the request never reached the server"
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=20)
    finally:
        release.set()
        proc.kill()
    assert proc.returncode == 130
    assert b"Traceback" not in stderr
    assert stdout == b""
