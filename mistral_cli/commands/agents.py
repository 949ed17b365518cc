"""`mcli agents AGENT_ID [PROMPT]`: POST /v1/agents/completions, with everything chat has but
the model settings (an agent brings its own model, temperature and safety prompt)."""

from __future__ import annotations

from typing import Annotated

import typer

from mistral_cli.commands.shared import generation_options as o
from mistral_cli.commands.shared.common_options import env_of, epilog
from mistral_cli.commands.shared.spending import EstimateOpt, MaxCostOpt, guard_generation
from mistral_cli.generation.args import GenArgs, GenOutput

EXAMPLES = (
    'mcli agents ag:3996db2b:20240805:my-agent:a1b2c3d4 "Draft a reply to this ticket"',
    'cat ticket.txt | mcli agents ag:3996db2b:20240805:my-agent:a1b2c3d4 "Classify this"',
    'mcli agents ag:3996db2b:20240805:my-agent:a1b2c3d4 -c "Shorter, please"',
    "mcli agents ag:3996db2b:20240805:my-agent:a1b2c3d4 -c --tool-result D681PevKs=42",
    "mcli agents ag:3996db2b:20240805:my-agent:a1b2c3d4 -i",
)

AgentArg = Annotated[str, typer.Argument(help="The agent's id.", show_default=False)]


def register(root: typer.Typer) -> None:
    """Add the `agents` command to the root app."""
    root.command("agents", epilog=epilog(*EXAMPLES))(agents)


def agents(
    ctx: typer.Context,
    agent_id: AgentArg,
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
    max_tokens: o.MaxTokensOpt = None,
    stop: o.StopOpt = None,
    seed: o.SeedOpt = None,
    n: o.NOpt = None,
    presence_penalty: o.PresenceOpt = None,
    frequency_penalty: o.FrequencyOpt = None,
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
    """Talk to an agent by its id; the answer streams to stdout and the exchange is saved."""
    from mistral_cli.generation.endpoints import AGENTS
    from mistral_cli.generation.run import run

    if not agent_id.strip():
        from mistral_cli.errors import UsageError

        raise UsageError("AGENT_ID must not be empty")
    args = GenArgs.from_params(ctx.params)
    guard_generation(env_of(ctx), args.max_cost, args.estimate, args.n, args.output)
    run(env_of(ctx), args, AGENTS)
