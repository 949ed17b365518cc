"""`mcli chat [PROMPT]`: POST /v1/chat/completions, streamed, saved, with tools and attachments."""

from __future__ import annotations

import typer

from mistral_cli.commands.shared import generation_options as o
from mistral_cli.commands.shared.common_options import env_of, epilog
from mistral_cli.commands.shared.spending import EstimateOpt, MaxCostOpt, guard_generation
from mistral_cli.generation.args import GenArgs, GenOutput

EXAMPLES = (
    'mcli chat "Explain server-sent events in one paragraph"',
    'cat notes.md | mcli chat "Summarise this" -m mistral-large-latest',
    'mcli chat -c "And in French?"',
    'mcli chat -a photo.png "What is in this picture?"',
    'mcli chat -a report.pdf "List the key figures"',
    'mcli chat --schema person.schema.json "Invent a person" -o json',
    'mcli chat --tool weather.json "Weather in Paris?"   # prints the tool call',
    'mcli chat -c --tool-result D681PevKs="22 degrees, sunny"',
    'mcli chat --tool-exec today=date "What day is it?"   # runs date',
    "mcli chat -i",
)


def register(root: typer.Typer) -> None:
    """Add the `chat` command to the root app."""
    root.command("chat", epilog=epilog(*EXAMPLES))(chat)


def chat(
    ctx: typer.Context,
    prompt: o.PromptArg = None,
    system: o.SystemOpt = None,
    system_file: o.SystemFileOpt = None,
    messages: o.MessagesOpt = None,
    body: o.BodyOpt = None,
    body_fields: o.FieldOpt = None,
    no_stdin: o.NoStdinOpt = False,
    attach: o.AttachOpt = None,
    doc: o.DocOpt = None,
    prefix: o.PrefixOpt = None,
    model: o.ModelOpt = None,
    temperature: o.TemperatureOpt = None,
    top_p: o.TopPOpt = None,
    max_tokens: o.MaxTokensOpt = None,
    stop: o.StopOpt = None,
    seed: o.SeedOpt = None,
    n: o.NOpt = None,
    presence_penalty: o.PresenceOpt = None,
    frequency_penalty: o.FrequencyOpt = None,
    safe_prompt: o.SafePromptOpt = False,
    prediction: o.PredictionOpt = None,
    prediction_file: o.PredictionFileOpt = None,
    json_mode: o.JsonModeOpt = False,
    schema: o.SchemaOpt = None,
    schema_name: o.SchemaNameOpt = None,
    strict: o.StrictOpt = False,
    tool: o.ToolOpt = None,
    tools: o.ToolsOpt = None,
    tool_choice: o.ToolChoiceOpt = None,
    no_parallel_tool_calls: o.NoParallelOpt = False,
    tool_result: o.ToolResultOpt = None,
    tool_result_file: o.ToolResultFileOpt = None,
    tool_exec: o.ToolExecOpt = None,
    tool_timeout: o.ToolTimeoutOpt = None,
    tool_cwd: o.ToolCwdOpt = None,
    max_steps: o.MaxStepsOpt = None,
    yes: o.ToolYesOpt = False,
    continue_conversation: o.ContinueOpt = False,
    cid: o.CidOpt = None,
    no_log: o.NoLogOpt = False,
    interactive: o.InteractiveOpt = False,
    no_stream: o.NoStreamOpt = False,
    no_markdown: o.NoMarkdownOpt = False,
    thinking: o.ThinkingOpt = o.ThinkingMode.auto,
    max_cost: MaxCostOpt = None,
    estimate: EstimateOpt = False,
    output: o.GenOutputOpt = GenOutput.text,
) -> None:
    """Chat with a model; the answer streams to stdout and the exchange is saved."""
    from mistral_cli.generation.endpoints import CHAT
    from mistral_cli.generation.run import run

    args = GenArgs.from_params(ctx.params)
    guard_generation(env_of(ctx), args.max_cost, args.estimate, args.n, args.output)
    run(env_of(ctx), args, CHAT)
