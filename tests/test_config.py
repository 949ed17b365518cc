"""`mcli config`: list/get/set/unset/use/path, profiles, validation and broken files."""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path

import pytest

from mistral_cli.config.profiles import KEYS, ConfigFile


def config_path() -> Path:
    return Path(os.environ["MCLI_CONFIG_DIR"]) / "config.toml"


def read_config() -> dict:
    return tomllib.loads(config_path().read_text(encoding="utf-8"))


def write_config(text: str) -> None:
    config_path().write_text(text, encoding="utf-8")


def listed(cli, *args) -> dict[str, dict]:
    result = cli("config", "list", "-o", "json", *args)
    assert result.exit_code == 0, result
    return {(item["profile"], item["key"]): item for item in json.loads(result.stdout)}


# -- path ------------------------------------------------------------------------------

def test_path_prints_the_config_file_under_MCLI_CONFIG_DIR(cli):
    result = cli("config", "path")
    assert result.exit_code == 0, result
    assert result.stdout == f"{config_path()}\n"


def test_path_json_names_every_location(cli):
    result = cli("config", "path", "-o", "json")
    paths = json.loads(result.stdout)
    assert paths["config_dir"] == os.environ["MCLI_CONFIG_DIR"]
    assert paths["data_dir"] == os.environ["MCLI_DATA_DIR"]
    assert paths["credentials_file"].endswith("credentials.toml")


def test_default_dirs_come_from_platformdirs(monkeypatch, tmp_path):
    from mistral_cli.config import paths

    monkeypatch.delenv("MCLI_CONFIG_DIR")
    monkeypatch.delenv("MCLI_DATA_DIR")
    environ = dict(os.environ)
    assert paths.config_dir(environ).is_relative_to(tmp_path / "xdg" / "config")
    assert paths.data_dir(environ).is_relative_to(tmp_path / "xdg" / "data")


# -- set / get / unset -----------------------------------------------------------------

def test_set_then_get_round_trips_typed_values(cli):
    assert cli("config", "set", "timeout", "30").exit_code == 0
    assert cli("config", "set", "history", "no").exit_code == 0
    assert cli("config", "set", "model.chat", "mistral-large-latest").exit_code == 0
    assert read_config() == {"profiles": {"default": {"timeout": 30.0, "history": False,
                                                      "model": {"chat": "mistral-large-latest"}}}}
    assert cli("config", "get", "timeout").stdout == "30.0\n"
    assert cli("config", "get", "history").stdout == "false\n"
    assert cli("config", "get", "model.chat").stdout == "mistral-large-latest\n"


def test_get_unset_key_prints_its_default(cli):
    result = cli("config", "get", "model.fim", "-o", "json")
    assert json.loads(result.stdout) == {"profile": "default", "key": "model.fim",
                                         "value": "codestral-latest", "source": "default"}


def test_set_writes_the_file_that_the_client_settings_read(cli):
    cli("config", "set", "max_retries", "0")
    cli("config", "set", "server_url", "http://127.0.0.1:9/")
    from mistral_cli.env import Env

    env = Env(environ=dict(os.environ))
    assert env.max_retries == 0
    assert env.server_url == "http://127.0.0.1:9"


def test_unset_removes_the_key_and_empty_tables(cli):
    cli("config", "set", "model.chat", "x")
    cli("config", "set", "timeout", "5")
    result = cli("config", "unset", "model.chat")
    assert result.exit_code == 0, result
    assert "removed model.chat" in result.stderr
    assert read_config() == {"profiles": {"default": {"timeout": 5.0}}}
    assert cli("config", "get", "model.chat").stdout == "mistral-small-latest\n"


def test_unset_of_a_key_that_is_not_set_says_so(cli):
    result = cli("config", "unset", "timeout")
    assert result.exit_code == 0
    assert "was not set" in result.stderr
    assert not config_path().exists()


def test_set_creates_the_named_profile_and_leaves_others_alone(cli):
    cli("config", "set", "model.chat", "base-model")
    result = cli("config", "set", "model.chat", "work-model", "--profile", "work")
    assert result.exit_code == 0, result
    assert "created profile 'work'" in result.stderr
    assert cli("config", "get", "model.chat").stdout == "base-model\n"
    assert cli("--profile", "work", "config", "get", "model.chat").stdout == "work-model\n"
    assert cli("config", "get", "model.chat", "--profile", "work").stdout == "work-model\n"


def test_MCLI_PROFILE_selects_a_profile(cli, monkeypatch):
    cli("config", "set", "timeout", "7", "--profile", "ci")
    monkeypatch.setenv("MCLI_PROFILE", "ci")
    assert cli("config", "get", "timeout").stdout == "7.0\n"
    assert cli("config", "get", "timeout", "--profile", "default").stdout == "120.0\n"


# -- validation ------------------------------------------------------------------------

@pytest.mark.parametrize("command", [("get", "model.chatt"), ("set", "model.chatt", "x"), ("unset", "colour")])
def test_unknown_key_is_refused_with_the_valid_keys(cli, command):
    result = cli("config", *command)
    assert result.exit_code == 2
    assert "unknown config key" in result.stderr
    for key in KEYS:
        assert key in result.stderr
    assert "Traceback" not in result.stderr
    assert not config_path().exists()


def test_unknown_key_suggests_the_closest(cli):
    assert "did you mean 'model.chat'?" in cli("config", "set", "model.chatt", "x").stderr


@pytest.mark.parametrize("key, value, reason", [
    ("timeout", "soon", "number of seconds"),
    ("timeout", "-1", "greater than 0"),
    ("max_retries", "2.5", "whole number"),
    ("history", "maybe", "true or false"),
    ("server_url", "api.mistral.ai", "http:// or https://"),
    ("model.chat", "  ", "must not be empty"),
])
def test_bad_value_is_refused_with_what_is_valid(cli, key, value, reason):
    result = cli("config", "set", key, value)
    assert result.exit_code == 2
    assert f"bad value for '{key}'" in result.stderr
    assert reason in result.stderr
    assert not config_path().exists()


def test_bad_profile_name_is_refused(cli):
    result = cli("config", "set", "timeout", "5", "--profile", "a b")
    assert result.exit_code == 2
    assert "invalid profile name" in result.stderr


# -- broken or odd files ---------------------------------------------------------------

def test_broken_toml_names_the_file_and_line(cli):
    write_config('default_profile = "x"\n\n[profiles.x]\ntimeout = = 3\n')
    for args in (("config", "list"), ("config", "get", "timeout"), ("auth", "token")):
        result = cli(*args)
        assert result.exit_code == 2, result
        assert str(config_path()) in result.stderr
        assert "line 4" in result.stderr
        assert "Traceback" not in result.stderr
        assert "internal error" not in result.stderr


def test_wrong_type_in_file_names_the_profile_and_key(cli):
    write_config('[profiles.default]\ntimeout = "soon"\n')
    result = cli("config", "list")
    assert result.exit_code == 2
    assert "profile 'default'" in result.stderr and "'timeout'" in result.stderr
    assert str(config_path()) in result.stderr


def test_profiles_must_be_tables(cli):
    write_config('profiles = 3\n')
    result = cli("config", "list")
    assert result.exit_code == 2
    assert "'profiles' must be a table" in result.stderr


def test_unknown_key_in_file_is_warned_about_and_ignored(cli):
    write_config('[profiles.default]\ncolour = "blue"\ntimeout = 9\n')
    result = cli("config", "list", "-o", "json")
    assert result.exit_code == 0
    assert "unknown key 'colour'" in result.stderr
    assert "colour" not in result.stdout


def test_set_keeps_other_content_of_the_file(cli):
    write_config('default_profile = "work"\n[profiles.work]\ntimeout = 9\n[profiles.other.model]\nfim = "f"\n')
    cli("config", "set", "max_retries", "1")
    assert read_config() == {"default_profile": "work",
                             "profiles": {"work": {"timeout": 9, "max_retries": 1},
                                          "other": {"model": {"fim": "f"}}}}


# -- list ------------------------------------------------------------------------------

def test_list_shows_every_key_with_its_source(cli):
    cli("config", "set", "model.chat", "m")
    items = listed(cli)
    assert len(items) == len(KEYS)
    assert items[("default", "model.chat")] == {"profile": "default", "key": "model.chat",
                                                "value": "m", "source": "profile"}
    assert items[("default", "timeout")]["source"] == "default"
    assert items[("default", "timeout")]["value"] == 120.0


def test_list_off_a_terminal_is_tab_separated(cli):
    cli("config", "set", "history", "off")
    lines = cli("config", "list").stdout.splitlines()
    assert "history\tfalse\tprofile" in lines
    assert "max_retries\t3\tdefault" in lines
    assert len(lines) == len(KEYS)


def test_list_on_a_terminal_is_a_table(cli):
    result = cli("config", "list", tty=True)
    assert "KEY" in result.stdout and "SOURCE" in result.stdout
    assert "mistral-small-latest" in result.stdout


def test_list_shows_options_and_environment_overrides(cli, monkeypatch):
    cli("config", "set", "server_url", "https://profile.example")
    monkeypatch.setenv("MISTRAL_SERVER_URL", "https://env.example")
    items = listed(cli, "--timeout", "5")
    assert items[("default", "server_url")]["source"] == "env MISTRAL_SERVER_URL"
    assert items[("default", "server_url")]["value"] == "https://env.example"
    assert items[("default", "timeout")] == {"profile": "default", "key": "timeout", "value": 5.0,
                                             "source": "option --timeout"}


def test_list_all_profiles(cli):
    cli("config", "set", "timeout", "1", "--profile", "a")
    cli("config", "set", "timeout", "2", "--profile", "b")
    items = listed(cli, "--all-profiles")
    assert {profile for profile, _key in items} == {"a", "b", "default"}
    assert items[("a", "timeout")]["value"] == 1.0
    assert items[("b", "timeout")]["value"] == 2.0
    assert items[("default", "timeout")]["source"] == "default"


# -- use -------------------------------------------------------------------------------

def test_use_makes_a_profile_the_default(cli):
    cli("config", "set", "model.chat", "work-model", "--profile", "work")
    result = cli("config", "use", "work")
    assert result.exit_code == 0, result
    assert read_config()["default_profile"] == "work"
    assert cli("config", "get", "model.chat").stdout == "work-model\n"
    assert listed(cli)[("work", "model.chat")]["source"] == "profile"
    assert cli("config", "get", "model.chat", "--profile", "default").stdout == "mistral-small-latest\n"


def test_use_refuses_an_unknown_profile_unless_create(cli):
    cli("config", "set", "timeout", "1", "--profile", "work")
    result = cli("config", "use", "wrok")
    assert result.exit_code == 2
    assert "no profile 'wrok'" in result.stderr and "work" in result.stderr
    assert "default_profile" not in read_config()
    assert cli("config", "use", "staging", "--create").exit_code == 0
    assert read_config()["default_profile"] == "staging"
    assert "staging" in read_config()["profiles"]


def test_use_default_always_works(cli):
    assert cli("config", "use", "default").exit_code == 0
    assert read_config() == {"default_profile": "default"}


def test_use_notes_that_MCLI_PROFILE_wins(cli, monkeypatch):
    cli("config", "use", "x", "--create")
    monkeypatch.setenv("MCLI_PROFILE", "y")
    assert "MCLI_PROFILE=y is set" in cli("config", "use", "x").stderr


def test_configfile_load_of_a_missing_file_is_empty():
    config = ConfigFile.load(dict(os.environ))
    assert config.default_profile == "default"
    assert config.profile_names() == []
    assert config.profile("default") == {}


def test_help_lists_keys_and_examples(cli):
    result = cli("config", "set", "--help")
    assert result.exit_code == 0
    assert "mcli config set model.chat" in result.stdout


def test_set_notes_an_environment_override(cli, monkeypatch):
    monkeypatch.setenv("MISTRAL_SERVER_URL", "https://env.example")
    result = cli("config", "set", "server_url", "https://profile.example")
    assert result.exit_code == 0
    assert "env MISTRAL_SERVER_URL is set and takes precedence" in result.stderr
    assert read_config() == {"profiles": {"default": {"server_url": "https://profile.example"}}}


def test_config_get_and_the_client_agree_on_the_server_url(cli, monkeypatch):
    # One lookup (config/settings.py) serves both `config get` and Env: same normalised value.
    monkeypatch.setenv("MISTRAL_SERVER_URL", "https://env.example/")
    assert cli("config", "get", "server_url").stdout == "https://env.example\n"
    assert cli("--server-url", "http://opt.example/", "config", "get", "server_url").stdout == "http://opt.example\n"
    from mistral_cli.env import Env

    assert Env(environ=dict(os.environ)).server_url == "https://env.example"


def test_config_get_refuses_an_invalid_server_url_from_the_environment(cli, monkeypatch):
    monkeypatch.setenv("MISTRAL_SERVER_URL", "api.mistral.ai")
    result = cli("config", "get", "server_url")
    assert result.exit_code == 2
    assert "MISTRAL_SERVER_URL: invalid server URL" in result.stderr
