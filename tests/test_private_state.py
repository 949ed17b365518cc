"""Local state is written only through the private writer (config/private.py) and kept only in
folders of the user's own that nobody else can write in (config/paths.py: check_folder)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from mistral_cli.config import private
from mistral_cli.errors import ConfigError

NOBODY = 65534


def data_dir() -> Path:
    return Path(os.environ["MCLI_DATA_DIR"])


def config_dir() -> Path:
    return Path(os.environ["MCLI_CONFIG_DIR"])


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


# -- the writer --------------------------------------------------------------------------------


def test_a_link_planted_under_the_old_temporary_name_is_never_followed(api, cli, tmp_path):
    target = tmp_path / "victim"
    target.write_text("precious")
    planted = data_dir() / f".ids.json.{os.getpid()}.tmp"  # the name mcli used to write through
    planted.symlink_to(target)
    assert cli("models", "list", "-o", "text").exit_code == 0
    assert target.read_text() == "precious"
    cache = data_dir() / "ids.json"
    assert not cache.is_symlink() and "mistral-small-latest" in json.loads(cache.read_text())["model"]


def test_a_link_under_the_target_name_is_replaced_not_written_through(tmp_path):
    target = tmp_path / "victim"
    target.write_text("precious")
    folder = tmp_path / "state"
    folder.mkdir(mode=0o700)
    (folder / "config.toml").symlink_to(target)
    private.write_private(folder / "config.toml", "x = 1\n")
    assert target.read_text() == "precious"
    assert (folder / "config.toml").read_text() == "x = 1\n" and mode(folder / "config.toml") == 0o600


def test_a_temporary_name_that_is_taken_is_never_opened(tmp_path, monkeypatch):
    target = tmp_path / "victim"
    target.write_text("precious")
    folder = tmp_path / "state"
    folder.mkdir(mode=0o700)
    tokens = iter(["0badf00d", "0badf00d", "12345678"])
    monkeypatch.setattr("mistral_cli.safe_files.random_part", lambda: next(tokens))
    (folder / f".ids.json.{os.getpid()}-0badf00d.tmp").symlink_to(target)
    private.write_private(folder / "ids.json", "{}")
    assert target.read_text() == "precious" and (folder / "ids.json").read_text() == "{}"


def test_the_new_file_is_0600_whatever_the_umask_and_no_temporary_file_stays(tmp_path):
    old = os.umask(0)
    try:
        path = private.write_private(tmp_path / "new" / "credentials.toml", b"k = 'v'\n")
    finally:
        os.umask(old)
    assert mode(path) == 0o600 and mode(path.parent) == 0o700
    assert os.listdir(path.parent) == ["credentials.toml"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(tmp_path):
    folder = tmp_path / "state"
    folder.mkdir(mode=0o700)
    (folder / "ids.json").write_text("old")
    with pytest.raises(OSError):
        private.replace_private(folder / "ids.json", lambda temp: (_ for _ in ()).throw(OSError("disk full")))
    assert os.listdir(folder) == ["ids.json"] and (folder / "ids.json").read_text() == "old"


def test_the_repl_history_goes_through_the_writer(tmp_path):
    folder = tmp_path / "state"
    private.replace_private(folder / "repl_history", lambda temp: temp.write_text("/help\n"))
    assert (folder / "repl_history").read_text() == "/help\n" and mode(folder / "repl_history") == 0o600


def test_a_temporary_file_of_a_dead_process_is_removed_by_the_next_write(tmp_path):
    folder = tmp_path / "state"
    folder.mkdir(mode=0o700)
    dead = dead_pid()
    (folder / f".ids.json.{dead}-0badf00d.tmp").write_text("left by a killed mcli")
    (folder / f".ids.json.{os.getppid()}-0badf00d.tmp").write_text("a live process is writing")
    private.write_private(folder / "ids.json", "{}")
    assert sorted(os.listdir(folder)) == sorted(["ids.json", f".ids.json.{os.getppid()}-0badf00d.tmp"])


def dead_pid() -> int:
    """The pid of a process that has ended (and been waited for)."""
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


# -- the folders ---------------------------------------------------------------------------------


def test_a_data_folder_others_can_write_is_refused(api, cli, tmp_path):
    data_dir().chmod(0o777)
    result = cli("models", "list", "-o", "text")
    assert result.exit_code == 2, result
    assert f"the folder {data_dir()} can be written by other users (mode 0777)" in result.stderr
    assert f"chmod 700 {data_dir()}" in result.stderr
    assert not (data_dir() / "ids.json").exists()


def test_a_group_writable_config_folder_is_refused_before_sending(api, cli):
    config_dir().chmod(0o770)
    (config_dir() / "config.toml").write_text('[profiles.default]\nserver_url = "https://evil.example"\n')
    result = cli("chat", "hi")
    assert result.exit_code == 2, result
    assert f"chmod 700 {config_dir()}" in result.stderr
    assert api.requests == []


def test_a_config_folder_others_can_write_is_refused_when_saving(cli):
    config_dir().chmod(0o757)
    result = cli("config", "set", "timeout", "30")
    assert result.exit_code == 2 and f"chmod 700 {config_dir()}" in result.stderr
    assert not (config_dir() / "config.toml").exists()


def test_a_run_folder_others_can_write_below_the_data_folder_is_refused(tmp_path):
    from mistral_cli.config.paths import private_dir

    (data_dir() / "kept-answers").mkdir(mode=0o700)
    (data_dir() / "kept-answers").chmod(0o777)
    with pytest.raises(ConfigError, match="kept-answers can be written by other users"):
        private.write_private(data_dir() / "kept-answers" / "a.json", "{}", root=data_dir())
    assert private_dir(tmp_path / "fresh" / "deep", tmp_path / "fresh") == tmp_path / "fresh" / "deep"


def test_a_private_folder_under_a_sticky_shared_folder_is_fine(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    path = private.write_private(shared / "mine" / "ids.json", "{}")
    assert path.read_text() == "{}" and mode(path.parent) == 0o700


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                    reason="giving a folder to another user needs root")
def test_a_data_folder_of_another_user_is_refused(api, cli):
    os.chown(data_dir(), NOBODY, NOBODY)
    result = cli("models", "list", "-o", "text")
    assert result.exit_code == 2, result
    assert f"the folder {data_dir()} belongs to another user (uid {NOBODY})" in result.stderr
    assert f"chown root {data_dir()}" in result.stderr


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                    reason="giving a folder to another user needs root")
def test_a_config_folder_of_another_user_is_refused_for_the_key_file(cli, monkeypatch):
    monkeypatch.delenv("MISTRAL_API_KEY", raising=False)
    (config_dir() / "credentials.toml").write_text('default = "sk-planted-key-123"\n')
    os.chown(config_dir(), NOBODY, NOBODY)
    result = cli("auth", "token")
    assert result.exit_code == 2, result
    assert "belongs to another user" in result.stderr and "sk-planted" not in result.stdout


def test_a_link_planted_as_the_history_database_is_never_opened(api, cli, tmp_path):
    target = tmp_path / "elsewhere.db"  # a dangling link: opening through it would create this
    (data_dir() / "history.db").symlink_to(target)
    result = cli("chat", "hi", "--no-stdin")
    assert result.exit_code != 0 and "history.db" in result.stderr, result
    assert not target.exists()
    assert api.requests == []
