"""Help and errors in mcli's words: bare `mcli`, unknown commands, bad values, help at 80
columns, `models get` on a terminal, `scripts/gen-docs --check`, `auth login` with no keyring.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from mistral_cli import app as app_module
from mistral_cli.api.tags import API_TAGS
from mistral_cli.docgen.tree import build_tree
from mistral_cli.commands.shared.boundary import _tags_without_command
from tests.fakeapi.defaults import FT_MODEL
from tests.shell_helpers import REPO

TYPER_WORDS = ("Invalid value", "Input should be", "No such", "Try 'mcli", "╭", "Usage:")


def assert_mcli_words(result) -> None:
    """An error in mcli's own format, with none of Typer's phrases or panels."""
    assert result.stderr.startswith("mcli: error: "), result.stderr
    for words in TYPER_WORDS:
        assert words not in result.stderr, result.stderr


# -- bare mcli, unknown commands -------------------------------------------------------------


def test_bare_mcli_prints_the_help_and_exits_0(cli):
    result = cli()
    assert result.exit_code == 0
    assert "mcli: the command line for the Mistral AI API." in result.stdout
    assert "completion" in result.stdout and "files" in result.stdout


def test_a_group_without_a_command_prints_its_help_and_exits_0(cli):
    result = cli("files")
    assert result.exit_code == 0
    assert "upload" in result.stdout and "download" in result.stdout


@pytest.mark.parametrize("typed, tag", [("files", "files"), ("fles", "files"), ("fine_tuning", "fine-tuning"),
                                        ("embedings", "embeddings"), ("ocr", "ocr")])
def test_an_api_tag_without_a_command_points_at_mcli_api(cli, monkeypatch, typed, tag):
    # Whichever tags have commands on this branch, take TAG's out: it is then a tag without one.
    monkeypatch.setattr(app_module, "REGISTRY", tuple(e for e in app_module.REGISTRY if e.name != tag))
    method, path = API_TAGS[tag].split(" ")
    result = cli(typed, "some", "args")
    assert result.exit_code == 2
    assert_mcli_words(result)
    assert f"no {tag} command yet" in result.stderr
    assert f"mcli api {method} {path}" in result.stderr


def test_the_tags_without_a_command_are_the_spec_tags_minus_the_commands():
    without = _tags_without_command(["chat", "files", "embeddings"])
    assert "embeddings" not in without and "files" not in without
    assert without["batch"] == "GET /v1/batch/jobs"


@pytest.mark.parametrize("args, suggestion", [
    (["fles"], "did you mean `mcli files`?"),
    (["modles", "list"], "did you mean `mcli models`?"),
    (["files", "lst"], "did you mean `mcli files list`?"),
    (["files", "list", "--purpse", "batch"], "did you mean --purpose?"),
])
def test_a_misspelling_points_at_the_right_name(cli, args, suggestion):
    result = cli(*args)
    assert result.exit_code == 2
    assert_mcli_words(result)
    assert suggestion in result.stderr


def test_an_unknown_word_far_from_everything_points_at_the_help(cli):
    result = cli("xyzzy")
    assert result.exit_code == 2
    assert "unknown command 'xyzzy'" in result.stderr and "`mcli --help`" in result.stderr


# -- parameter errors ------------------------------------------------------------------------


@pytest.mark.parametrize("args, message", [
    (["chat", "--temperature", "abc", "hi"], "--temperature wants a number (got 'abc')"),
    (["files", "list", "--page", "x"], "--page wants a whole number (got 'x')"),
    (["files", "list", "--source", "xx"], "--source wants one of: upload, repository, mistral (got 'xx')"),
    (["models", "list", "-o", "yaml"], "--output wants one of: table, json, jsonl, text (got 'yaml')"),
    (["files", "list", "--purpose"], "--purpose needs a value"),
    (["files", "get"], "missing FILE_ID"),
    (["files", "url", "a", "b"], "unexpected argument: b"),
])
def test_parameter_errors_read_as_mcli_s_own(cli, args, message):
    result = cli(*args)
    assert result.exit_code == 2
    assert_mcli_words(result)
    assert message in result.stderr
    assert "--help` shows the options" in result.stderr or "did you mean" in result.stderr


# -- help at 80 columns ----------------------------------------------------------------------


def _whole(word: str, text: str) -> bool:
    """Whether WORD stands whole in TEXT (not cut, not glued to more name characters)."""
    return re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text) is not None


@pytest.fixture(scope="module")
def commands():
    return [node for node in build_tree().nodes()]


HELPS_AT_80: dict[tuple[str, ...], str] = {}  # each command's help at 80 columns, rendered once a worker


def help_at_80(cli, node, monkeypatch) -> str:
    """NODE's `--help` at 80 columns (COLUMNS=80, no TYPER_TERM_WIDTH), as the first test to
    ask rendered it: both checks below read the same texts."""
    if node.path not in HELPS_AT_80:
        monkeypatch.setenv("COLUMNS", "80")
        monkeypatch.delenv("TYPER_TERM_WIDTH", raising=False)
        HELPS_AT_80[node.path] = cli(*node.path, "--help").stdout
    return HELPS_AT_80[node.path]


def test_help_at_80_columns_cuts_no_option_name_and_breaks_no_choice(cli, commands, monkeypatch):
    problems = []
    for node in commands:
        text = help_at_80(cli, node, monkeypatch)
        assert max(len(line) for line in text.splitlines()) <= 80, node.name
        if "…" in text:
            problems.append(f"{node.name}: an ellipsis")
        if "<bool>" in text:
            problems.append(f"{node.name}: a flag shown as <bool>")
        for option in node.options:
            problems += [f"{node.name}: option {name} is cut" for name in option.all_names
                         if not _whole(name, text)]
            problems += [f"{node.name}: {option.long} choice {choice} breaks"
                         for choice in option.choices if not _whole(choice, text)]
    assert problems == [], "\n".join(problems)


def _help_problems(node, text: str) -> list[str]:
    """What is wrong with NODE's --help TEXT: a wide line, no examples, no global-options note,
    Typer's `<str>` or `{file_id}`, an example comment wrapped onto the next line."""
    problems = [f"{node.name}: a line of {len(line)} columns" for line in text.splitlines() if len(line) > 80]
    if "Examples" not in text:
        problems.append(f"{node.name}: no examples")
    if node.path and "Global options, before or after the command" not in text:
        problems.append(f"{node.name}: no global-options note")  # the root lists them itself
    if "<str>" in text:
        problems.append(f"{node.name}: <str>")
    usage = [line for line in text.splitlines() if "Usage:" in line]
    problems += [f"{node.name}: a placeholder in {line.strip()!r}" for line in usage if re.search(r"\{\w+\}", line)]
    lines = text.splitlines()
    problems += [f"{node.name}: an example comment wraps: {line.strip()!r}"
                 for line, after in zip(lines, lines[1:]) if "$ " in line and "  # " in line and after.strip()]
    return problems


def test_help_at_80_columns_has_examples_the_note_and_no_typer_placeholders(cli, commands, monkeypatch):
    problems = []
    for node in commands:
        problems += _help_problems(node, help_at_80(cli, node, monkeypatch))
    assert problems == [], "\n".join(problems)


def test_the_help_check_sees_typer_placeholders_and_a_wrapped_comment(commands):
    node = next(node for node in commands if node.path == ("files", "get"))
    text = (" Usage: mcli files get [OPTIONS] {file_id}\n│ *  file_id  <str>  File id.\n"
            "   $ mcli chat x   # prints {\"id\",\n \"name\"}\n")
    found = " ".join(_help_problems(node, text))
    for problem in ("no examples", "no global-options note", "<str>", "a placeholder", "comment wraps"):
        assert problem in found


def test_help_names_arguments_plainly_and_shows_the_color_choices(cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    usage = cli("files", "get", "--help").stdout
    assert "Usage: mcli files get [OPTIONS] FILE_ID" in usage
    assert re.search(r"--color +<auto\|always\|never>", cli("--help").stdout)
    assert re.search(r"--profile +NAME ", cli("--help").stdout)


def _help_on_a_terminal(*args: str, columns: int = 80) -> str:
    """`mcli ARGS --help` as a real terminal of COLUMNS columns shows it (no COLUMNS variable)."""
    import fcntl
    import os
    import pty
    import struct
    import termios

    main_fd, sub_fd = pty.openpty()
    fcntl.ioctl(sub_fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    env = {name: value for name, value in os.environ.items() if name not in ("COLUMNS", "LINES", "TYPER_TERM_WIDTH")}
    done = subprocess.run([sys.executable, "-m", "mistral_cli", *args, "--help"], stdin=sub_fd, stdout=sub_fd,
                          stderr=subprocess.PIPE, env={**env, "TERM": "xterm"}, timeout=60)
    os.close(sub_fd)
    out = b""
    while True:
        try:
            chunk = os.read(main_fd, 65536)
        except OSError:  # the terminal is closed once everything is read
            break
        if not chunk:
            break
        out += chunk
    os.close(main_fd)
    assert done.returncode == 0, done.stderr
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out.decode()).replace("\r", "")


def test_files_help_on_a_real_80_column_terminal(commands):
    node = next(node for node in commands if node.path == ("files",))
    assert _help_problems(node, _help_on_a_terminal("files")) == []


def test_the_80_column_check_sees_a_cut_name():
    assert not _whole("--no-parallel-tool-calls", "│ --no-parallel-tool-ca… ")
    assert not _whole("batch_request", "<pretrain|instruct|batch_\nrequest>")
    assert _whole("--json-mode", "│ --json-mode   Ask for")


# -- models get, curated like the list -------------------------------------------------------


def test_models_get_on_a_terminal_shows_time_and_capability_names(api, cli):
    result = cli("models", "get", "mistral-small-latest", tty=True)
    assert result.exit_code == 0, result
    assert "ago" in result.stdout  # created, humanized as in `models list`
    assert "chat, tools, fine-tuning" in result.stdout
    assert "completion_chat" not in result.stdout and "{" not in result.stdout
    assert "mistral-small-2409" in result.stdout  # aliases
    assert "ROOT" not in result.stdout  # a base model has none


def test_models_get_of_a_fine_tuned_model_shows_its_root_and_job(api, cli):
    result = cli("models", "get", FT_MODEL, tty=True)
    assert "open-mistral-7b" in result.stdout and "ARCHIVED" in result.stdout


def test_models_get_json_stays_the_body(api, cli):
    result = cli("models", "get", "mistral-small-latest", "-o", "json", tty=True)
    body = json.loads(result.stdout)
    assert body["capabilities"]["completion_chat"] is True and isinstance(body["created"], int)


# -- scripts/gen-docs --check ------------------------------------------------------------------


def test_gen_docs_check_prints_one_line_when_current():
    done = subprocess.run([str(REPO / "scripts" / "gen-docs"), "--check"], capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "PYTHON": sys.executable}, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = (done.stdout + done.stderr).strip().splitlines()
    assert len(lines) == 1 and "current" in lines[0], lines


# -- auth login with no keyring ----------------------------------------------------------------


@pytest.mark.parametrize("backend", ["NoKeyring", "LockedKeyring"])
def test_auth_login_without_a_keyring_says_how_to_go_on_before_the_prompt(cli, api, keyring_backend, backend):
    from mistral_cli.commands.auth.key import PROMPT

    keyring_backend(backend)
    result = cli("auth", "login", input=None, tty=True)
    assert result.exit_code == 3
    assert PROMPT not in result.stderr  # never asked for a key it could not store
    assert "--insecure-storage" in result.stderr and "MISTRAL_API_KEY" in result.stderr
    assert api.requests == []


def test_auth_login_with_insecure_storage_still_prompts_without_a_keyring(cli, api, keyring_backend):
    from mistral_cli.commands.auth.key import PROMPT

    keyring_backend("NoKeyring")
    result = cli("auth", "login", "--insecure-storage", input=None, tty=True)
    assert PROMPT in result.stderr  # asked (and got end of input from the empty test terminal)
