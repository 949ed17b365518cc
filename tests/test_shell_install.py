"""Installed with the package: a real `pip install --prefix` into a temporary folder puts the man
pages where `man -w` finds them and the completion scripts where the shells look, and real
interactive bash, zsh and fish, with only the installed script loaded, complete live ids on
Tab: ids that earlier commands printed (the id cache) and saved conversations.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.fakeapi.defaults import FILE_ID, FT_MODEL, base_model, file_obj, ft_model
from tests.fakeapi.responses import json_response
from tests.shell_helpers import REPO, complete_line, complete_lines, install_once, installed_env

SHELLS = ["bash", "zsh", "fish"]
DATA_FILES = {
    "share/bash-completion/completions/mcli": "completions/bash/mcli",
    "share/zsh/site-functions/_mcli": "completions/zsh/_mcli",
    "share/fish/vendor_completions.d/mcli.fish": "completions/fish/mcli.fish",
    "share/man/man1/mcli.1": "man/mcli.1",
    "share/man/man1/mcli-files-upload.1": "man/mcli-files-upload.1",
}


@pytest.fixture(scope="module")
def prefix(tmp_path_factory):
    """A fresh `pip install --prefix` of the current sources (one a test run, shared by the workers)."""
    base = tmp_path_factory.getbasetemp()
    prefix, done = install_once(base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base)
    assert done.returncode == 0, done.stderr[-3000:]
    return prefix


@pytest.fixture
def shell_env(prefix, tmp_path):
    """The environment of a user with the install on PATH (MCLI_* dirs: the test's own)."""
    home = tmp_path / "home"
    home.mkdir()
    return installed_env(prefix, home)


def needs(program: str):
    return pytest.mark.skipif(not shutil.which(program), reason=f"{program} is not installed")


# -- where the files land ------------------------------------------------------------------


def test_man_pages_and_completions_land_under_share(prefix):
    for installed, source in DATA_FILES.items():
        assert (prefix / installed).read_text() == (REPO / source).read_text(), installed
    pages = sorted(p.name for p in (prefix / "share/man/man1").glob("*.1"))
    assert pages == sorted(p.name for p in (REPO / "man").glob("*.1"))


@needs("man")
def test_man_finds_the_installed_pages_with_manpath_set(prefix):
    env = {**os.environ, "MANPATH": f"{prefix / 'share/man'}:"}
    for page in ("mcli", "mcli-files-upload"):
        done = subprocess.run(["man", "-w", page], capture_output=True, text=True, env=env, timeout=60)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == str(prefix / f"share/man/man1/{page}.1")


@needs("man")
def test_man_finds_the_installed_pages_from_path_alone(prefix):
    # man-db looks in ../share/man beside each folder on PATH: a venv or ~/.local needs no MANPATH.
    env = {k: v for k, v in os.environ.items() if k != "MANPATH"}
    env["PATH"] = f"{prefix / 'bin'}{os.pathsep}/usr/bin{os.pathsep}/bin"
    done = subprocess.run(["man", "-w", "mcli-files-upload"], capture_output=True, text=True, env=env,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(prefix / "share/man/man1/mcli-files-upload.1")


@pytest.mark.parametrize("shell, installed", [("bash", "share/bash-completion/completions/mcli"),
                                              ("zsh", "share/zsh/site-functions/_mcli"),
                                              ("fish", "share/fish/vendor_completions.d/mcli.fish")])
def test_mcli_completion_prints_the_installed_script(prefix, shell_env, shell, installed):
    done = subprocess.run([str(prefix / "bin" / "mcli"), "completion", shell], capture_output=True,
                          text=True, env=shell_env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout == (prefix / installed).read_text()


# -- live values on Tab, in the real shells ------------------------------------------------


@pytest.mark.parametrize("shell", [pytest.param(s, marks=needs(s)) for s in SHELLS])
def test_tab_completes_ids_that_earlier_commands_printed(shell, prefix, shell_env, api, cli):
    api.files[FILE_ID] = file_obj()
    assert cli("models", "list").exit_code == 0
    assert cli("files", "list").exit_code == 0
    line, _ = complete_line(shell, prefix, "mcli models get ft:o", shell_env)
    assert line == f"models get {FT_MODEL}"
    line, _ = complete_line(shell, prefix, "mcli chat --model mistral-sm", shell_env)
    assert line == "chat --model mistral-small-latest"
    line, _ = complete_line(shell, prefix, "mcli files download 3fa", shell_env)
    assert line == f"files download {FILE_ID}"


@pytest.mark.parametrize("shell", [pytest.param(s, marks=needs(s)) for s in SHELLS])
def test_tab_completes_saved_conversation_ids(shell, prefix, shell_env, api, cli):
    assert cli("chat", "hi", "--cid", "build-42").exit_code == 0
    line, _ = complete_line(shell, prefix, "mcli history show bu", shell_env)
    assert line == "history show build-42"
    line, _ = complete_line(shell, prefix, "mcli chat --cid b", shell_env)
    assert line == "chat --cid build-42"


@pytest.mark.parametrize("shell", [pytest.param(s, marks=needs(s)) for s in SHELLS])
def test_tab_before_any_list_offers_nothing_and_never_an_error(shell, prefix, shell_env):
    line, screen = complete_line(shell, prefix, "mcli files get ", shell_env)
    assert line == "files get"
    with open(os.path.join(os.environ["MCLI_DATA_DIR"], "ids.json"), "w") as broken:
        broken.write("{not json")
    line, screen = complete_line(shell, prefix, "mcli models get ", shell_env)
    assert line == "models get"
    assert "rror" not in screen and "Traceback" not in screen


# -- server ids are data, never code -------------------------------------------------------


def hostile_ids(markers: Path) -> list[str]:
    """Ids a hostile server might send, each one creating a file under MARKERS if a shell ran it."""
    return [f"x$(touch {markers}/dollar)", f"x`touch {markers}/backquote`", f"x;touch {markers}/semicolon",
            f"x && touch {markers}/and", f"x'\"$(touch {markers}/quoted)\"'", f"x\n$(touch {markers}/newline)",
            f"x|touch {markers}/pipe", f"x>{markers}/redirect"]


@pytest.mark.parametrize("shell", [pytest.param(s, marks=needs(s)) for s in SHELLS])
def test_tab_never_runs_ids_a_server_sent(shell, prefix, shell_env, api, cli, tmp_path):
    markers = tmp_path / "markers"
    markers.mkdir()
    models = [base_model(value) for value in hostile_ids(markers)] + [base_model(), ft_model()]
    api.add("GET", "/v1/models", json_response({"object": "list", "data": models}))
    for value in hostile_ids(markers) + [FILE_ID]:
        api.files[value] = file_obj(value)
    assert cli("models", "list").exit_code == 0
    assert cli("files", "list").exit_code == 0
    lines = complete_lines(shell, prefix, ["mcli chat -m x", "mcli files get x", "mcli chat -m ",
                                           "mcli chat -m mistral-sm", "mcli files get 3f"], shell_env)
    assert [line for line, _ in lines[3:]] == ["chat -m mistral-small-latest", f"files get {FILE_ID}"]
    assert [line for line, _ in lines[:2]] == ["chat -m x", "files get x"]  # nothing offered
    assert sorted(p.name for p in markers.iterdir()) == []


def fake_mcli(folder: Path, values: list[str]) -> Path:
    """A stand-in `mcli` program in FOLDER whose `completion ids` prints VALUES, one a line."""
    folder.mkdir()
    program = folder / "mcli"
    lines = "".join(f"{value}\n" for value in values)
    program.write_text(f"#!/bin/sh\ncat <<'END_OF_IDS'\n{lines}END_OF_IDS\n")
    program.chmod(0o755)
    return folder


@pytest.mark.parametrize("shell", [pytest.param(s, marks=needs(s)) for s in SHELLS])
def test_the_scripts_alone_insert_any_value_as_one_literal_word(shell, prefix, shell_env, tmp_path):
    # The id cache lets none of these through; here `mcli completion ids` is replaced by a program
    # printing them anyway, to show that the completion script by itself never runs a value and,
    # once a value is inserted and the line run, the command gets it as one literal argument.
    markers = tmp_path / "markers"
    markers.mkdir()
    values = [f"a$(touch {markers}/dollar)", f"b`touch {markers}/backquote`", f"c;touch {markers}/semicolon",
              f"d touch {markers}/space", f"e'\"$(touch {markers}/quoted)", f"f|touch {markers}/pipe",
              f"g>{markers}/redirect", f"h*", f"$(touch {markers}/leading)"]
    shell_env["PATH"] = f"{fake_mcli(tmp_path / 'bin', values)}{os.pathsep}{shell_env['PATH']}"
    lines = complete_lines(shell, prefix, ["mcli files get "] + [f"mcli files get {v[0]}" for v in values[:-1]]
                           + ["mcli files get \\$"], shell_env)
    assert [line for line, _ in lines[1:]] == [f"files get {value}" for value in values]
    assert sorted(p.name for p in markers.iterdir()) == []
