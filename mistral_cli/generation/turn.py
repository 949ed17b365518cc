"""One exchange: send the request, print the answer as the output format asks, save it.

Streams unless told not to (or asked for several answers). A failure mid-stream or Ctrl-C
leaves the partial answer on stdout and saves the exchange marked incomplete before the
error goes on to `main()` (exit 1, or 130 for Ctrl-C).
"""

from __future__ import annotations

from time import perf_counter
from typing import TYPE_CHECKING, Any, NamedTuple

from mistral_cli.errors import MCLIError, StreamError
from mistral_cli.generation.answer import Answer, pump, tool_call_line
from mistral_cli.generation.thinking import show_whole, thinking_view
from mistral_cli.generation.args import GenOutput
from mistral_cli.generation.endpoints import GenerationEndpoint
from mistral_cli.render.output import dumps, write_json
from mistral_cli.store import StoreError

if TYPE_CHECKING:  # pragma: no cover
    from mistral_cli.env import Env
    from mistral_cli.generation.session import Session


class View(NamedTuple):
    """How an answer is printed: the output format, Markdown on a terminal, a final newline."""

    output: GenOutput = GenOutput.text
    markdown: bool = True
    final_newline: bool = True
    tool_loop: bool = False  # inside the tool loop: calls are run, not printed; -o json at its end
    thinking: str = "auto"  # --thinking: auto, show or hide (generation/thinking.py)


def wants_stream(request: dict, no_stream: bool) -> bool:
    """Stream unless --no-stream, `stream: false` in --body, or more than one answer asked for."""
    n = request.get("n")
    return not no_stream and request.get("stream") is not False and not (isinstance(n, int) and n > 1)


def run_turn(env: "Env", endpoint: GenerationEndpoint, session: "Session", request: dict,
             sent: list[dict], view: View) -> Answer:
    """Send REQUEST, print its answer, save SENT and the answer in SESSION; return the answer."""
    answer = Answer()
    try:
        exchange(env, endpoint, request, view, answer)
    except KeyboardInterrupt:
        save_cut_short(env, session, request, sent, answer)
        say_kept(env, session)
        raise
    except MCLIError as exc:
        if answer.meta or isinstance(exc, StreamError):
            save_cut_short(env, session, request, sent, answer)
        raise
    save(session, request, sent, answer, complete=True)
    return answer


def save_cut_short(env: "Env", session: "Session", request: dict, sent: list[dict], answer: Answer) -> None:
    """Save an exchange marked incomplete; a failing store is reported, not raised over the
    error that cut the answer short (that one decides the message and the exit code)."""
    try:
        save(session, request, sent, answer, complete=False)
    except StoreError as exc:  # the session's own error already says what was not saved
        env.warn(exc.message if exc is session.unsaved else f"the exchange was not saved: {exc.message}")


def say_kept(env: "Env", session: "Session") -> None:
    """After Ctrl-C: one stderr line naming the conversation that keeps the partial answer."""
    if session.enabled and session.unsaved is None and session.cid:
        env.stdout.flush()
        mid_line = "\n" if env.stdout_isatty else ""  # the answer stopped mid-line on the same screen
        env.info(f"{mid_line}interrupted: the partial answer is kept, marked incomplete, in conversation {session.cid}")


def save(session: "Session", request: dict, sent: list[dict], answer: Answer, complete: bool) -> None:
    """Save one exchange (what was sent, and the answer if there is one, with a streamed
    answer's timing) in SESSION."""
    message = answer.message()
    session.save(sent + ([message] if message else []), model=answer.model or request.get("model"),
                 finish_reason=answer.finish_reason, complete=complete, timing=answer.timing(),
                 tools=request.get("tools"))


def exchange(env: "Env", endpoint: GenerationEndpoint, request: dict, view: View, answer: Answer) -> None:
    """Send REQUEST and print the answer into ANSWER as it arrives (or whole); a budget in
    force is checked first (store/budget.py: exit 7 before the request, or --estimate)."""
    reserved = _reserve(env, request)
    try:
        if request.get("stream"):
            stream_answer(env, endpoint, request, view, answer)
        else:
            whole_answer(env, endpoint, request, view, answer)
    finally:
        if reserved:
            from mistral_cli.store.budget import settle

            settle(env, reserved)
    from mistral_cli.render.stream import write_usage

    write_usage(env, answer.usage, answer.finish_reason, env.options.verbose or env.options.debug,
                answer.timing())


def _reserve(env: "Env", request: dict) -> float:
    """store.budget.before_generation, when the command set a spending check (the budget module
    is not loaded for a turn without one)."""
    if env.services.get("generation_budget") is None:
        return 0.0
    from mistral_cli.store.budget import before_generation

    return before_generation(env, request)


# -- streamed --------------------------------------------------------------------------------------

def stream_answer(env: "Env", endpoint: GenerationEndpoint, request: dict, view: View, answer: Answer) -> None:
    """Stream the answer: text deltas, raw chunks (jsonl), or one object at the end (json).
    When the stream ends, however it ends, what the answer used goes to the ledger."""
    from mistral_cli.api.operations import generate_stream

    answer.sent_at = perf_counter()
    events = generate_stream(env.client, endpoint.operation, request)
    try:
        if view.output is GenOutput.jsonl:
            pump(events, answer, None, echo=line_writer(env))
        elif view.output is GenOutput.json:
            try:
                pump(events, answer, None)
            finally:
                if answer.meta and not view.tool_loop:
                    write_json(env, answer.completion())
        else:
            stream_text(env, events, view, answer)
    finally:
        answer.ended_at = perf_counter()
        if answer.usage:
            env.note_billed(endpoint.operation, {"model": answer.model, "usage": answer.usage})


def stream_text(env: "Env", events: Any, view: View, answer: Answer) -> None:
    """Stream text deltas through the stream writer; tool calls as JSON lines at the end."""
    writer = text_writer(env, view)
    shown = thinking_view(env, view.thinking)
    write = writer.write if shown is None else shown.before(writer.write)
    try:
        pump(events, answer, write, think=None if shown is None else shown.think)
    finally:
        if shown is not None:
            shown.end()
        writer.close()
    write_tool_calls(env, writer, [] if view.tool_loop else answer.tool_calls)


def text_writer(env: "Env", view: View, final_newline: bool | None = None) -> Any:
    """The stream writer for text output (render/stream.py owns the final newline)."""
    from mistral_cli.render.stream import make_stream_writer

    return make_stream_writer(env, view.markdown,
                              view.final_newline if final_newline is None else final_newline)


def line_writer(env: "Env") -> Any:
    """A function printing one JSON line per event, flushed."""
    write, flush = env.stdout.write, env.stdout.flush

    def echo(event: dict) -> None:
        write(dumps(event) + "\n")
        flush()

    return echo


# -- whole -----------------------------------------------------------------------------------------

def whole_answer(env: "Env", endpoint: GenerationEndpoint, request: dict, view: View, answer: Answer) -> None:
    """Ask for the whole answer at once and print it (every choice, for -n above 1)."""
    from mistral_cli.api.operations import describe, generate

    body = generate(env.client, endpoint.operation, request)
    answer.load(body, request=describe(endpoint.operation))
    if view.output is GenOutput.json:
        if not view.tool_loop:
            write_json(env, body)
    elif view.output is GenOutput.jsonl:
        line_writer(env)(body)
    else:
        print_choices(env, body, view)


def print_choices(env: "Env", body: dict, view: View) -> None:
    """Each choice's text and tool calls; under a header when there are several."""
    choices = body.get("choices") or []
    for position, choice in enumerate(choices):
        if len(choices) > 1:
            if position:
                env.stdout.write("\n")
            env.stdout.write(f"--- choice {choice.get('index', position) + 1} of {len(choices)} ---\n")
            env.stdout.flush()
        single = Answer.from_response(body, position)
        show_whole(thinking_view(env, view.thinking), single.content)
        writer = text_writer(env, view, view.final_newline or position < len(choices) - 1)
        if single.text:
            writer.write(single.text)
        writer.close()
        write_tool_calls(env, writer, [] if view.tool_loop else single.tool_calls)


def write_tool_calls(env: "Env", writer: Any, calls: list[dict]) -> None:
    """Each tool call as one JSON line {id, name, arguments} on stdout, on a line of its own."""
    if not calls:
        return
    writer.end_line()
    for call in calls:
        env.stdout.write(dumps(tool_call_line(call)) + "\n")
    env.stdout.flush()
