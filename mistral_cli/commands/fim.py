"""`mcli fim [PROMPT]`: POST /v1/fim/completions, fill in the middle between a prompt and a suffix."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from mistral_cli.commands.shared import generation_options as o
from mistral_cli.commands.shared.common_options import env_of, epilog, number_option
from mistral_cli.generation.args import RANGES, GenOutput

EXAMPLES = (
    'mcli fim "def fibonacci(n: int) -> int:" --suffix "print(fibonacci(10))"',
    "mcli fim --prompt-file head.py --suffix-file tail.py --max-tokens 200",
    "cat head.py | mcli fim --max-tokens 64 --stop $'\\n\\n'",
    "mcli fim --cursor '<|cursor|>' --file src/app.py   # only the completion",
)

FimPromptArg = Annotated[Optional[str], typer.Argument(
    help="The code before the gap (taken literally). Else --prompt-file, or stdin.", show_default=False)]
PromptFileOpt = Annotated[Optional[Path], typer.Option(
    "--prompt-file", metavar="FILE|-", help="Read the prompt from FILE.", rich_help_panel=o.INPUT,
    show_default=False)]
SuffixOpt = Annotated[Optional[str], typer.Option(
    "--suffix", help="The code after the gap.", rich_help_panel=o.INPUT, show_default=False)]
SuffixFileOpt = Annotated[Optional[Path], typer.Option(
    "--suffix-file", metavar="FILE|-", help="Read the suffix from FILE.", rich_help_panel=o.INPUT,
    show_default=False)]
CursorOpt = Annotated[Optional[str], typer.Option(
    "--cursor", metavar="MARKER", help="With --file: split the file at MARKER into prompt and suffix, "
    "and print only the completion (for editors).", rich_help_panel=o.INPUT, show_default=False)]
FileOpt = Annotated[Optional[Path], typer.Option(
    "--file", metavar="PATH", help="With --cursor: the file to complete inside.", rich_help_panel=o.INPUT,
    show_default=False)]
FimModelOpt = Annotated[Optional[str], typer.Option(
    "--model", "-m", help="Model id (default: the profile's model.fim, else codestral-latest).",
    rich_help_panel=o.SAMPLING, show_default=False)]
MinTokensOpt = Annotated[Optional[int], number_option(
    RANGES["min_tokens"], help="Fewest tokens to generate.", rich_help_panel=o.SAMPLING, show_default=False)]
NoLogOpt = Annotated[bool, typer.Option(
    "--no-log", help="Save nothing in the local history.", rich_help_panel=o.OUTPUT)]


def register(root: typer.Typer) -> None:
    """Add the `fim` command to the root app."""
    root.command("fim", epilog=epilog(*EXAMPLES))(fim)


def fim(
    ctx: typer.Context,
    prompt: FimPromptArg = None,
    prompt_file: PromptFileOpt = None,
    suffix: SuffixOpt = None,
    suffix_file: SuffixFileOpt = None,
    cursor: CursorOpt = None,
    file: FileOpt = None,
    body: o.BodyOpt = None,
    no_stdin: o.NoStdinOpt = False,
    model: FimModelOpt = None,
    temperature: o.TemperatureOpt = None,
    top_p: o.TopPOpt = None,
    max_tokens: o.MaxTokensOpt = None,
    min_tokens: MinTokensOpt = None,
    stop: o.StopOpt = None,
    seed: o.SeedOpt = None,
    no_stream: o.NoStreamOpt = False,
    no_log: NoLogOpt = False,
    output: o.GenOutputOpt = GenOutput.text,
) -> None:
    """Fill in the middle: complete code between a prompt and a suffix; streams the completion."""
    from mistral_cli.generation.fim import FimArgs, run_fim

    run_fim(env_of(ctx), FimArgs.from_params(ctx.params))
