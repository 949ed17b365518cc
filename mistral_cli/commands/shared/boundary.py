"""The boundary with Click: mcli's subclasses of Typer's group, command and parameters.

Every group and command of the tree is made by `McliTyper` (a `typer.Typer` whose groups are
`McliGroup` and whose commands are `McliCommand`), and each of them turns the parameters Typer
made into `McliOption` and `McliArgument`. Through them mcli, not the parser Typer vendors,
decides what the user reads:

- resolution: an unknown command is refused by `McliGroup.resolve_command` from the name it was
  given: a close command name, or `mcli api` for an API tag that has no command;
- parsing: `parse_args` turns Typer's usage exceptions into mcli's UsageError from their class
  and attributes (`param`, `option_name`, `possibilities`), never from their English text, and
  refuses extra arguments itself; the value of a choice option (an enum) is checked by
  `McliOption.process_value` before Typer converts it, with one message shape
  ("--x wants one of: a, b (got 'c')"), as numbers are by `numbers.Bound`;
- usage and help: an argument is written FILE_ID, [FILE_ID] or FILE_ID... in the usage line
  with no type beside it in --help; a text option's value is named after the option
  (`--model MODEL`); a flag shows no type; a choice list too long for 80 columns
  (`<pretrain|instruct|batch_request|...>`) is shown as a short name and listed in the help.

Typer 0.28 keeps a Click type on each parameter (`param.type`), Typer 0.29 a type descriptor
(`param.type_descriptor`); the few facts mcli needs from either (choices, case, text, parser)
are read in one place, `_declared`. Nothing here imports Typer's private modules.
"""

from __future__ import annotations

import re
from typing import Any

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

from mistral_cli.errors import OptionValueError, UsageError

LONGEST_CHOICE_METAVAR = 23  # `<table|json|jsonl|text>` fits at 80 columns; longer lists do not
TEXT_TYPES = ("str", "text", "string")  # the names Typer 0.28 gives a text value's type
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


# -- the factory --------------------------------------------------------------------------------


class McliTyper(typer.Typer):
    """A `typer.Typer` whose groups are McliGroup and whose commands are McliCommand: the one
    way mcli makes a group (`app = McliTyper(help=...)`) or the root."""

    def __init__(self, **settings: Any) -> None:
        settings["cls"] = settings.get("cls") or McliGroup
        super().__init__(**settings)

    def command(self, name: str | None = None, **settings: Any) -> Any:
        """`@app.command(...)`, made as an McliCommand."""
        settings["cls"] = settings.get("cls") or McliCommand
        return super().command(name, **settings)


# -- groups and commands ------------------------------------------------------------------------


class _AdoptsParameters:
    """What a group and a command share: the parameters Typer made (their own, and the help
    option Typer adds) as mcli's McliOption and McliArgument."""

    _adopted_help: tuple[Any, Any] | None = None  # (Typer's help option, mcli's copy of it)

    def __init__(self, *args: Any, **settings: Any) -> None:
        settings["params"] = [adopt(param) for param in settings.get("params") or ()]
        super().__init__(*args, **settings)

    def get_help_option(self, ctx: typer.Context) -> Any:
        """The -h/--help option, as mcli's: the same object each time (Click orders the eager
        options it runs by identity)."""
        typer_made = super().get_help_option(ctx)  # type: ignore[misc]
        if typer_made is None:
            return None
        if self._adopted_help is None or self._adopted_help[0] is not typer_made:
            self._adopted_help = (typer_made, adopt(typer_made))
        return self._adopted_help[1]


class McliGroup(_AdoptsParameters, TyperGroup):
    """A group: its own parameters as mcli's, its usage errors and unknown commands in mcli's words."""

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:
        """Typer's parsing of the group's options; its errors in mcli's words."""
        return _parse(ctx, args, super().parse_args, strict=False)

    def resolve_command(self, ctx: typer.Context, args: list[str]) -> tuple[Any, Any, list[str]]:
        """The subcommand ARGS name; an unknown one refused from its name (a close one, or `mcli api`)."""
        name = args[0]
        if self.get_command(ctx, name) is None and not ctx.resilient_parsing:
            if not name[:1].isalnum():  # Click's rule: a word that looks like an option is parsed as options
                self.parse_args(ctx, args)
            raise unknown_command(self, ctx, name)
        return super().resolve_command(ctx, args)


class McliCommand(_AdoptsParameters, TyperCommand):
    """A command: its parameters as mcli's, its usage errors and extra arguments in mcli's words."""

    allow_extra_args = True  # Click would refuse extra arguments in its own words; parse_args does, in mcli's

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:
        """Typer's parsing of the command line; its errors and extra arguments in mcli's words."""
        return _parse(ctx, args, super().parse_args, strict=not self.context_settings.get("allow_extra_args"))


def _parse(ctx: typer.Context, args: list[str], parse_args: Any, *, strict: bool) -> list[str]:
    """Run Typer's PARSE_ARGS; its usage errors as mcli's UsageError, and, when STRICT, any
    argument left over refused."""
    try:
        rest = parse_args(ctx, args)
    except typer.TyperException as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":  # a group called bare: its help is printed
            raise
        raise usage_error(exc, ctx) from None
    except OptionValueError as exc:  # a value an option's parser (numbers.Bound, a choice) refused
        exc.hint = exc.hint or help_hint(ctx)
        raise
    if strict and rest and not ctx.resilient_parsing:
        raise UsageError(f"unexpected argument: {' '.join(escaped(str(arg)) for arg in rest)}",
                         hint=help_hint(ctx))
    return rest


# -- parameters ---------------------------------------------------------------------------------


def adopt(param: Any) -> Any:
    """PARAM (as Typer made it) as mcli's McliOption or McliArgument: a copy of its class."""
    kind = (McliArgument if isinstance(param, TyperArgument) else
            McliOption if isinstance(param, TyperOption) else None)
    if kind is None or isinstance(param, kind):
        return param
    mine = kind.__new__(kind)
    mine.__dict__.update(vars(param))
    mine.settle()
    return mine


class McliOption(TyperOption):
    """An option as mcli checks and shows it: a choice checked in mcli's words; in --help, a text
    value named after the option, no type for a flag, a long choice list listed in the help."""

    def settle(self) -> None:
        """Keep the help as declared (for the man pages); list long choices in the help shown."""
        self.declared_help = self.help
        choices = choices_of(self)
        if self.metavar is None and _too_long(choices):
            text = (self.help or "").rstrip()
            if not all(choice in text for choice in choices):
                self.help = f"{text} One of: {', '.join(choices)}.".lstrip()

    def process_value(self, ctx: typer.Context, value: Any) -> Any:
        """VALUE checked against the option's choices first (mcli's message), then Typer's way."""
        check_choice(self, value)
        return super().process_value(ctx, value)

    def shown_type(self) -> str | None:
        """What --help shows after the option's names (None: what Typer shows)."""
        if self.metavar is not None:
            return self.metavar
        if getattr(self, "is_flag", False):
            return ""  # Typer 0.29 would show <bool>
        choices = choices_of(self)
        if _too_long(choices):
            return value_name(self)
        facts = _declared(self)
        if facts.choices and not facts.parser:
            return facts.choice_metavar()
        if choices or getattr(self, "count", False) or not facts.text:
            return None
        return value_name(self)

    def make_metavar(self, ctx: typer.Context, *args: Any, **kwargs: Any) -> str:
        """The value's name in --help (Typer 0.28 asks this)."""
        shown = self.shown_type()
        return super().make_metavar(ctx, *args, **kwargs) if shown is None else shown

    def display_type_rich(self, ctx: typer.Context) -> str | None:
        """The value's name in --help (Typer 0.29 asks this)."""
        shown = self.shown_type()
        return super().display_type_rich(ctx) if shown is None else shown


class McliArgument(TyperArgument):
    """An argument as mcli checks and shows it: NAME in capitals, `[NAME]` when optional, `NAME...`
    when it takes several; no type beside a text one in --help; a choice checked in mcli's words."""

    def settle(self) -> None:
        """Name the argument in capitals; hide a text type from Typer 0.28's --help."""
        self.declared_help = self.help
        self.metavar = self.metavar or str(self.name or "arg").upper()
        kind = getattr(self, "type", None)  # Typer 0.28 asks the type, not the argument, what to show
        if kind is not None and _declared(self).text:
            self.type = _UnnamedType(kind)

    def process_value(self, ctx: typer.Context, value: Any) -> Any:
        """VALUE checked against the argument's choices first (mcli's message), then Typer's way."""
        check_choice(self, value)
        return super().process_value(ctx, value)

    def get_usage_pieces(self, ctx: typer.Context) -> list[str]:
        """FILE_ID, [FILE_ID] or FILE_ID... in the usage line (Typer writes `{file_id}`)."""
        several = self.nargs != 1 and not self.metavar.endswith("...")  # a declared `ID...` says it already
        piece = self.metavar + ("..." if several else "")
        return [piece if self.required or self.metavar.startswith("[") else f"[{piece}]"]

    def display_type_rich(self, ctx: typer.Context) -> str | None:
        """What --help shows beside the argument (Typer 0.29 asks this): nothing for text."""
        facts = _declared(self)
        if facts.choices and not facts.parser:
            return facts.choice_metavar()
        if facts.text:
            return None
        return "<path>" if facts.path else super().display_type_rich(ctx)


class _UnnamedType:
    """An argument's Click type (Typer 0.28) that converts as it does and names nothing in --help."""

    def __init__(self, kind: Any) -> None:
        self.kind = kind

    def __getattr__(self, name: str) -> Any:
        if name == "kind":  # not set yet (a copy being made)
            raise AttributeError(name)
        return getattr(self.kind, name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.kind(*args, **kwargs)

    def get_metavar(self, *args: Any, **kwargs: Any) -> str:
        """No `<str>` beside the argument."""
        return ""


def _too_long(choices: tuple[str, ...]) -> bool:
    """Whether CHOICES as `<a|b|c>` would not fit the type column at 80 columns."""
    return bool(choices) and len("|".join(choices)) + 2 > LONGEST_CHOICE_METAVAR


def value_name(param: Any) -> str:
    """MODEL for --model, FILE_ID for file_id: the value's name in --help."""
    return param_name(param).lstrip("-").upper().replace("-", "_")


def param_name(param: Any) -> str:
    """How the user spells PARAM: its long option name, or its argument's name in capitals."""
    if getattr(param, "param_type_name", "") == "argument":
        return str(getattr(param, "metavar", None) or param.name).upper()
    names = list(getattr(param, "opts", ()) or ()) or [str(param.name)]
    return max(names, key=len)


# -- what a parameter was declared as, whichever Typer made it ----------------------------------


class _Facts:
    """What mcli reads of a parameter's declared type: its choices (values as typed), whether they
    ignore case, whether it is plain text or a path, and the parser it was declared with."""

    def __init__(self, choices: Any, case_sensitive: bool, text: bool, path: bool, parser: Any) -> None:
        self.choices = tuple(str(getattr(choice, "value", choice)) for choice in choices or ())
        self.case_sensitive = case_sensitive
        self.text = text
        self.path = path
        self.parser = parser

    def choice_metavar(self) -> str:
        """`<a|b|c>`, in lower case when case does not matter (as Typer writes it)."""
        shown = self.choices if self.case_sensitive else tuple(choice.casefold() for choice in self.choices)
        return f"<{'|'.join(shown)}>"

    def accepts(self, text: str) -> bool:
        """Whether TEXT is one of the choices."""
        if self.case_sensitive:
            return text in self.choices
        return text.casefold() in {choice.casefold() for choice in self.choices}


def _declared(param: Any) -> _Facts:
    """The facts of PARAM's declared type, from Typer 0.29's type descriptor or Typer 0.28's Click type."""
    descriptor = getattr(param, "type_descriptor", None)
    if descriptor is not None:
        info = getattr(descriptor, "parameter_info", None)
        parser = getattr(info, "parser", None)
        annotation = _element(getattr(descriptor, "annotation", None))
        choices = getattr(descriptor, "choices", None) if getattr(descriptor, "is_choice", False) else None
        return _Facts(choices, bool(getattr(descriptor, "case_sensitive", True)), annotation is str and not parser,
                      bool(getattr(descriptor, "is_path", False)) or _is_path_class(annotation), parser)
    kind = getattr(param, "type", None)
    parser = getattr(kind, "func", None)
    name = getattr(kind, "name", "")
    return _Facts(getattr(kind, "choices", None), bool(getattr(kind, "case_sensitive", True)),
                  name in TEXT_TYPES, name == "path", parser)


def _element(annotation: Any) -> Any:
    """list[X] -> X (what each value is)."""
    import typing

    args = typing.get_args(annotation)
    return args[0] if typing.get_origin(annotation) in (list, tuple) and len(args) == 1 else annotation


def _is_path_class(annotation: Any) -> bool:
    from pathlib import PurePath

    return isinstance(annotation, type) and issubclass(annotation, PurePath)


def choices_of(param: Any) -> tuple[str, ...]:
    """The values PARAM offers (an enum's values as typed, or an open choice's known values): for
    the messages and help here and for the generated completions and man pages (docgen/tree.py)."""
    facts = _declared(param)
    return tuple(str(choice) for choice in getattr(facts.parser, "choices", None) or ()) or facts.choices


def parser_of(param: Any) -> Any:
    """The parser PARAM was declared with (`parser=`), or None."""
    return _declared(param).parser


def check_choice(param: Any, value: Any) -> None:
    """Refuse (exit 2) a VALUE of PARAM that is none of its declared choices; an option with a
    parser of its own (an open choice) takes any value, and None or a default passes."""
    facts = _declared(param)
    if not facts.choices or facts.parser is not None:
        return
    for item in value if isinstance(value, (list, tuple)) else (value,):
        text = None if item is None else str(getattr(item, "value", item))
        if text is not None and not facts.accepts(text):
            raise OptionValueError(f"{param_name(param)} wants one of: {', '.join(facts.choices)} (got {text!r})")


# -- usage errors in mcli's words ---------------------------------------------------------------


def help_hint(ctx: Any) -> str:
    """"`mcli files list --help` shows the options and examples"."""
    return f"`{getattr(ctx, 'command_path', None) or 'mcli'} --help` shows the options and examples"


def escaped(text: str) -> str:
    """TEXT (typed by the user) with control characters written as \\xNN."""
    return _CONTROL.sub(lambda match: f"\\x{ord(match[0]):02x}", text)


def usage_error(exc: Any, ctx: Any) -> UsageError:
    """mcli's UsageError for one of Typer's usage exceptions, from its class and attributes."""
    ctx = getattr(exc, "ctx", None) or ctx
    where = getattr(ctx, "command_path", None) or "mcli"
    kind = type(exc).__name__
    if kind == "NoSuchOption":
        return UsageError(f"unknown option {exc.option_name} for `{where}`",
                          hint=_did_you_mean(exc.option_name, getattr(exc, "possibilities", None)) or help_hint(ctx))
    if kind == "BadOptionUsage":
        return bad_option_usage(ctx, exc.option_name) or _as_is(exc, ctx)
    param = getattr(exc, "param", None)
    if kind == "MissingParameter" and param is not None:
        what = f": {param.help}" if getattr(param, "help", None) else ""
        return UsageError(f"missing {param_name(param)}{what}", hint=help_hint(ctx))
    if kind == "BadParameter" and param is not None and choices_of(param):
        return UsageError(f"{param_name(param)} wants one of: {', '.join(choices_of(param))}", hint=help_hint(ctx))
    if param is not None:
        message = _message(exc)
        return UsageError(f"{param_name(param)}: {message[:1].lower() + message[1:]}", hint=help_hint(ctx))
    return _as_is(exc, ctx)


def bad_option_usage(ctx: Any, option_name: str) -> UsageError | None:
    """An option OPTION_NAME written wrongly: a value missing, or one given to a flag."""
    command = getattr(ctx, "command", None)
    for param in command.get_params(ctx) if command is not None else ():
        if option_name in (*getattr(param, "opts", ()), *getattr(param, "secondary_opts", ())):
            if getattr(param, "is_flag", False) or getattr(param, "count", False):
                return UsageError(f"option {option_name!r} does not take a value", hint=help_hint(ctx))
            return UsageError(f"{option_name} needs a value", hint=help_hint(ctx))
    return None


def _message(exc: Any) -> str:
    """Typer's own message, for a case mcli has no words of its own for (passed on, not read)."""
    return str(getattr(exc, "message", exc)).strip()


def _as_is(exc: Any, ctx: Any) -> UsageError:
    """Typer's message as a sentence of mcli's (lower case first, no full stop)."""
    message = _message(exc)
    return UsageError(message[:1].lower() + message[1:].rstrip("."), hint=help_hint(ctx))


def unknown_command(group: Any, ctx: Any, name: str) -> UsageError:
    """An unknown command NAME under GROUP: a close command, or `mcli api` for an API tag."""
    import difflib

    where = getattr(ctx, "command_path", None) or "mcli"
    commands = list(group.list_commands(ctx))
    without = _tags_without_command(commands) if ctx.parent is None else {}
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
