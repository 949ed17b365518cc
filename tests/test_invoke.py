"""The boundary with Click (commands/shared/boundary.py): every group, command and parameter of
the tree is mcli's subclass of Typer's, and what the user reads (errors, hints, usage lines)
comes from mcli's code and the exceptions' attributes, never from Typer's English wording."""

from __future__ import annotations

import pytest
import typer

from mistral_cli import app as app_module
from mistral_cli.commands.shared.boundary import (
    McliArgument,
    McliCommand,
    McliGroup,
    McliOption,
    check_choice,
)
from mistral_cli.errors import OptionValueError


def _tree():
    return typer.main.get_command(app_module.build_app(load_all=True))


def _param(command, *path_and_name):
    """The parameter named NAME of the command at PATH."""
    *path, name = path_and_name
    for word in path:
        command = command.commands[word]
    return next(param for param in command.params if param.name == name)


def test_every_group_command_and_parameter_of_the_tree_is_mcli_s():
    ctx = typer.Context(_tree())
    strangers = []

    def walk(command, path):
        groups = getattr(command, "commands", None) is not None
        if not isinstance(command, McliGroup if groups else McliCommand):
            strangers.append(f"{path}: {type(command).__name__}")
        for param in command.get_params(ctx):
            if not isinstance(param, (McliOption, McliArgument)):
                strangers.append(f"{path} {param.name}: {type(param).__name__}")
        for name, sub in (command.commands if groups else {}).items():
            walk(sub, f"{path} {name}")

    walk(ctx.command, "mcli")
    assert strangers == [], "make groups with McliTyper (commands/shared/boundary.py)"


# Typer's words, replaced: mcli's messages must not change, since it reads none of them.
ERRORS = [
    (["fles"], "unknown command 'fles' for `mcli`", "did you mean `mcli files`?"),
    (["files", "lst"], "unknown command 'lst' for `mcli files`", "did you mean `mcli files list`?"),
    (["files", "url", "a", "b", "c"], "unexpected argument: b c", "`mcli files url --help`"),
    (["files", "list", "--source", "xx"], "--source wants one of: upload, repository, mistral (got 'xx')",
     "`mcli files list --help`"),
    (["files", "list", "--purpose"], "--purpose needs a value", "`mcli files list --help`"),
    (["files", "list", "--all=3"], "option '--all' does not take a value", "`mcli files list --help`"),
    (["files", "list", "--purpse", "x"], "unknown option --purpse for `mcli files list`", "did you mean --purpose?"),
    (["files", "get"], "missing FILE_ID: File id (a UUID).", "`mcli files get --help`"),
    (["api", "FETCH", "/v1/models"], "METHOD wants one of: GET, POST, PUT, PATCH, DELETE (got 'FETCH')",
     "`mcli api --help`"),
]


@pytest.mark.parametrize("args, message, hint", ERRORS)
def test_errors_are_in_mcli_s_words_whatever_typer_s_wording(cli, monkeypatch, args, message, hint):
    typer_words = typer.TyperException.__init__

    def reworded(self, text, *rest, **kwargs):
        typer_words(self, "Typer words it otherwise", *rest, **kwargs)

    monkeypatch.setattr(typer.TyperException, "__init__", reworded)
    result = cli(*args)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"mcli: error: {message}\nhint: "), result.stderr
    assert hint in result.stderr and "Typer words" not in result.stderr


def test_a_misused_option_s_hint_names_the_command_it_belongs_to(cli):
    for args in (["files", "list", "--purpose"], ["models", "list", "-o"], ["files", "list", "--all=3"]):
        result = cli(*args)
        assert f"`mcli {args[0]} list --help` shows the options" in result.stderr, result.stderr


def test_extra_arguments_are_refused_with_their_control_characters_written_out(cli):
    result = cli("files", "url", "a", "b\x1b[31mc", "d\ne")
    assert result.exit_code == 2
    assert "mcli: error: unexpected argument: b\\x1b[31mc d\\x0ae\n" in result.stderr


def test_a_word_like_an_option_where_a_command_belongs_is_an_unknown_option(cli):
    result = cli("files", "--", "-x")
    assert "unknown option -x for `mcli files`" in result.stderr


def test_an_unknown_command_far_from_every_name_points_at_the_group_s_help(cli):
    result = cli("completion", "tcsh")
    assert result.exit_code == 2
    assert "unknown command 'tcsh' for `mcli completion`" in result.stderr
    assert "`mcli completion --help` lists the commands" in result.stderr


def test_a_choice_is_checked_by_mcli_before_typer_converts_it():
    tree = _tree()
    output, kind, method = (_param(tree, "models", "list", "output"), _param(tree, "models", "list", "model_type"),
                            _param(tree, "api", "method"))
    check_choice(output, "JSON")  # declared case-insensitive: any case
    check_choice(output, None)  # not given
    check_choice(kind, ["base", "fine-tuned"])
    with pytest.raises(OptionValueError, match=r"^--type wants one of: base, fine-tuned \(got 'BASE'\)$"):
        check_choice(kind, "BASE")  # declared case-sensitive
    with pytest.raises(OptionValueError, match=r"^METHOD wants one of: GET, POST, PUT, PATCH, DELETE \(got 'x'\)$"):
        check_choice(method, "x")
    check_choice(_param(tree, "files", "upload", "purpose"), "audio")  # an open choice takes any value


@pytest.mark.parametrize("path, usage", [
    (("files", "get"), "mcli files get [OPTIONS] FILE_ID"),
    (("files", "upload"), "mcli files upload [OPTIONS] PATHS..."),
    (("batch", "runs"), "mcli batch runs [OPTIONS] [TAG]"),
    (("embeddings",), "mcli embeddings [OPTIONS] [TEXTS...]"),
    (("history", "delete"), "mcli history delete [OPTIONS] [ID...]"),
])
def test_the_usage_line_names_arguments_in_capitals(cli, monkeypatch, path, usage):
    monkeypatch.setenv("COLUMNS", "100")
    lines = [line.strip() for line in cli(*path, "--help").stdout.splitlines()]
    assert f"Usage: {usage}" in lines
