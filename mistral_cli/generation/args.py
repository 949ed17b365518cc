"""The parsed options of one `chat` / `agents` invocation, and the checks that need no input.

Commands hand `ctx.params` to `GenArgs.from_params`; everything after works on this one
object, so `chat` and `agents` share every step. `check()` runs before any file is read
or request sent, and names the option at fault (exit 2).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar, get_type_hints

from mistral_cli.errors import UsageError
from mistral_cli.inputs import Bound, check_bound


class GenOutput(str, Enum):
    """Values of -o/--output for generation commands."""

    text = "text"
    json = "json"
    jsonl = "jsonl"


class ThinkingMode(str, Enum):
    """Values of --thinking: where a reasoning model's thinking is shown (generation/thinking.py)."""

    auto = "auto"
    show = "show"
    hide = "hide"


TOOL_CHOICES = ("auto", "none", "any", "required")

# request field -> its option's bounds (the spec's; no maximum: inputs.NUMBER_CEILING)
RANGES: dict[str, Bound] = {
    "temperature": Bound("--temperature", 0, 1.5),
    "top_p": Bound("--top-p", 0, 1),
    "max_tokens": Bound("--max-tokens", 0, None, integer=True),
    "min_tokens": Bound("--min-tokens", 0, None, integer=True),
    "random_seed": Bound("--seed", 0, None, integer=True),
    "n": Bound("-n", 1, None, integer=True),
    "presence_penalty": Bound("--presence-penalty", -2, 2),
    "frequency_penalty": Bound("--frequency-penalty", -2, 2),
}
OPTION_FIELDS = {"temperature": "temperature", "top_p": "top_p", "max_tokens": "max_tokens",
                 "seed": "random_seed", "n": "n", "presence_penalty": "presence_penalty",
                 "frequency_penalty": "frequency_penalty"}

# the tool loop's numeric options (tools_allowed.py holds their defaults)
TOOL_TIMEOUT = Bound("--tool-timeout", 0, 86_400, exclusive_low=True)
MAX_STEPS = Bound("--max-steps", 1, 1_000, integer=True)

T = TypeVar("T")


def from_params(cls: type[T], params: dict[str, Any]) -> T:
    """Dataclass CLS from a Click context's params: None lists emptied, enum fields made
    members; a parameter CLS has no field for is a bug (an option that would do nothing)."""
    known = {f.name: f for f in fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise TypeError(f"{cls.__name__} has no field for the option(s) {', '.join(unknown)}")
    hints = get_type_hints(cls)
    return cls(**{key: _field_value(known[key], hints[key], value) for key, value in params.items()})


def _field_value(spec: Any, hint: Any, value: Any) -> Any:
    """VALUE as field SPEC (typed HINT) holds it: a list for list fields, an enum member."""
    if spec.default_factory is list:
        return list(value or [])
    if isinstance(hint, type) and issubclass(hint, Enum) and value is not None:
        return hint(value)
    return value


def given_fields(args: Any, option_fields: dict[str, str]) -> dict[str, Any]:
    """{request field: value} for the options of OPTION_FIELDS ({option name: field}) ARGS were given."""
    return {request_field: getattr(args, name) for name, request_field in option_fields.items()
            if getattr(args, name) is not None}


def check_option_ranges(args: Any, option_fields: dict[str, str]) -> None:
    """Refuse an option of OPTION_FIELDS outside the spec's bounds (RANGES), naming it."""
    for request_field, value in given_fields(args, option_fields).items():
        check_bound(value, RANGES[request_field])


@dataclass(eq=False)  # compared by identity; skipping the generated __eq__ keeps start-up short
class GenArgs:
    """Every option of `chat` and `agents` (agents leave the model-only ones unset)."""

    prompt: str | None = None
    agent_id: str | None = None
    model: str | None = None
    system: str | None = None
    system_file: Path | None = None
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    stop: list[str] = field(default_factory=list)
    seed: int | None = None
    n: int | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    safe_prompt: bool = False
    prefix: str | None = None
    prediction: str | None = None
    prediction_file: Path | None = None
    json_mode: bool = False
    schema: Path | None = None
    schema_name: str | None = None
    strict: bool = False
    tool: list[Path] = field(default_factory=list)
    tools: Path | None = None
    tool_choice: str | None = None
    no_parallel_tool_calls: bool = False
    attach: list[str] = field(default_factory=list)
    doc: list[str] = field(default_factory=list)
    messages: Path | None = None
    body: Path | None = None
    body_fields: list[str] = field(default_factory=list)
    no_stdin: bool = False
    no_stream: bool = False
    no_markdown: bool = False
    thinking: ThinkingMode = ThinkingMode.auto
    max_cost: float | None = None  # read by the command (commands/shared/spending.py), before run()
    estimate: bool = False
    output: GenOutput = GenOutput.text
    continue_conversation: bool = False
    cid: str | None = None
    no_log: bool = False
    tool_result: list[str] = field(default_factory=list)
    tool_result_file: list[str] = field(default_factory=list)
    interactive: bool = False
    tool_exec: list[str] = field(default_factory=list)
    tool_timeout: float | None = None
    tool_cwd: Path | None = None
    max_steps: int | None = None
    yes: bool = False

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> "GenArgs":
        """Build from a Click context's params (unknown names ignored, None lists emptied)."""
        return from_params(cls, params)

    # -- derived -------------------------------------------------------------------------

    @property
    def continues(self) -> bool:
        """Whether this turn continues a saved conversation (-c or --cid)."""
        return self.continue_conversation or self.cid is not None

    @property
    def has_tool_results(self) -> bool:
        """Whether --tool-result / --tool-result-file were given."""
        return bool(self.tool_result or self.tool_result_file)

    @property
    def gives_nothing(self) -> bool:
        """Whether no prompt, message, body, attachment or tool result was given (`mcli chat`
        alone: on a terminal that starts the interactive loop, as `python` does)."""
        return not (self.prompt or self.messages is not None or self.body is not None or self.attach
                    or self.doc or self.has_tool_results or self.tool_exec) \
            and self.output is GenOutput.text

    def stdin_readers(self) -> list[str]:
        """The options told to read stdin ('-')."""
        named = [("--messages", self.messages), ("--body", self.body), ("--schema", self.schema),
                 ("--system-file", self.system_file), ("--prediction-file", self.prediction_file),
                 ("--tools", self.tools)]
        readers = [option for option, value in named if value is not None and str(value) == "-"]
        readers += ["--tool" for path in self.tool if str(path) == "-"]
        readers += ["--tool-result-file" for spec in self.tool_result_file
                    if spec.partition("=")[2] == "-"]
        return readers

    # -- checks --------------------------------------------------------------------------

    def check(self) -> None:
        """Refuse bad values and conflicting options before reading anything (exit 2)."""
        check_option_ranges(self, OPTION_FIELDS)
        self._check_conflicts()
        self._check_tool_choice()
        self._check_tool_exec()
        readers = self.stdin_readers()
        if len(readers) > 1:
            raise UsageError(f"only one option can read stdin ('-'); got {', '.join(readers)}")

    def _check_conflicts(self) -> None:
        pairs = [
            (self.system is not None and self.system_file is not None, "-s/--system", "--system-file"),
            (self.prediction is not None and self.prediction_file is not None,
             "--prediction", "--prediction-file"),
            (self.json_mode and self.schema is not None, "--json-mode", "--schema"),
            (self.continue_conversation and self.cid is not None, "-c/--continue", "--cid"),
            (self.interactive and self.has_tool_results, "-i/--interactive", "--tool-result"),
            (self.interactive and self.output is not GenOutput.text, "-i/--interactive", "-o json/jsonl"),
            (self.interactive and bool(self.attach or self.doc), "-i/--interactive", "-a/--attach or --doc"),
            (self.interactive and self.messages is not None, "-i/--interactive", "--messages"),
        ]
        for clash, first, second in pairs:
            if clash:
                raise UsageError(f"{first} and {second} cannot be used together")
        for flag, name in ((self.strict, "--strict"), (self.schema_name is not None, "--schema-name")):
            if flag and self.schema is None:
                raise UsageError(f"{name} needs --schema FILE")

    def _check_tool_exec(self) -> None:
        """The tool loop's options need --tool-exec; it runs one answer at a time."""
        check_bound(self.tool_timeout, TOOL_TIMEOUT)
        check_bound(self.max_steps, MAX_STEPS)
        if not self.tool_exec:
            given = [name for name, on in (("--tool-timeout", self.tool_timeout is not None),
                                           ("--tool-cwd", self.tool_cwd is not None),
                                           ("--max-steps", self.max_steps is not None),
                                           ("--yes", self.yes)) if on]
            if given:
                raise UsageError(f"{', '.join(given)} only apply to tools run with --tool-exec NAME=COMMAND")
        elif self.n is not None and self.n > 1:
            raise UsageError("--tool-exec and -n above 1 cannot be used together")

    def _check_tool_choice(self) -> None:
        choice = self.tool_choice
        if choice is not None and not choice.strip():
            raise UsageError("--tool-choice: give auto, none, any, required or a function name")
