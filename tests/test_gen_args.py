"""GenArgs/FimArgs take every option their commands declare: none is silently dropped."""

from __future__ import annotations

import pytest
import typer

from mistral_cli.app import build_app
from mistral_cli.generation.args import GenArgs, GenOutput
from mistral_cli.generation.fim import FimArgs


def command_params(name: str) -> set[str]:
    """The parameter names of the top-level command NAME, as Click hands them to it."""
    command = typer.main.get_command(build_app(load=name)).commands[name]
    return {param.name for param in command.params}


@pytest.mark.parametrize("name, args_class", [("chat", GenArgs), ("agents", GenArgs), ("fim", FimArgs)])
def test_every_option_of_the_command_has_a_field(name, args_class):
    fields = set(args_class.__dataclass_fields__)
    assert command_params(name) - fields == set()


def test_an_option_without_a_field_fails_loudly():
    with pytest.raises(TypeError, match="no_such_option"):
        GenArgs.from_params({"prompt": "hi", "no_such_option": 1})


def test_enum_options_arrive_as_members_whatever_the_parser_hands_over():
    args = GenArgs.from_params({"output": "json", "stop": None})
    assert args.output is GenOutput.json
    assert args.stop == []
