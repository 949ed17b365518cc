"""One-shot `chat` and `agents`: from the parsed options to a finished, saved turn.

Every local check (option values, files, stdin, attachments, tool results against the saved
conversation, the merged body) happens before the first request; then documents are
uploaded, the request is sent and the answer printed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mistral_cli.errors import UsageError
from mistral_cli.generation import attachments, messages, request
from mistral_cli.generation.args import GenArgs
from mistral_cli.generation.endpoints import GenerationEndpoint
from mistral_cli.generation.session import Session
from mistral_cli.generation.setup import Setup, make_setup, tool_box_of
from mistral_cli.generation.turn import run_turn
from mistral_cli.inputs import piped_stdin

if TYPE_CHECKING:  # pragma: no cover
    from mistral_cli.env import Env
    from mistral_cli.generation.tools_allowed import ToolBox

NOTHING_TO_SEND = "nothing to send: give a PROMPT, pipe text on stdin, or use --messages FILE"


@dataclass(eq=False)  # compared by identity; skipping the generated __eq__ keeps start-up short
class TurnInput:
    """What the user gave to send this turn (read before any request)."""

    text: str | None = None
    listed: list[dict] = field(default_factory=list)
    results: dict[str, str] = field(default_factory=dict)
    files: list[attachments.Attachment] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """Whether there is nothing at all to send."""
        return not (self.text or self.listed or self.results or self.files)


def run(env: "Env", args: GenArgs, endpoint: GenerationEndpoint) -> None:
    """Run `chat` or `agents` as ARGS say: one turn, or the interactive loop."""
    args.check()
    if args.interactive or (env.stdin_isatty and args.gives_nothing):
        from mistral_cli.generation.repl import run_repl

        return run_repl(env, args, endpoint)
    box = tool_box_of(env, args)
    base = request.read_base_body(env, args.body, endpoint, args.body_fields)
    inputs = read_inputs(env, args, base)
    if inputs.empty and not (box is not None and args.continues):
        raise UsageError(NOTHING_TO_SEND, hint="or chat interactively with -i")
    session = Session.open(env, endpoint, args)
    try:
        setup = make_setup(env, args, endpoint, base, session, box)
        if box is not None:
            from mistral_cli.generation.tool_loop import converse

            tool_msgs = results_or_pending_runs(env, session, box, inputs)
        else:
            tool_msgs = answer_tool_calls(session, inputs.results)
        sent = tool_msgs + setup.system_update(session) + inputs.listed + new_user_message(env, setup, inputs)
        if box is not None:
            converse(env, setup, session, sent, box)
        else:
            run_turn(env, endpoint, session, setup.request(session, sent), sent, setup.view)
    finally:
        session.close()


def read_inputs(env: "Env", args: GenArgs, base: dict) -> TurnInput:
    """The prompt (with piped stdin), --messages, --body's messages (taken out of BASE, which
    then holds only the other fields), tool results, attachments."""
    listed = base.pop("messages", None) or []
    if not isinstance(listed, list):
        raise UsageError("--body: messages must be a list")
    messages.check_messages(listed, "--body")
    if args.messages is not None:
        listed = listed + messages.read_message_list(env, args.messages)
    piped = None if args.no_stdin or args.stdin_readers() else piped_stdin(env)
    return TurnInput(text=messages.compose_prompt(args.prompt, piped), listed=listed,
                  results=messages.read_tool_results(env, args.tool_result, args.tool_result_file),
                  files=attachments.plan(args.attach, args.doc))


def answer_tool_calls(session: Session, results: dict[str, str]) -> list[dict]:
    """Tool messages answering the conversation's pending tool calls (none without results)."""
    pending = messages.pending_tool_calls(session.history)
    if not results:
        if pending:
            raise messages.pending_error(session.cid, pending)
        return []
    if not pending:
        raise UsageError(f"--tool-result: conversation {session.cid} has no pending tool call")
    return messages.tool_messages(pending, results)


def results_or_pending_runs(env: "Env", session: Session, box: "ToolBox", inputs: TurnInput) -> list[dict]:
    """With --tool-exec: the --tool-result messages; else the conversation's pending calls are
    run now (their results saved at once, so none is returned); nothing at all is refused."""
    if inputs.results:
        return answer_tool_calls(session, inputs.results)
    pending = messages.pending_tool_calls(session.history)
    if pending:
        from mistral_cli.generation.tool_loop import run_calls

        run_calls(env, session, box, pending)
    elif inputs.empty:
        raise UsageError(NOTHING_TO_SEND, hint=f"conversation {session.cid} waits for no tool result")
    return []


def new_user_message(env: "Env", setup: Setup, inputs: TurnInput) -> list[dict]:
    """The user message for the prompt and attachments (uploads documents); [] if neither."""
    if not inputs.text and not inputs.files:
        return []
    chunks = attachments.to_chunks(env, inputs.files, setup.links)
    return [messages.user_message(inputs.text, chunks)]
