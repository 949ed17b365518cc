"""Installed with the package: a real `pip install --prefix` into a temporary folder puts the man
pages where `man -w` finds them and the completion scripts where the shells look, and real
interactive bash, zsh and fish, with only the installed script loaded, complete live ids on
Tab: ids that earlier commands printed (the id cache) and saved conversations.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from tests.fakeapi.defaults import FILE_ID, FT_MODEL, file_obj
from tests.shell_helpers import REPO, complete_line, install, installed_env

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
    """A fresh `pip install --prefix` of the current sources."""
    root = tmp_path_factory.mktemp("install")
    (root / "scratch").mkdir()
    done = install(root / "prefix", root / "scratch")
    assert done.returncode == 0, done.stderr[-3000:]
    return root / "prefix"


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
