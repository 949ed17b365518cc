"""Running the command tree in mcli's own words: bare `mcli`, unknown commands, bad values.

Typer (through the parser it vendors) reports usage errors in its own dialect, inside a
Rich panel ("Invalid value for '--page': 'x' is not a valid int."). `invoke` runs the command
with standalone mode off, so those errors reach mcli as Typer's public exception
(`typer.TyperException`), and turns each into mcli's UsageError, which app.main prints like
any other error: the option, what it wants, the choices, a close command name, or `mcli api`
for an API tag that has no command yet. The exceptions are read through their attributes
only (`ctx`, `param`, `option_name`, ...; the class by its name, as Typer itself does for
NoArgsIsHelpError): nothing here imports Typer's private modules.

A group called without a command (bare `mcli`, `mcli files`) prints its help and exits 0.
Before anything runs, `tidy_help` gives an option whose choices would make a long metavar
(`<pretrain|instruct|batch_request|...>`, which Rich breaks mid-word at 80 columns and which
squeezes the option names until they are cut) a short one named after the option, and lists
the choices in its help instead, whoever declared the option. It also names what Typer
would show as `<str>`: a text option's value after the option (`--model MODEL`), an argument
by its upper-case name (`FILE_ID`, no type column), written in the usage line as
`FILE_ID`, `[FILE_ID]` or `FILE_ID...` rather than Typer's `{file_id}`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import typer

from mistral_cli.errors import EXIT_OK, OptionValueError, UsageError

if TYPE_CHECKING:  # pragma: no cover
    from mistral_cli.env import Env

TYPE_WANTS = {"float": "a number", "float range": "a number", "integer": "a whole number",
              "int": "a whole number", "integer range": "a whole number", "int range": "a whole number",
              "boolean": "true or false", "uuid": "a UUID"}
QUOTED = r"""('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")"""
LONGEST_CHOICE_METAVAR = 23  # `<table|json|jsonl|text>` fits at 80 columns; longer lists do not
TEXT_TYPES = ("str", "text", "string")  # the type names Typer shows as `<str>`


def invoke(command: Any, args: list[str], env: "Env") -> int:
    """Run COMMAND (the root of the tree) with ARGS; return the exit code, or raise UsageError."""
    tidy_help(command)
    try:
        result = command.main(args=args, prog_name="mcli", obj=env, standalone_mode=False)
    except typer.TyperException as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":
            return EXIT_OK  # no command given: the help is printed, as asked for
        raise usage_error(exc) from None
    except typer.Abort:
        raise KeyboardInterrupt from None
    except OptionValueError as exc:
        exc.hint = exc.hint or f"`{command_path(command, args)} --help` shows the options and examples"
        raise
    return result if isinstance(result, int) and not isinstance(result, bool) else EXIT_OK


def command_path(command: Any, args: list[str]) -> str:
    """`mcli files list`: the command ARGS name under COMMAND (the root), for a hint."""
    path = ["mcli"]
    for arg in args:
        sub = (getattr(command, "commands", None) or {}).get(arg)
        if sub is not None:
            path.append(arg)
            command = sub
    return " ".join(path)


def tidy_help(command: Any) -> None:
    """Short, plain metavars for the options and arguments of COMMAND and below."""
    for param in getattr(command, "params", ()):
        kind = getattr(param, "param_type_name", "")
        if kind == "argument":
            name_argument(param)
        elif kind == "option" and not getattr(param, "metavar", None):
            name_option_value(param)
    for sub in (getattr(command, "commands", None) or {}).values():
        tidy_help(sub)


def name_option_value(param: Any) -> None:
    """A metavar named after option PARAM for a long choice list (listed in its help) or text."""
    choices = choices_of(param)
    is_text = getattr(getattr(param, "type", None), "name", "") in TEXT_TYPES
    if choices and len("|".join(choices)) + 2 > LONGEST_CHOICE_METAVAR:
        text = (getattr(param, "help", None) or "").rstrip()
        if not all(choice in text for choice in choices):
            param.help = f"{text} One of: {', '.join(choices)}.".lstrip()
    elif choices or not is_text or getattr(param, "is_flag", False) or getattr(param, "count", False):
        return
    param.metavar = param_name(param).lstrip("-").upper().replace("-", "_")


def name_argument(param: Any) -> None:
    """Argument PARAM as NAME: no `<str>` type beside it, no braces around it in the usage line."""
    name = getattr(param, "metavar", None) or str(param.name or "arg").upper()
    param.metavar = name
    piece = name + ("..." if getattr(param, "nargs", 1) != 1 else "")
    piece = piece if getattr(param, "required", False) or name.startswith("[") else f"[{piece}]"
    param.get_usage_pieces = lambda ctx: [piece]  # what the usage line writes for it
    if getattr(getattr(param, "type", None), "name", "") in TEXT_TYPES:
        import copy

        plain = copy.copy(param.type)  # the type is shared: change a copy, for this argument only
        plain.get_metavar = lambda *args, **kwargs: ""  # an empty type column instead of `<str>`
        param.type = plain


def usage_error(exc: Any) -> UsageError:
    """mcli's UsageError for one of Typer's usage exceptions."""
    ctx = getattr(exc, "ctx", None)
    where = getattr(ctx, "command_path", None) or "mcli"
    help_hint = f"`{where} --help` shows the options and examples"
    kind = type(exc).__name__
    message = str(getattr(exc, "message", exc)).strip()
    unknown = re.match(rf"No such command {QUOTED}", message)
    if unknown:
        import ast

        return unknown_command(ctx, ast.literal_eval(unknown.group(1)), where)
    if kind == "NoSuchOption":
        return UsageError(f"unknown option {exc.option_name} for `{where}`",
                          hint=_did_you_mean(exc.option_name, getattr(exc, "possibilities", None)) or help_hint)
    if kind == "BadOptionUsage" and "requires an argument" in message:
        return UsageError(f"{exc.option_name} needs a value", hint=help_hint)
    param = getattr(exc, "param", None)
    if param is not None:
        return UsageError(bad_parameter(kind, param, message), hint=help_hint)
    extra = re.fullmatch(r"Got unexpected extra argument(?:\(s\)|s)? \((.*)\)", message)
    if extra:
        return UsageError(f"unexpected argument: {extra.group(1)}", hint=help_hint)
    return UsageError(message[:1].lower() + message[1:].rstrip("."), hint=help_hint)


def param_name(param: Any) -> str:
    """How the user spells PARAM: its long option name, or its argument's metavar."""
    if getattr(param, "param_type_name", "") == "argument":
        return str(getattr(param, "human_readable_name", None) or param.name).upper()
    names = list(getattr(param, "opts", ()) or ()) or [str(param.name)]
    return max(names, key=len)


def choices_of(param: Any) -> tuple[str, ...]:
    """The values PARAM accepts, when it has a fixed list (an enum's values, as typed); for the
    messages here and for the generated completions and man pages (docgen/tree.py)."""
    found = getattr(getattr(param, "type", None), "choices", None) or ()
    return tuple(str(getattr(choice, "value", choice)) for choice in found)


def bad_parameter(kind: str, param: Any, message: str) -> str:
    """The message for a missing or wrong value of PARAM."""
    name = param_name(param)
    if kind == "MissingParameter":
        what = f": {param.help}" if getattr(param, "help", None) else ""
        return f"missing {name}{what}"
    got = re.search(rf"{QUOTED} is not\b", message)
    value = f" (got {got.group(1)})" if got else ""
    choices = choices_of(param)
    if choices:
        return f"{name} wants one of: {', '.join(choices)}{value}"
    wants = TYPE_WANTS.get(getattr(getattr(param, "type", None), "name", ""))
    if wants and got:
        return f"{name} wants {wants}{value}"
    return f"{name}: {message[:1].lower() + message[1:]}"


def unknown_command(ctx: Any, name: str, where: str) -> UsageError:
    """An unknown command NAME under WHERE: a close command, or `mcli api` for an API tag."""
    import difflib

    commands = list(ctx.command.list_commands(ctx)) if ctx is not None else []
    at_root = where == "mcli"
    without = _tags_without_command(commands) if at_root else {}
    close = difflib.get_close_matches(name, [*commands, *without], n=1, cutoff=0.6)
    target = name if name in without else (close[0] if close else None)
    if target in without:
        method, path = without[target].split(" ", 1)
        body = " --body request.json" if method != "GET" else ""
        return UsageError(f"`mcli {name}`: mcli has no {target} command yet",
                          hint=f"send the request with `mcli api`: mcli api {method} {path}{body}")
    hint = f"did you mean `{where} {target}`?" if target else f"`{where} --help` lists the commands"
    return UsageError(f"unknown command {name!r} for `{where}`", hint=hint)


def _tags_without_command(commands: list[str]) -> dict[str, str]:
    """The spec's tags that are not a command (yet), with one of their operations."""
    from mistral_cli.api.tags import API_TAGS

    return {tag: operation for tag, operation in API_TAGS.items() if tag not in commands}


def _did_you_mean(name: str, possibilities: Any) -> str | None:
    """'did you mean --x?' for the closest of POSSIBILITIES to NAME (or all of them)."""
    import difflib

    names = sorted(possibilities or ())
    names = difflib.get_close_matches(name, names, n=1) or names
    return f"did you mean {' or '.join(names)}?" if names else None
