"""The tools a run may execute: `--tool-exec NAME=COMMAND` (or a profile's `tools.NAME`), the
limits each run gets, and the checks made before anything is sent.

Only the names given with --tool-exec are ever run. COMMAND is split like a shell word list
(shlex) and run without a shell. Off a terminal mcli cannot ask before a run, so without
--yes the command stops here (exit 2) with nothing sent and nothing run.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from mistral_cli.errors import UsageError
from mistral_cli.generation.args import GenArgs
from mistral_cli.generation.tool_exec import Limits, clean_environ

if TYPE_CHECKING:  # pragma: no cover
    from mistral_cli.env import Env

TOOL_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")  # a function name the API accepts
DEFAULT_TIMEOUT = 30.0
DEFAULT_CAP = 64 * 1024
DEFAULT_MAX_STEPS = 10
NOT_ON_A_TERMINAL = ("--tool-exec: mcli cannot ask before running a tool (stdin and stderr are not "
                     "both a terminal); nothing was sent or run")
YES_HINT = "add --yes to run the allowed tools without asking"


@dataclass(eq=False)  # compared by identity; skipping the generated __eq__ keeps start-up short
class ToolBox:
    """The allowed tools ({name: argv}), each run's limits, and who approves a run."""

    commands: dict[str, list[str]]
    limits: Limits
    max_steps: int = DEFAULT_MAX_STEPS
    ask: bool = True  # False with --yes
    always: set[str] = field(default_factory=set)  # names approved for the rest of the run
    read_line: Callable[[str], str] | None = None  # the REPL's line reader; else stdin

    def allowed(self, name: object) -> bool:
        """Whether NAME is one of the tools the user allowed."""
        return isinstance(name, str) and name in self.commands


def tool_box(env: "Env", args: GenArgs) -> ToolBox | None:
    """The ToolBox ARGS ask for (None without --tool-exec); refuses bad specs, a missing
    working folder, and a run off a terminal without --yes (exit 2, before anything is sent)."""
    if not args.tool_exec:
        return None
    commands = parse_specs(args.tool_exec, profile_tools(env))
    if not args.yes and not (env.stdin_isatty and env.stderr_isatty):
        raise UsageError(NOT_ON_A_TERMINAL, hint=YES_HINT)
    cwd = Path(args.tool_cwd) if args.tool_cwd is not None else Path.cwd()
    if not cwd.is_dir():
        raise UsageError(f"--tool-cwd: {cwd} is not a folder")
    limits = Limits(timeout=DEFAULT_TIMEOUT if args.tool_timeout is None else float(args.tool_timeout),
                    cap=DEFAULT_CAP, cwd=cwd, environ={})
    steps = DEFAULT_MAX_STEPS if args.max_steps is None else int(args.max_steps)
    return ToolBox(commands, limits, max_steps=steps, ask=not args.yes)


def tool_environ(env: "Env") -> dict[str, str]:
    """The environment a tool runs with: mcli's, minus every variable mcli masks and any
    variable that holds the key in use or a secret a request carried."""
    from mistral_cli.config.credentials import SECRET_ENV_VARS

    environ = env.environ or {}
    used = env._credential.key if env._credential is not None else None  # noqa: SLF001 - read only
    values = [environ.get(name) for name in SECRET_ENV_VARS]
    return clean_environ(environ, SECRET_ENV_VARS, [used, *values, *env.sent_secrets])


def profile_tools(env: "Env") -> dict[str, str]:
    """The active profile's `tools.NAME = "COMMAND"` table."""
    return env.config.tool_commands(env.known_profile())


def parse_specs(specs: list[str], profile: dict[str, str]) -> dict[str, list[str]]:
    """{name: argv} from NAME=COMMAND specs; a bare NAME takes the profile's command."""
    commands: dict[str, list[str]] = {}
    for spec in specs:
        name, has_equals, command = spec.partition("=")
        name = name.strip()
        if not TOOL_NAME.fullmatch(name):
            raise UsageError(f"--tool-exec: {name!r} is not a tool name (letters, digits, '_' and '-', "
                             "up to 64)", hint="write --tool-exec NAME=COMMAND")
        if name in commands:
            raise UsageError(f"--tool-exec: tool {name} is given twice")
        if not has_equals:
            if name not in profile:
                raise UsageError(f"--tool-exec: no command for {name}: give NAME=COMMAND, or set "
                                 f"tools.{name} in the profile")
            command = profile[name]
        commands[name] = split_command(name, command)
    return commands


def split_command(name: str, command: str) -> list[str]:
    """COMMAND as a word list, split like a shell would split it (no shell ever runs it)."""
    try:
        words = shlex.split(command)
    except ValueError as exc:
        raise UsageError(f"--tool-exec {name}: cannot split the command: {exc}") from None
    if not words:
        raise UsageError(f"--tool-exec {name}: the command is empty")
    return words


def generated_tool(name: str) -> dict:
    """The definition sent for an allowed tool that --tool/--tools do not define."""
    return {"type": "function", "function": {
        "name": name, "description": f"Runs the local tool {name}; takes a JSON object.",
        "parameters": {"type": "object", "properties": {}, "additionalProperties": True}}}


def add_definitions(body: dict, box: ToolBox) -> None:
    """Give BODY a tool definition for every allowed name it does not define yet."""
    tools = list(body.get("tools") or [])
    defined = {(tool.get("function") or {}).get("name") for tool in tools if isinstance(tool, dict)}
    tools += [generated_tool(name) for name in box.commands if name not in defined]
    body["tools"] = tools
