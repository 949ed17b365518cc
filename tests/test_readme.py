"""Every `mcli ...` example in README.md parses against the real command tree.

Each example is cut out of its shell line (pipes, redirections and comments dropped), its
global options are taken out as `app.main()` does, its subcommands are looked up in the
command tree, and the rest goes through Typer's own parsing (`make_context`), which checks
options, choices and argument counts without running anything.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import typer

from mistral_cli.app import REGISTRY, build_app, parse_global_options

README = Path(__file__).resolve().parent.parent / "README.md"
SHELL_STOPS = {"|", ">", "<", "&&", ";", "2>&1"}


def readme_examples() -> list[str]:
    """The mcli invocations in the README's shell code blocks."""
    examples, in_block = [], False
    for line in README.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            in_block = line.strip() == "```sh"
            continue
        if in_block:
            examples.extend(_invocations(line))
    return examples


def _invocations(line: str) -> list[str]:
    words = shlex.split(re.sub(r"\$\((mcli[^)]*)\)", r"| \1 |", line), comments=True)
    found, current = [], None
    for word in words:
        if word in SHELL_STOPS or word.startswith((">", "2>")):
            current = None
        elif current is not None:
            current.append(word)
        elif word == "mcli":
            current = []
            found.append(current)
    return [shlex.join(["mcli", *args]) for args in found]


EXAMPLES = readme_examples()


def test_the_readme_has_examples_for_every_top_level_command():
    named = {shlex.split(example)[1] for example in EXAMPLES if len(shlex.split(example)) > 1}
    assert {entry.name for entry in REGISTRY} <= named


@pytest.mark.parametrize("example", EXAMPLES)
def test_readme_example_parses(example):
    _options, args = parse_global_options(shlex.split(example)[1:])
    command = typer.main.get_command(build_app(load_all=True))
    path = ["mcli"]
    while getattr(command, "commands", None):  # a group: the next word names a subcommand
        assert args and args[0] in command.commands, f"{' '.join(path)}: no command {args[:1]}"
        path.append(args[0])
        command, args = command.commands[args[0]], args[1:]
    command.make_context(" ".join(path), list(args))  # raises on a bad option, value or argument


def test_the_global_options_are_written_as_mcli_help_writes_them():
    """The README's `--timeout SECONDS`, `--max-retries N`, ... are what `mcli --help` shows."""
    from typer.testing import CliRunner

    text = README.read_text(encoding="utf-8")
    help_text = CliRunner().invoke(build_app(), ["--help"], env={"COLUMNS": "100"}).output
    for option, metavar in (("--profile", "NAME"), ("--server-url", "URL"), ("--timeout", "SECONDS"),
                            ("--max-retries", "N")):
        assert f"`{option} {metavar}`" in text
        assert re.search(rf"{option}\s+{metavar}\s", help_text), help_text
