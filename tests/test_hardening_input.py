"""Fault matrix, input half: bad input is a one-line message with the right exit code, never
"internal error"; global options never eat a command's values; a mistyped profile and plain
HTTP to another host are refused."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys

import pytest

from mistral_cli.app import parse_global_options
from mistral_cli.config.settings import is_remote_http

CHAT = "/v1/chat/completions"


def assert_one_line(result, code: int) -> None:
    assert result.exit_code == code, result
    assert "internal error" not in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("mcli: error: ")


# -- bad input and failing output ---------------------------------------------------------------


def test_non_utf8_stdin_is_exit_2(api, run_mcli):
    result = run_mcli("chat", input=b"caf\xe9 au lait")
    assert_one_line(result, 2)
    assert "UTF-8" in result.stderr
    assert api.requests == []


def test_non_utf8_argument_is_exit_2(api, run_mcli):
    result = run_mcli("chat", os.fsdecode(b"caf\xe9"))
    assert_one_line(result, 2)
    assert "argument 2 is not UTF-8" in result.stderr
    assert api.requests == []


@pytest.mark.parametrize("args", [["--temperature", "nan"], ["--top-p", "inf"],
                                  ["--temperature", "-inf"]])
def test_nan_and_infinity_are_exit_2(api, cli, args):
    result = cli("chat", *args, "hi")
    assert_one_line(result, 2)
    assert args[0] in result.stderr
    assert api.requests == []


def test_nan_in_a_body_file_is_exit_2(api, cli, tmp_path):
    body = tmp_path / "body.json"
    body.write_text('{"temperature": NaN}', encoding="utf-8")
    result = cli("chat", "--body", body, "hi")
    assert_one_line(result, 2)
    assert api.requests == []


def test_a_number_too_large_for_json_in_api_fields_is_exit_2(api, cli):
    result = cli("api", "post", CHAT, "-f", "temperature=1e999")
    assert_one_line(result, 2)
    assert api.requests == []


@pytest.mark.parametrize("url", ["http://[::1", "http://host:port", "https://[nope]:1"])
def test_a_malformed_server_url_is_exit_2(api, cli, url):
    result = cli("--server-url", url, "models", "list")
    assert_one_line(result, 2)
    assert "--server-url" in result.stderr


def test_a_malformed_server_url_in_the_profile_is_exit_2(cli, tmp_path):
    (tmp_path / "mcli-config" / "config.toml").write_text(
        '[profiles.default]\nserver_url = "http://[::1"\n', encoding="utf-8")
    result = cli("models", "list")
    assert_one_line(result, 2)


def test_stdout_on_a_full_device_is_exit_1(api):
    with open("/dev/full", "w") as full:
        proc = subprocess.run([sys.executable, "-m", "mistral_cli", "models", "list"],
                              stdout=full, stderr=subprocess.PIPE, env=dict(os.environ), timeout=60)
    stderr = proc.stderr.decode()
    assert proc.returncode == 1, stderr
    assert stderr.startswith("mcli: error: cannot write the output") and "internal error" not in stderr
    assert "Exception ignored" not in stderr


def test_a_full_disk_during_a_download_is_exit_1_and_leaves_nothing(api, tmp_path):
    import resource
    import signal

    from tests.fakeapi.defaults import FILE_ID
    from tests.fakeapi.responses import bytes_response

    api.add("GET", f"/v1/files/{FILE_ID}/content", bytes_response(300_000, chunk=50_000))

    def small_disk() -> None:  # writes past 100 kB fail as on a full disk (EFBIG)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))

    folder = tmp_path / "downloads"
    folder.mkdir()
    proc = subprocess.run([sys.executable, "-m", "mistral_cli", "files", "download", FILE_ID,
                           "-o", str(folder / "out.bin")], capture_output=True,
                          env=dict(os.environ), timeout=60, preexec_fn=small_disk)
    stderr = proc.stderr.decode()
    assert proc.returncode == 1, stderr
    assert stderr.startswith("mcli: error: cannot save to") and "nothing was saved" in stderr
    assert os.listdir(folder) == []


def test_download_does_not_create_folders(api, cli, tmp_path):
    from tests.fakeapi.defaults import FILE_ID

    result = cli("files", "download", FILE_ID, "-o", tmp_path / "no" / "such" / "x")
    assert_one_line(result, 2)
    assert not (tmp_path / "no").exists()
    assert api.requests == []


@pytest.mark.parametrize("args", [["files", "upload", "{path}"], ["chat", "--attach", "{path}", "hi"],
                                  ["chat", "--messages", "{path}"], ["chat", "--body", "{path}", "hi"],
                                  ["api", "post", CHAT, "--input", "{path}"],
                                  ["chat", "--tool", "{path}", "hi"], ["chat", "--system-file", "{path}", "hi"],
                                  ["fim", "--prompt-file", "{path}"], ["api", "post", "/v1/files", "-F", "file=@{path}"]])
def test_an_unreadable_file_gives_the_same_one_line_error_for_every_option(api, cli, tmp_path, args,
                                                                         monkeypatch):
    path = tmp_path / "secret.jsonl"
    path.write_text("{}\n", encoding="utf-8")
    path.chmod(0)
    if os.geteuid() == 0:  # root reads anything: refuse this one file as the OS would
        import pathlib

        real_open = pathlib.Path.open

        def refusing_open(self, *a, **kw):
            if self == path:
                raise PermissionError(13, "Permission denied", str(self))
            return real_open(self, *a, **kw)

        monkeypatch.setattr(pathlib.Path, "open", refusing_open)
    result = cli(*[arg.format(path=path) for arg in args])
    assert_one_line(result, 2)
    assert f"cannot read {path}: Permission denied" in result.stderr


# -- a mistyped profile --------------------------------------------------------------------------


def write_profiles(tmp_path) -> None:
    (tmp_path / "mcli-config" / "config.toml").write_text(
        '[profiles.work]\ntimeout = 5\n', encoding="utf-8")


def test_an_unknown_profile_flag_is_exit_2_naming_the_profiles(api, cli, tmp_path):
    write_profiles(tmp_path)
    result = cli("--profile", "wrok", "models", "list")
    assert_one_line(result, 2)
    assert "'wrok'" in result.stderr and "work" in result.stderr
    assert api.requests == []


def test_an_unknown_mcli_profile_is_exit_2(api, cli, tmp_path, monkeypatch):
    write_profiles(tmp_path)
    monkeypatch.setenv("MCLI_PROFILE", "wrok")
    result = cli("chat", "hi")
    assert_one_line(result, 2)
    assert "MCLI_PROFILE" in result.stderr
    assert api.requests == []


@pytest.mark.parametrize("name", ["wrok", "my work", "-x", "a/b", "_x", "\u00e9t\u00e9", "x" * 70])
def test_the_missing_profile_hint_names_a_profile_that_config_set_accepts(api, cli, name):
    result = cli("--profile", name, "models", "list")
    assert_one_line(result, 2)
    command = result.stderr.split("create it with `", 1)[1].split("`", 1)[0]
    words = shlex.split(command.replace("KEY VALUE", "timeout 30"))
    assert words[:3] == ["mcli", "config", "set"]
    created = cli(*words[1:])
    assert created.exit_code == 0, created
    assert float(cli("--profile", words[-1], "config", "get", "timeout").stdout) == 30
    assert api.requests == []


def test_a_known_profile_and_the_default_are_accepted(api, cli, tmp_path):
    write_profiles(tmp_path)
    assert cli("--profile", "work", "models", "list").exit_code == 0
    assert cli("--profile", "default", "models", "list").exit_code == 0


def test_config_set_still_creates_a_profile(cli, tmp_path):
    assert cli("config", "set", "timeout", "9", "--profile", "fresh").exit_code == 0
    assert "[profiles.fresh]" in (tmp_path / "mcli-config" / "config.toml").read_text()


# -- global options never eat a command's values --------------------------------------------------


@pytest.mark.parametrize("args, field, value", [
    (["chat", "--stop", "-v", "hi"], "stop", ["-v"]),
    (["chat", "--stop", "--debug", "hi"], "stop", ["--debug"]),
    (["chat", "-m", "--color", "hi"], "model", "--color"),
    (["fim", "--suffix", "--debug", "X"], "suffix", "--debug"),
])
def test_a_global_option_name_given_as_a_value_stays_a_value(api, cli, args, field, value):
    result = cli(*args)
    assert result.exit_code == 0, result
    body = api.last().json
    assert body[field] == value
    assert "> POST" not in result.stderr  # -v was not taken for --verbose
    prompt = body.get("prompt") or body["messages"][-1]["content"]
    assert prompt == args[-1]


def test_global_options_still_work_anywhere(api, cli):
    result = cli("chat", "--stop", "END", "-v", "hi")
    assert result.exit_code == 0, result
    assert "> POST" in result.stderr
    assert api.last().json["stop"] == ["END"]


def test_the_parser_without_a_command_takes_every_global():
    options, rest = parse_global_options(["chat", "--stop", "-v", "hi"])
    assert options.verbose and rest == ["chat", "--stop", "hi"]


def test_the_global_options_are_declared_once():
    import inspect

    from mistral_cli import app
    from mistral_cli.config.global_options import GLOBALS

    from dataclasses import fields

    from mistral_cli.config.global_options import GlobalOptions

    source = inspect.getsource(app)
    assert '"--server-url"' not in source and '"--max-retries"' not in source
    assert {name for option in GLOBALS for name in option.names} >= {"--profile", "-v", "--color"}
    assert [option.attr for option in GLOBALS] == [field.name for field in fields(GlobalOptions)]


# -- plain HTTP --------------------------------------------------------------------------------------


@pytest.mark.parametrize("url, remote", [
    ("http://127.0.0.1:8080", False), ("http://localhost", False), ("http://[::1]:1", False),
    ("http://127.8.0.1", False), ("https://api.example.com", False), ("http://api.example.com", True),
    ("http://10.0.0.1", True), ("http://localhost.example.com", True),
])
def test_which_urls_are_remote_plain_http(url, remote):
    assert is_remote_http(url) is remote


def test_plain_http_to_another_host_is_refused(cli, monkeypatch):
    monkeypatch.setenv("MISTRAL_API_KEY", "test-key-1234")
    result = cli("--server-url", "http://api.example.invalid", "models", "list")
    assert_one_line(result, 2)
    assert "--allow-http" in result.stderr and "allow_http" in result.stderr


def fake_remote(api, monkeypatch) -> str:
    """The fake server's URL, with every plain-http URL treated as another machine's."""
    from mistral_cli.config import settings

    monkeypatch.setattr(settings, "is_remote_http", lambda url: url.startswith("http://"))
    return api.url


def test_allow_http_flag_sends_and_verbose_warns_on_each_request(api, cli, monkeypatch):
    url = fake_remote(api, monkeypatch)
    result = cli("--allow-http", "--server-url", url, "-v", "models", "list")
    assert result.exit_code == 0, result
    assert result.stderr.count("warning: plain HTTP") == 1 == len(api.requests)


def test_allow_http_from_the_profile(api, cli, monkeypatch, tmp_path):
    url = fake_remote(api, monkeypatch)
    (tmp_path / "mcli-config" / "config.toml").write_text(
        f'[profiles.default]\nallow_http = true\nserver_url = "{url}"\n', encoding="utf-8")
    monkeypatch.delenv("MISTRAL_SERVER_URL")
    assert cli("models", "list").exit_code == 0


def test_without_allow_http_the_fake_remote_is_refused(api, cli, monkeypatch):
    fake_remote(api, monkeypatch)
    assert cli("models", "list").exit_code == 2
    assert api.requests == []
