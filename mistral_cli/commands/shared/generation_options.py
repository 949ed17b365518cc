"""Typer option aliases shared by `chat` and `agents` (and some by `fim`).

Each alias carries its help text, so the two commands declare the same options with one
line each; `GenArgs.from_params` then takes them by name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from mistral_cli.commands.shared.common_options import number_option
from mistral_cli.generation.args import RANGES, GenOutput

INPUT = "Input"
SAMPLING = "Sampling"
FORMAT = "Response format"
TOOLS = "Tools"
CONVERSATION = "Conversation"
OUTPUT = "Output"

PromptArg = Annotated[Optional[str], typer.Argument(
    help="The prompt. Text piped on stdin is added after it, separated by a blank line.",
    show_default=False)]

ModelOpt = Annotated[Optional[str], typer.Option(
    "--model", "-m", help="Model id (default: the profile's model.chat, else mistral-small-latest).",
    rich_help_panel=SAMPLING, show_default=False)]
SystemOpt = Annotated[Optional[str], typer.Option(
    "--system", "-s", help="System prompt (on a continued conversation it replaces the earlier one).",
    rich_help_panel=INPUT, show_default=False)]
SystemFileOpt = Annotated[Optional[Path], typer.Option(
    "--system-file", metavar="FILE|-", help="Read the system prompt from FILE ('-' = stdin).",
    rich_help_panel=INPUT, show_default=False)]
MessagesOpt = Annotated[Optional[Path], typer.Option(
    "--messages", metavar="FILE|-",
    help="A whole message list: a JSON array or JSONL, one message per line ('-' = stdin).",
    rich_help_panel=INPUT, show_default=False)]
BodyOpt = Annotated[Optional[Path], typer.Option(
    "--body", metavar="FILE|-",
    help="A JSON object that forms the base of the request body; options are set on top.",
    rich_help_panel=INPUT, show_default=False)]
NoStdinOpt = Annotated[bool, typer.Option(
    "--no-stdin", help="Do not read piped stdin as part of the prompt.", rich_help_panel=INPUT)]
AttachOpt = Annotated[Optional[list[str]], typer.Option(
    "--attach", "-a", metavar="PATH|URL",
    help="Attach an image (PNG, JPEG, GIF, WebP) or a PDF, local or by URL (repeatable). "
         "A local PDF is uploaded (purpose ocr); a URL ending in .pdf is a document.",
    rich_help_panel=INPUT, show_default=False)]
DocOpt = Annotated[Optional[list[str]], typer.Option(
    "--doc", metavar="URL|PATH",
    help="Attach a document, whatever its name (repeatable); a local file is uploaded.",
    rich_help_panel=INPUT, show_default=False)]
PrefixOpt = Annotated[Optional[str], typer.Option(
    "--prefix", help="Make the answer start with TEXT (a final assistant message with prefix: true).",
    rich_help_panel=INPUT, show_default=False)]

TemperatureOpt = Annotated[Optional[float], number_option(
    RANGES["temperature"], help="Sampling temperature.", rich_help_panel=SAMPLING, show_default=False)]
TopPOpt = Annotated[Optional[float], number_option(
    RANGES["top_p"], help="Nucleus sampling probability mass.", rich_help_panel=SAMPLING, show_default=False)]
MaxTokensOpt = Annotated[Optional[int], number_option(
    RANGES["max_tokens"], help="Most tokens to generate.", rich_help_panel=SAMPLING, show_default=False)]
StopOpt = Annotated[Optional[list[str]], typer.Option(
    "--stop", help="Stop when this text is generated (repeatable).", rich_help_panel=SAMPLING,
    show_default=False)]
SeedOpt = Annotated[Optional[int], number_option(
    RANGES["random_seed"], help="Random seed (random_seed) for repeatable answers.",
    rich_help_panel=SAMPLING, show_default=False)]
NOpt = Annotated[Optional[int], number_option(
    RANGES["n"], help="Number of answers; above 1 nothing streams and each answer is printed "
                      "under a header.", rich_help_panel=SAMPLING, show_default=False)]
PresenceOpt = Annotated[Optional[float], number_option(
    RANGES["presence_penalty"], help="Penalise words already present.", rich_help_panel=SAMPLING,
    show_default=False)]
FrequencyOpt = Annotated[Optional[float], number_option(
    RANGES["frequency_penalty"], help="Penalise frequent words.", rich_help_panel=SAMPLING,
    show_default=False)]
SafePromptOpt = Annotated[bool, typer.Option(
    "--safe-prompt", help="Inject the safety prompt before the conversation.", rich_help_panel=SAMPLING)]
PredictionOpt = Annotated[Optional[str], typer.Option(
    "--prediction", help="Expected output (predicted outputs speed up small edits).",
    rich_help_panel=SAMPLING, show_default=False)]
PredictionFileOpt = Annotated[Optional[Path], typer.Option(
    "--prediction-file", metavar="FILE|-", help="Read the expected output from FILE.",
    rich_help_panel=SAMPLING, show_default=False)]

JsonModeOpt = Annotated[bool, typer.Option(
    "--json-mode", help="Ask for a JSON object (response_format json_object); say so in the prompt too.",
    rich_help_panel=FORMAT)]
SchemaOpt = Annotated[Optional[Path], typer.Option(
    "--schema", metavar="FILE|-",
    help="Answer in JSON following this JSON Schema (a bare schema, or {name, schema, strict, "
         "description}).", rich_help_panel=FORMAT, show_default=False)]
SchemaNameOpt = Annotated[Optional[str], typer.Option(
    "--schema-name", help="Name of the --schema (default: its name or title, else 'response').",
    rich_help_panel=FORMAT, show_default=False)]
StrictOpt = Annotated[bool, typer.Option(
    "--strict", help="Follow the --schema strictly.", rich_help_panel=FORMAT)]

ToolOpt = Annotated[Optional[list[Path]], typer.Option(
    "--tool", metavar="FILE",
    help="A tool: a JSON function definition {name, description, parameters} or a Tool object "
         "(repeatable).", rich_help_panel=TOOLS, show_default=False)]
ToolsOpt = Annotated[Optional[Path], typer.Option(
    "--tools", metavar="FILE|-", help="A JSON array of tools (function definitions or Tool objects).",
    rich_help_panel=TOOLS, show_default=False)]
ToolChoiceOpt = Annotated[Optional[str], typer.Option(
    "--tool-choice", metavar="MODE",
    help="Whether and which tool the model must call: auto, none, any, required, or a function's name.",
    rich_help_panel=TOOLS, show_default=False)]
NoParallelOpt = Annotated[bool, typer.Option(
    "--no-parallel-tool-calls", help="At most one tool call per answer.", rich_help_panel=TOOLS)]
ToolResultOpt = Annotated[Optional[list[str]], typer.Option(
    "--tool-result", metavar="CALL_ID=TEXT",
    help="The result of a tool call the model asked for; sends it and asks again (with -c or "
         "--cid; repeatable).", rich_help_panel=TOOLS, show_default=False)]
ToolResultFileOpt = Annotated[Optional[list[str]], typer.Option(
    "--tool-result-file", metavar="CALL_ID=FILE",
    help="Like --tool-result, the result read from FILE ('-' = stdin; repeatable).",
    rich_help_panel=TOOLS, show_default=False)]

ContinueOpt = Annotated[bool, typer.Option(
    "--continue", "-c", help="Continue the latest conversation.", rich_help_panel=CONVERSATION)]
CidOpt = Annotated[Optional[str], typer.Option(
    "--cid", metavar="ID", help="Continue conversation ID, or start one under that id.",
    rich_help_panel=CONVERSATION, show_default=False)]
NoLogOpt = Annotated[bool, typer.Option(
    "--no-log", help="Save nothing in the local history.", rich_help_panel=CONVERSATION)]
InteractiveOpt = Annotated[bool, typer.Option(
    "--interactive", "-i", help="Chat in a loop (line editing, /help for commands).",
    rich_help_panel=CONVERSATION)]

NoStreamOpt = Annotated[bool, typer.Option(
    "--no-stream", help="Wait for the whole answer instead of streaming it.", rich_help_panel=OUTPUT)]
NoMarkdownOpt = Annotated[bool, typer.Option(
    "--no-markdown", help="On a terminal, print raw text instead of rendered Markdown.",
    rich_help_panel=OUTPUT)]
GenOutputOpt = Annotated[GenOutput, typer.Option(
    "--output", "-o", help="text: the answer; json: one chat.completion object; jsonl: each stream "
                           "chunk as it arrives.", case_sensitive=False, rich_help_panel=OUTPUT)]
