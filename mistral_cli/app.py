"""The root Typer app: global options, the registry of command groups, and `main()`.

Groups load lazily: REGISTRY names each group's module and one-line help, and only the
group being run is imported (the others appear in `mcli --help` as light placeholders), so
start-up never pays for httpx, keyring or Rich Markdown unless a command needs them.
Global options are taken out of argv wherever they stand, so `mcli -v models list` and
`mcli models list -v` both work. `main()` is the only place that turns errors into
messages and exit codes.
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from typing import Annotated, Optional

import typer

from mistral_cli import __version__
from mistral_cli.env import Env, GlobalOptions
from mistral_cli.errors import (EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, MCLIError, OutputClosed,
                               UsageError)
from mistral_cli.options import epilog


@dataclass(frozen=True)
class Entry:
    """One top-level command or group: its name, module, help, and kind."""

    name: str
    module: str
    help: str
    group: bool = True


# One visible registry; API tags first, then local groups. A new tag adds one line here.
REGISTRY: tuple[Entry, ...] = (
    Entry("chat", "mistral_cli.commands.chat", "Chat with a model; streams the answer.", group=False),
    Entry("fim", "mistral_cli.commands.fim", "Fill in the middle: complete code between a prompt and a suffix.", group=False),
    Entry("agents", "mistral_cli.commands.agents", "Talk to an agent by its id; streams the answer.", group=False),
    Entry("files", "mistral_cli.commands.files", "Upload, list, download and delete files."),
    Entry("models", "mistral_cli.commands.models", "List, inspect, rename, archive and delete models."),
    Entry("batch", "mistral_cli.commands.batch", "Run many requests at once on Mistral's batch engine."),
    Entry("history", "mistral_cli.commands.history", "Browse and delete locally saved conversations."),
    Entry("usage", "mistral_cli.commands.usage", "Token usage by model and by day, from the local history.", group=False),
    Entry("auth", "mistral_cli.commands.auth", "Store, check, show and remove the API key."),
    Entry("config", "mistral_cli.commands.config", "Read and change settings and profiles."),
    Entry("api", "mistral_cli.commands.api", "Send a raw request to any API endpoint.", group=False),
)

VALUE_OPTIONS = {"--profile": "profile", "--server-url": "server_url", "--timeout": "timeout",
                 "--max-retries": "max_retries", "--color": "color"}
FLAG_OPTIONS = {"-v": "verbose", "--verbose": "verbose", "--debug": "debug"}
COLOR_CHOICES = ("auto", "always", "never")

HELP = """mcli: the command line for the Mistral AI API.

Global options work before or after the subcommand. The key comes from MISTRAL_API_KEY, else the OS keyring (`mcli auth login`)."""

EXAMPLES = ("mcli auth login", "mcli models list", 'mcli chat "Explain SSE in one sentence"',
            "mcli -v models get mistral-small-latest -o json")


def _convert(option: str, attr: str, text: str) -> object:
    """TEXT parsed for global OPTION; --timeout and --max-retries by their config key's parser."""
    if attr == "color" and text not in COLOR_CHOICES:
        raise UsageError(f"{option}: invalid value {text!r} (choose from {', '.join(COLOR_CHOICES)})")
    if attr in ("timeout", "max_retries"):
        from mistral_cli.config.profiles import KEYS

        try:
            return KEYS[attr].parse(text)
        except ValueError as exc:
            raise UsageError(f"{option}: invalid value {text!r} ({exc})") from None
    return text


def parse_global_options(argv: list[str]) -> tuple[GlobalOptions, list[str]]:
    """Take the global options out of ARGV (up to a `--`); return them and the rest."""
    options = GlobalOptions()
    rest: list[str] = []
    index = 0
    while index < len(argv):
        arg = argv[index]
        if arg == "--":
            rest.extend(argv[index:])
            break
        name, has_value, inline = arg.partition("=")
        if name in VALUE_OPTIONS:
            if has_value:
                value = inline
            elif index + 1 < len(argv):
                index += 1
                value = argv[index]
            else:
                raise UsageError(f"{name} needs a value")
            setattr(options, VALUE_OPTIONS[name], _convert(name, VALUE_OPTIONS[name], value))
        elif arg in FLAG_OPTIONS:
            setattr(options, FLAG_OPTIONS[arg], True)
        else:
            rest.append(arg)
        index += 1
    return options, rest


def _version_callback(value: bool) -> None:
    if value:
        print(f"mcli {__version__}")
        raise typer.Exit()


def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version_callback, is_eager=True,
                                          help="Print the version and exit.")] = False,
    profile: Annotated[Optional[str], typer.Option("--profile", help="Profile to use (MCLI_PROFILE).")] = None,
    server_url: Annotated[Optional[str], typer.Option("--server-url", help="API base URL (MISTRAL_SERVER_URL).")] = None,
    timeout: Annotated[Optional[float], typer.Option("--timeout", help="Read timeout in seconds (120).")] = None,
    max_retries: Annotated[Optional[int], typer.Option("--max-retries", help="Retries on 429, 5xx and connection errors (3).")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Print each request to stderr.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Also print tracebacks.")] = False,
    color: Annotated[str, typer.Option("--color", help="auto, always or never.")] = "auto",
) -> None:
    """mcli: the command line for the Mistral AI API."""


def wanted_command(rest: list[str]) -> str | None:
    """The top-level command named in REST, if any."""
    for arg in rest:
        if arg == "--":
            return None
        if not arg.startswith("-"):
            return arg
    return None


def build_app(load: str | None = None, load_all: bool = False) -> typer.Typer:
    """The root app with every registry entry: LOAD (or all) for real, the rest as placeholders."""
    root = typer.Typer(help=HELP, epilog=epilog(*EXAMPLES, global_note=False), add_completion=False,
                       no_args_is_help=True,
                       context_settings={"help_option_names": ["-h", "--help"]},
                       pretty_exceptions_enable=False, rich_markup_mode="rich")
    root.callback()(_root)
    for entry in REGISTRY:
        if load_all or entry.name == load:
            importlib.import_module(entry.module).register(root)
        elif entry.group:
            root.add_typer(typer.Typer(), name=entry.name, help=entry.help)
        else:
            root.command(entry.name, help=entry.help, add_help_option=False,
                         context_settings={"ignore_unknown_options": True})(_placeholder)
    return root


def _placeholder() -> None:  # pragma: no cover - replaced before it can run
    """Stands in for a command in the root help."""


def main(argv: list[str] | None = None, env: Env | None = None) -> int:
    """Run mcli with ARGV in ENV and return the exit code; never raises."""
    env = env or Env.from_process()
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        with redirect_stdout(env.stdout), redirect_stderr(env.stderr):
            return _run(argv, env)
    finally:
        env.close()


def _run(argv: list[str], env: Env) -> int:
    try:
        env.options, rest = parse_global_options(argv)
        command = typer.main.get_command(build_app(load=wanted_command(rest)))
        command.main(args=rest, prog_name="mcli", obj=env)
        return EXIT_OK
    except SystemExit as exc:
        return _exit_code(exc.code)
    except OutputClosed:
        _silence_stdout()
        return EXIT_OK
    except MCLIError as exc:
        env.report(exc)
        return exc.exit_code
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_OK
    except Exception as exc:  # noqa: BLE001 - the one place that catches everything
        if env.options.debug:
            traceback.print_exc(file=env.stderr)
        env.stderr.write(f"mcli: internal error: {type(exc).__name__}: {exc}\n"
                         "(run again with --debug for the traceback)\n")
        return 1


def _exit_code(code: object) -> int:
    if code is None:
        return EXIT_OK
    return code if isinstance(code, int) else EXIT_USAGE


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
