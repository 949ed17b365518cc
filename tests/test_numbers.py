"""Numbers on the command line: one parser and one check (numbers.Bound) behind every numeric
option, one message shape whatever Typer version parses the line, and help ranges that come
from the same bounds as the check."""

from __future__ import annotations

import typing

import pytest
import typer

from mistral_cli import app as app_module
from mistral_cli.commands.shared.boundary import parser_of
from mistral_cli.config.global_options import BY_NAME  # taken out of argv and parsed before Typer
from mistral_cli.errors import OptionValueError
from mistral_cli.numbers import Bound, parse_number

NUMERIC_TYPES = {"integer", "float", "integer range", "float range"}  # Typer 0.28's names of its number types


def all_options():
    """(command path, click option) for every option of the whole app."""
    def walk(command, path):
        for param in command.params:
            if getattr(param, "param_type_name", "") == "option":
                yield path, param
        for name, sub in (getattr(command, "commands", None) or {}).items():
            yield from walk(sub, f"{path} {name}")

    return list(walk(typer.main.get_command(app_module.build_app(load_all=True)), "mcli"))


def numeric(param):
    """Whether PARAM holds a number (Typer 0.29: by its annotation; 0.28: by its Click type)."""
    descriptor = getattr(param, "type_descriptor", None)
    if descriptor is not None:
        annotation = descriptor.annotation
        return (typing.get_args(annotation) or (annotation,))[0] in (int, float)
    return getattr(param.type, "name", "") in NUMERIC_TYPES


def bound_of(param):
    """The Bound whose parser converts PARAM's values (None: another parser)."""
    owner = getattr(parser_of(param), "__self__", None)
    return owner if isinstance(owner, Bound) else None


@pytest.mark.parametrize("text, integer", [
    ("abc", False), ("nan", False), ("inf", False), ("-inf", False), ("1_0", True), ("1_0", False),
    (" 1", True), ("1 ", False), ("", False), ("0x10", True), ("1.5", True), ("1e3", True), ("1" * 500, True),
])
def test_only_plain_decimal_numbers_parse(text, integer):
    with pytest.raises(OptionValueError) as caught:
        parse_number(text, "--x", integer=integer)
    assert caught.value.message.startswith(f"--x wants {'a whole number' if integer else 'a number'} (got ")
    assert len(caught.value.message) < 80


@pytest.mark.parametrize("text, integer, expected", [
    ("12", True, 12), ("-3", True, -3), ("+4", True, 4), ("0.5", False, 0.5), (".5", False, 0.5),
    ("5.", False, 5.0), ("1e-8", False, 1e-8), ("7", False, 7.0),
])
def test_plain_numbers_parse_to_their_value(text, integer, expected):
    assert parse_number(text, "--x", integer=integer) == expected


def test_the_bound_checks_what_it_parsed_and_says_its_range():
    bound = Bound("--temperature", 0, 1.5)
    assert bound.parse("1.5") == 1.5 and bound.parse(0) == 0
    with pytest.raises(OptionValueError, match=r"--temperature must be between 0 and 1.5 \(got 2\)"):
        bound.parse("2")
    assert [b.range_text() for b in (bound, Bound("-n", 1, None, integer=True), Bound("--e", 0, None, exclusive_low=True),
                                     Bound("--h", None, 3))] == ["0 to 1.5", "at least 1", "over 0", "at most 3"]


def test_every_numeric_option_is_parsed_by_a_bound_and_its_help_says_the_bound_s_range():
    options = all_options()
    assert len(options) > 100
    unowned = [f"{path} {param.opts[0]}" for path, param in options
               if numeric(param) and bound_of(param) is None and param.opts[0] not in BY_NAME]
    assert unowned == [], "declare these with common_options.number_option"
    owned = [(path, param, bound_of(param)) for path, param in options if bound_of(param) is not None]
    assert len(owned) >= 30
    wrong = [f"{path} {param.opts[0]}: {param.help!r}" for path, param, bound in owned
             if f"({bound.range_text()})" not in (param.help or "") or bound.option not in param.opts]
    assert wrong == []


@pytest.mark.parametrize("args, message", [
    (["chat", "--top-p", "2", "hi"], "--top-p must be between 0 and 1 (got 2)"),
    (["embeddings", "--concurrency", "0", "a"], "--concurrency must be between 1 and 64 (got 0)"),
    (["embeddings", "--skip", "x", "a"], "--skip wants a whole number (got 'x')"),
    (["classifiers", "moderate", "--threshold", "1.5", "a"], "--threshold must be between 0 and 1 (got 1.5)"),
    (["files", "list", "--page-size", "1001"], "--page-size must be between 1 and 1000 (got 1001)"),
    (["batch", "watch", "--interval", "0.4", "00000000-0000-4000-8000-000000000000"],
     "--interval must be between 0.5 and 86400 (got 0.4)"),
])
def test_a_bad_number_is_one_message_with_the_command_s_help_hint_and_nothing_is_sent(api, cli, args, message):
    result = cli(*args)
    assert result.exit_code == 2
    assert f"mcli: error: {message}\n" in result.stderr
    assert f"`mcli {' '.join(a for a in args[:2] if not a.startswith('-'))}" in result.stderr
    assert api.requests == []
