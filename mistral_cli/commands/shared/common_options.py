"""Shared option aliases (Annotated) and the helpers every command uses to reach its Env."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from mistral_cli.config.global_options import GLOBALS
from mistral_cli.env import Env
from mistral_cli.errors import UsageError
from mistral_cli.numbers import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, PAGE, PAGE_SIZE, Bound
from mistral_cli.render.output import OutputFormat


def number_option(bound: Bound, *names: str, help: str, metavar: str | None = None, **options: Any) -> Any:
    """The typer.Option of a numeric option: parsed and checked by BOUND alone (one message
    shape, whatever Typer version parses the command line), its range in its help."""
    return typer.Option(bound.option, *names, parser=bound.parse,
                        metavar=("N" if bound.integer else "NUMBER") if metavar is None else metavar,
                        help=f"{help.rstrip('.')} ({bound.range_text()}).", **options)


OutputOpt = Annotated[OutputFormat, typer.Option(
    "-o", "--output", help="Output format: table, json, jsonl or text (bare ids).",
    case_sensitive=False, show_default=False)]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]
PageOpt = Annotated[Optional[int], number_option(PAGE, help="Page number.", show_default=False)]
PageSizeOpt = Annotated[Optional[int], number_option(
    PAGE_SIZE, help=f"Items per page (server default {DEFAULT_PAGE_SIZE}; --all asks {MAX_PAGE_SIZE})",
    show_default=False)]
AllPagesOpt = Annotated[bool, typer.Option("--all", help="Follow every page.")]
BodyOpt = Annotated[Optional[Path], typer.Option(
    "--body", metavar="FILE|-",
    help="A JSON object that forms the base of the request body; options are set on top.")]
FIELD_HELP = ("A typed body field KEY=VALUE (repeatable): true, false, null, numbers and JSON "
              "arrays or objects are typed, a.b=c nests; set on top of --body, under the options. "
              "A field the spec does not know is sent with a warning.")
FieldOpt = Annotated[Optional[list[str]], typer.Option(
    "-F", "--field", metavar="KEY=VALUE", help=FIELD_HELP, show_default=False)]


class OpenChoice:
    """The parser of an option whose known values (the spec's enum) are offered on Tab and in
    help, while any other is taken as given: the API takes values newer than the spec, and the
    command warns once that it sends one (`warn_unknown_value`)."""

    def __init__(self, choices: Any):
        self.choices = tuple(choices)
        self.__name__ = "open_choice"

    def __call__(self, value: str) -> str:
        return value


def note_more_pages(env: Env, body: Any, shown: int) -> None:
    """On a terminal, say on stderr that the page shown (SHOWN items) is not all BODY's `total`."""
    total = body.get("total") if isinstance(body, dict) else None
    if not env.stderr_isatty or not isinstance(total, int) or isinstance(total, bool) or shown >= total:
        return
    env.err_console.print(f"[dim]{shown} of {total}; --all for every page[/dim]")


def warn_unknown_value(env: Env, option: str, value: str | None, known: tuple[str, ...]) -> None:
    """One warning line when VALUE of OPTION is outside the spec's KNOWN values; a value within a
    typo of a known one is refused, as an unknown field's name is (bodies/fields.py)."""
    from mistral_cli.bodies.fields import close_name

    if value is None or value in known:
        return
    close = close_name(value, known)
    if close:
        raise UsageError(f"{option}: {value!r} is not one of {', '.join(known)}; did you mean {close!r}?")
    env.warn(f"{option} {value} is not one of the spec's ({', '.join(known)}): sending it as given")


def env_of(ctx: typer.Context) -> Env:
    """The Env that `app.main()` put in the root context."""
    return ctx.find_root().obj


GLOBAL_OPTIONS_NOTE = ("Global options, before or after the command: "
                       + ", ".join("/".join(reversed(option.names)) for option in GLOBALS)
                       + " (see mcli --help).")


def epilog(*examples: str, global_note: bool = True, before: str = "") -> str:
    """An 'Examples' epilog for --help (after the text BEFORE), then where the global options are."""
    lines = "\n\n".join(f"  $ {example}" for example in examples)
    note = f"\n\n[dim]{GLOBAL_OPTIONS_NOTE}[/dim]" if global_note else ""
    intro = f"{before}\n\n" if before else ""
    return f"{intro}[bold]Examples[/bold]\n\n{lines}{note}"
