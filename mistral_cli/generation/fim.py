"""`mcli fim`: the prompt and suffix from arguments, files, stdin or a cursor marker; one turn.

FIM takes its text literally (no `@file` magic: a prompt may start with `@dataclass`).
Exchanges are saved as conversations of kind `fim` (the prompt as a user message with its
`suffix`, the completion as the assistant's), so `mcli usage` counts their tokens.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mistral_cli.errors import UsageError
from mistral_cli.generation import request
from mistral_cli.generation.args import GenOutput, check_option_ranges, from_params, given_fields
from mistral_cli.generation.endpoints import FIM
from mistral_cli.generation.session import Session
from mistral_cli.generation.turn import View, run_turn, wants_stream
from mistral_cli.inputs import piped_stdin, read_text

if TYPE_CHECKING:  # pragma: no cover
    from mistral_cli.env import Env

FIM_OPTION_FIELDS = {"temperature": "temperature", "top_p": "top_p", "max_tokens": "max_tokens",
                     "min_tokens": "min_tokens", "seed": "random_seed"}


@dataclass
class FimArgs:
    """Every option of `mcli fim`."""

    prompt: str | None = None
    prompt_file: Path | None = None
    suffix: str | None = None
    suffix_file: Path | None = None
    cursor: str | None = None
    file: Path | None = None
    model: str | None = None
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    min_tokens: int | None = None
    stop: list[str] = field(default_factory=list)
    seed: int | None = None
    body: Path | None = None
    body_fields: list[str] = field(default_factory=list)
    no_stdin: bool = False
    no_stream: bool = False
    no_log: bool = False
    output: GenOutput = GenOutput.text

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> "FimArgs":
        """Build from a Click context's params (unknown names ignored, None lists emptied)."""
        return from_params(cls, params)

    def check(self) -> None:
        """Refuse bad values and conflicting options before reading anything (exit 2)."""
        check_option_ranges(self, FIM_OPTION_FIELDS)
        self._check_conflicts()
        readers = [opt for opt, value in (("--prompt-file", self.prompt_file), ("--suffix-file", self.suffix_file),
                                          ("--file", self.file), ("--body", self.body))
                   if value is not None and str(value) == "-"]
        if len(readers) > 1:
            raise UsageError(f"only one option can read stdin ('-'); got {', '.join(readers)}")

    def _check_conflicts(self) -> None:
        if (self.cursor is None) != (self.file is None):
            raise UsageError("--cursor MARKER and --file PATH go together")
        if self.cursor is not None:
            given = [name for name, value in (("PROMPT", self.prompt), ("--prompt-file", self.prompt_file),
                                               ("--suffix", self.suffix), ("--suffix-file", self.suffix_file))
                     if value is not None]
            if given:
                raise UsageError(f"--cursor/--file give the prompt and suffix: drop {', '.join(given)}")
            if not self.cursor:
                raise UsageError("--cursor: the marker must not be empty")
        for first, second in ((("PROMPT", self.prompt), ("--prompt-file", self.prompt_file)),
                              (("--suffix", self.suffix), ("--suffix-file", self.suffix_file))):
            if first[1] is not None and second[1] is not None:
                raise UsageError(f"{first[0]} and {second[0]} cannot be used together")


def split_at_cursor(text: str, marker: str, path: Path) -> tuple[str, str]:
    """Split TEXT at the one occurrence of MARKER into (prompt, suffix)."""
    count = text.count(marker)
    if count != 1:
        found = "not found" if count == 0 else f"found {count} times"
        raise UsageError(f"--cursor: marker {marker!r} {found} in {path} (it must appear exactly once)")
    prompt, _, suffix = text.partition(marker)
    return prompt, suffix


def prompt_and_suffix(env: "Env", args: FimArgs, base: dict) -> tuple[str, str | None]:
    """The prompt and suffix from --cursor/--file, the options, --body or stdin."""
    if args.cursor is not None and args.file is not None:
        return split_at_cursor(read_text(env, args.file, "--file"), args.cursor, args.file)
    suffix = read_text(env, args.suffix_file, "--suffix-file") if args.suffix_file else args.suffix
    if suffix is None:
        suffix = base.get("suffix")
    if args.prompt is not None:
        return args.prompt, suffix
    if args.prompt_file is not None:
        return read_text(env, args.prompt_file, "--prompt-file"), suffix
    if isinstance(base.get("prompt"), str):
        return base["prompt"], suffix
    piped = None if args.no_stdin or str(args.body) == "-" or str(args.suffix_file) == "-" else piped_stdin(env)
    if piped is None:
        raise UsageError("nothing to complete: give a PROMPT, --prompt-file FILE, or pipe code on stdin",
                         hint="or --cursor MARKER --file PATH to complete inside a file")
    return piped, suffix


def fim_body(env: "Env", args: FimArgs, base: dict, prompt: str, suffix: str | None) -> dict:
    """The FIMCompletionRequest: --body, then the options, prompt, suffix, model and stream."""
    body = {**base, **given_fields(args, FIM_OPTION_FIELDS)}
    if args.stop:
        body["stop"] = list(args.stop)
    body["prompt"] = prompt
    if suffix is not None:
        body["suffix"] = suffix
    body["model"] = request.resolve_model(env, FIM, args.model, base)
    body["stream"] = wants_stream(body, args.no_stream)
    return body


def run_fim(env: "Env", args: FimArgs) -> None:
    """Run `mcli fim` as ARGS say."""
    args.check()
    base = request.read_base_body(env, args.body, FIM, args.body_fields)
    prompt, suffix = prompt_and_suffix(env, args, base)
    body = fim_body(env, args, base, prompt, suffix)
    check_fim_body(body, args)
    session = Session(env, FIM, enabled=not args.no_log and env.history_enabled)
    sent = [{"role": "user", "content": prompt, **({"suffix": suffix} if suffix is not None else {})}]
    view = View(args.output, markdown=False, final_newline=args.cursor is None)
    try:
        if session.enabled:
            session.store.check_writable()  # a locked or broken database is found before sending
        run_turn(env, FIM, session, body, sent, view)
    finally:
        session.close()


def check_fim_body(body: dict, args: FimArgs) -> None:
    """Check the merged body's numbers, stop and suffix (naming the option or --body)."""
    request.check_body(body, given_fields(args, FIM_OPTION_FIELDS))
    if body.get("suffix") is not None and not isinstance(body["suffix"], str):
        raise UsageError("--body field suffix must be a string")
