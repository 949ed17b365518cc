"""The global options (--profile, --server-url, --timeout, ...): their one declaration, the
value config and Env read, and taking them out of argv wherever they stand.

GLOBALS is the only list of them: app.py builds the root command's options (and so `--help`,
the man page and completions) from it, and `split_globals` takes them out of argv. A token
that is a value of the running command's own option is never taken for a global option:
`mcli chat --stop -v hi` sends `-v` as the stop sequence. The command is read from its
click objects (duck-typed: `.params`, and `.commands` for a group), so this module does not
load click.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from mistral_cli.errors import UsageError

COLOR_CHOICES = ("auto", "always", "never")


@dataclass(eq=False)  # compared by identity; skipping the generated __eq__ keeps start-up short
class GlobalOptions:
    """Options accepted before or after any subcommand (one field per entry of GLOBALS)."""

    profile: str | None = None
    server_url: str | None = None
    timeout: float | None = None
    max_retries: int | None = None
    allow_http: bool = False
    verbose: bool = False
    debug: bool = False
    color: str = "auto"


def _color(text: str) -> str:
    """TEXT if it is a --color choice."""
    if text not in COLOR_CHOICES:
        raise ValueError(f"choose from {', '.join(COLOR_CHOICES)}")
    return text


def _config_key(key: str) -> Callable[[str], Any]:
    """The parser of config key KEY (imported when an option is used, not at start-up)."""

    def parse(text: str) -> Any:
        from mistral_cli.config.profiles import KEYS

        return KEYS[key].parse(text)

    return parse


class GlobalOption(NamedTuple):
    """One global option: its names, the GlobalOptions field it sets, its help, and the
    parser of its value (None for a flag)."""

    names: tuple[str, ...]
    attr: str
    help: str
    parse: Callable[[str], Any] | None = None
    type: type = str

    @property
    def takes_value(self) -> bool:
        """Whether the option reads a value."""
        return self.parse is not None


GLOBALS: tuple[GlobalOption, ...] = (
    GlobalOption(("--profile",), "profile", "Profile to use (MCLI_PROFILE).", str),
    GlobalOption(("--server-url",), "server_url", "API base URL, or `sandbox`: a local API, no key (MISTRAL_SERVER_URL).", str),
    GlobalOption(("--timeout",), "timeout", "Read timeout in seconds (120).", _config_key("timeout"), float),
    GlobalOption(("--max-retries",), "max_retries", "Retries on 429, 5xx and connection errors (3).",
                 _config_key("max_retries"), int),
    GlobalOption(("--allow-http",), "allow_http",
                 "Allow a plain http:// server URL that is not this machine (the key travels unencrypted)."),
    GlobalOption(("--verbose", "-v"), "verbose", "Print each request to stderr."),
    GlobalOption(("--debug",), "debug", "Also print tracebacks."),
    GlobalOption(("--color",), "color", "auto, always or never.", _color),
)
BY_NAME = {name: option for option in GLOBALS for name in option.names}


def _command_options(command: Any) -> dict[str, bool]:
    """Each option name of COMMAND (a click command) and whether it takes a value."""
    names: dict[str, bool] = {}
    for param in getattr(command, "params", ()):
        if getattr(param, "param_type_name", "") != "option":
            continue
        takes_value = not (getattr(param, "is_flag", False) or getattr(param, "count", False))
        for name in (*param.opts, *param.secondary_opts):
            names[name] = takes_value
    return names


def _value(argv: Sequence[str], index: int, name: str, inline: str | None) -> tuple[str, int]:
    """The value of option NAME at ARGV[INDEX] (inline after '=' or the next word) and the
    index after it."""
    if inline is not None:
        return inline, index + 1
    if index + 1 >= len(argv):
        raise UsageError(f"{name} needs a value")
    return argv[index + 1], index + 2


def _convert(option: GlobalOption, name: str, text: str) -> Any:
    """TEXT parsed for global option NAME (True for a flag); a UsageError naming it."""
    try:
        return option.parse(text) if option.parse else True
    except ValueError as exc:
        raise UsageError(f"{name}: invalid value {text!r} ({exc})") from None


def split_globals(argv: Sequence[str], command: Any = None) -> tuple[GlobalOptions, list[str]]:
    """Take the global options out of ARGV (up to a `--`); return them and the rest.

    COMMAND is the root click command with the invoked command loaded: while walking argv
    into its subcommands, a word that follows one of their own value-taking options is that
    option's value and stays where it is."""
    options, rest = GlobalOptions(), []
    current, index = command, 0
    while index < len(argv):
        arg = argv[index]
        if arg == "--":
            rest.extend(argv[index:])
            break
        name, equals, inline = arg.partition("=")
        own = _command_options(current) if current is not command else {}
        if own.get(name) and not equals:
            rest.extend(argv[index:index + 2])
            index += 2
            continue
        option = BY_NAME.get(name) if name not in own else None
        if option is None or (equals and not option.takes_value):
            rest.append(arg)
            current = _subcommand(current, arg)
            index += 1
            continue
        text, index = _value(argv, index, name, inline if equals else None) if option.takes_value \
            else ("", index + 1)
        setattr(options, option.attr, _convert(option, name, text))
    return options, rest


def without_flag(argv: Sequence[str], command: Any, flag: str) -> list[str]:
    """ARGV without the words that are the flag FLAG of the (sub)command they stand in: a
    FLAG that is a value of an option, or after `--`, stays. COMMAND is as for split_globals."""
    kept: list[str] = []
    current, index = command, 0
    while index < len(argv):
        arg = argv[index]
        if arg == "--":
            return kept + list(argv[index:])
        own = _command_options(current) if current is not command else {}
        if arg == flag and own.get(flag) is False:
            index += 1
            continue
        name, equals, _inline = arg.partition("=")
        option = BY_NAME.get(name)
        takes_value = own[name] if name in own else bool(option and option.takes_value)
        step = 2 if takes_value and not equals else 1
        kept.extend(argv[index:index + step])
        if step == 1 and not arg.startswith("-"):
            current = _subcommand(current, arg)
        index += step
    return kept


def _subcommand(command: Any, word: str) -> Any:
    """The subcommand WORD of COMMAND when COMMAND is a group that has it, else COMMAND."""
    commands = getattr(command, "commands", None)
    if commands and not word.startswith("-") and word in commands:
        return commands[word]
    return command


def wanted_command(argv: Sequence[str]) -> str | None:
    """The top-level command named in ARGV (skipping global options and their values)."""
    index = 0
    while index < len(argv):
        arg = argv[index]
        if arg == "--":
            return None
        option = BY_NAME.get(arg)
        if option is not None and option.takes_value:
            index += 2
            continue
        if not arg.startswith("-"):
            return arg
        index += 1
    return None
