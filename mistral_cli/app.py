"""The root Typer app: global options, the registry of command groups, and `main()`.

Groups load lazily: REGISTRY names each group's module and one-line help, and only the
group being run is imported (the others appear in `mcli --help` as light placeholders), so
start-up never pays for httpx, keyring or Rich Markdown unless a command needs them.
Global options are declared once (config/global_options.py: GLOBALS, from which the root
callback's parameters are made) and taken out of argv wherever they stand, so
`mcli -v models list` and `mcli models list -v` both work, while a value of the command's
own option stays a value (`mcli chat --stop -v hi`). `main()` is the only place that turns
errors into messages and exit codes; "internal error" is kept for real bugs (bad input and
I/O failures get their own one-line messages).
"""

from __future__ import annotations

import importlib
import inspect
import os
import signal
import sys
from contextlib import redirect_stderr, redirect_stdout
from typing import NamedTuple, Optional

import typer

from mistral_cli import __version__
from mistral_cli.commands.shared.boundary import McliTyper
from mistral_cli.commands.shared.common_options import epilog
from mistral_cli.config.global_options import COLOR_CHOICES, GLOBALS, GlobalOptions, split_globals, wanted_command
from mistral_cli.env import Env
from mistral_cli.errors import (
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    MCLIError,
    OutputClosed,
    OutputFailed,
    Terminated,
    UsageError,
)
from mistral_cli.invoke import invoke


class Entry(NamedTuple):
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
    Entry("embeddings", "mistral_cli.commands.embeddings", "Embed texts (batched, concurrent, in input order).", group=False),
    Entry("classifiers", "mistral_cli.commands.classifiers.group", "Moderate and classify texts and chats; gate pipelines with --fail-on."),
    Entry("ocr", "mistral_cli.commands.ocr.group", "Extract Markdown (and images) from a PDF or image.", group=False),
    Entry("files", "mistral_cli.commands.files", "Upload, list, download and delete files."),
    Entry("fine-tuning", "mistral_cli.commands.fine_tuning.group", "Create, follow and manage fine-tuning jobs."),
    Entry("models", "mistral_cli.commands.models", "List, inspect, rename, archive and delete models."),
    Entry("batch", "mistral_cli.commands.batch.group", "Run many requests at once on Mistral's batch engine."),
    Entry("history", "mistral_cli.commands.history", "Browse and delete locally saved conversations."),
    Entry("usage", "mistral_cli.commands.usage", "What billed answers used and cost, from the local ledger.", group=False),
    Entry("auth", "mistral_cli.commands.auth.group", "Store, check, show and remove the API key."),
    Entry("config", "mistral_cli.commands.config", "Read and change settings and profiles."),
    Entry("api", "mistral_cli.commands.api", "Send a raw request to any API endpoint.", group=False),
    Entry("sandbox", "mistral_cli.commands.sandbox", "A local Mistral API: try mcli and test scripts with no key and no spend."),
    Entry("completion", "mistral_cli.docgen.command", "Print the shell completion script for bash, zsh or fish."),
)

HELP = """mcli: the command line for the Mistral AI API.

Global options work before or after the subcommand. The key comes from MISTRAL_API_KEY, else the OS keyring (`mcli auth login`)."""

GLOBAL_METAVARS = {"color": f"<{'|'.join(COLOR_CHOICES)}>",  # --help shows the choices, as for -o
                   "profile": "NAME", "server_url": "URL", "timeout": "SECONDS", "max_retries": "N"}

EXAMPLES = ("mcli auth login", "mcli models list", 'mcli chat "Explain SSE in one sentence"',
            "mcli -v models get mistral-small-latest -o json")


def parse_global_options(argv: list[str], command: object = None) -> tuple[GlobalOptions, list[str]]:
    """Take the global options out of ARGV, knowing COMMAND's own options (global_options.py)."""
    return split_globals(argv, command)


def _version_callback(value: bool) -> None:
    if value:
        print(f"mcli {__version__}")
        raise typer.Exit()


def _root(**_options: object) -> None:
    """mcli: the command line for the Mistral AI API."""


def _root_signature() -> inspect.Signature:
    """The root callback's parameters: --version, then one per entry of GLOBALS."""
    params = [inspect.Parameter("version", inspect.Parameter.KEYWORD_ONLY, annotation=bool,
                                default=typer.Option(False, "--version", callback=_version_callback,
                                                     is_eager=True, help="Print the version and exit."))]
    defaults = GlobalOptions()
    for option in GLOBALS:
        kind = option.type if option.takes_value else bool
        default = getattr(defaults, option.attr)
        params.append(inspect.Parameter(option.attr, inspect.Parameter.KEYWORD_ONLY,
                                        annotation=kind if default is not None else Optional[kind],
                                        default=typer.Option(default, *option.names, help=option.help,
                                                            metavar=GLOBAL_METAVARS.get(option.attr))))
    return inspect.Signature(params)


_root.__signature__ = _root_signature()  # type: ignore[attr-defined]
_root.__annotations__ = {param.name: param.annotation for param in _root.__signature__.parameters.values()}


def build_app(load: str | None = None, load_all: bool = False) -> McliTyper:
    """The root app with every registry entry: LOAD (or all) for real, the rest as placeholders."""
    root = McliTyper(help=HELP, epilog=epilog(*EXAMPLES, global_note=False), add_completion=False,
                     no_args_is_help=True,
                     context_settings={"help_option_names": ["-h", "--help"]},
                     pretty_exceptions_enable=False, rich_markup_mode="rich")
    root.callback()(_root)
    for entry in REGISTRY:
        if load_all or entry.name == load:
            importlib.import_module(entry.module).register(root)
        elif entry.group:
            root.add_typer(McliTyper(), name=entry.name, help=entry.help)
        else:
            root.command(entry.name, help=entry.help, add_help_option=False,
                         context_settings={"ignore_unknown_options": True})(_placeholder)
    return root


def _placeholder() -> None:  # pragma: no cover - replaced before it can run
    """Stands in for a command in the root help."""


def main(argv: list[str] | None = None, env: Env | None = None) -> int:
    """Run mcli with ARGV in ENV and return the exit code; never raises."""
    env = env or Env.from_process()
    env.on_billed = env.on_billed or _ledger
    argv = list(sys.argv[1:] if argv is None else argv)
    env.argv = list(argv)  # a resume hint repeats the command as given (batchrun/resume.py)
    try:
        with redirect_stdout(env.stdout), redirect_stderr(env.stderr):
            return _run(argv, env)
    finally:
        env.close()


def _ledger(env: Env, operation: str, body: object, facts: dict) -> None:
    """Every billed answer goes to the ledger (imported only when one arrives)."""
    from mistral_cli.store.ledger import note

    note(env, operation, body, facts)


def _run(argv: list[str], env: Env) -> int:
    try:
        check_argv(argv)
        command = typer.main.get_command(build_app(load=wanted_command(argv)))
        env.command_tree = command  # with env.argv, what a batch run's resume hint quotes back
        env.options, rest = parse_global_options(argv, command)
        return invoke(command, rest, env)  # usage errors come back as mcli's UsageError
    except SystemExit as exc:
        return _exit_code(exc.code)
    except OutputClosed:
        _silence_stdout()
        return EXIT_OK
    except MCLIError as exc:
        env.report(exc)
        if isinstance(exc, OutputFailed):
            _silence_stdout()
        return exc.exit_code
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_OK
    except UnicodeDecodeError as exc:
        env.report(UsageError(f"the input is not UTF-8 text ({exc.reason} at byte {exc.start})",
                              hint="convert it first, e.g. `iconv -f latin1 -t utf-8`"))
        return EXIT_USAGE
    except OSError as exc:
        env.report(os_error(exc))
        return EXIT_ERROR
    except Exception as exc:  # noqa: BLE001 - the one place that catches everything
        env.write_error(env.scrub(f"mcli: internal error: {type(exc).__name__}: {exc}\n"
                                  "(run again with --debug for the traceback)"))
        return 1


def check_argv(argv: list[str]) -> None:
    """Refuse an argument that is not UTF-8 (Python keeps its bytes as lone surrogates)."""
    for position, arg in enumerate(argv, 1):
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise UsageError(f"argument {position} is not UTF-8 text "
                             f"(byte {arg[exc.start].encode('utf-8', 'surrogateescape')[0]:#x} at "
                             f"position {exc.start})",
                             hint="pass text in UTF-8, or put it in a UTF-8 file") from None


def os_error(exc: OSError) -> MCLIError:
    """A one-line I/O error for an OSError no command turned into an MCLIError."""
    where = f": {exc.filename}" if exc.filename else ""
    return MCLIError(f"{exc.strerror or exc}{where}")


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
    """Console-script entry point: SIGTERM stops mcli as Ctrl-C does (partial answer saved,
    temporary files removed, exit 130)."""
    signal.signal(signal.SIGTERM, _interrupt)
    sys.exit(main())


def _interrupt(_signum: int, _frame: object) -> None:
    raise Terminated
