"""The tool loop: answer -> run the allowed calls -> send their results -> ask again.

It ends when an answer calls no tool, or after --max-steps requests (exit 1, said so). The
calls of one answer run one after another, in order, each result under its call id. A call
to a name not allowed, or with arguments that are not a JSON object, never runs: the model
gets an error result saying so. On a terminal each run is approved first (unless --yes).

Every result is saved as soon as it exists (with its exit status and duration under
RUN_KEY, which is never sent), so Ctrl-C or a failed request leaves the whole transcript
in the history. `before_request` is the one place a budget check goes (--max-cost).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from mistral_cli.errors import ToolLoopError, UsageError
from mistral_cli.generation.answer import Answer, tool_call_line
from mistral_cli.generation.args import GenOutput
from mistral_cli.generation.messages import RUN_KEY
from mistral_cli.generation.tool_exec import Outcome, run_program
from mistral_cli.generation.tools_allowed import ToolBox, tool_environ
from mistral_cli.generation.turn import run_turn

if TYPE_CHECKING:  # pragma: no cover
    from mistral_cli.env import Env
    from mistral_cli.generation.session import Session
    from mistral_cli.generation.setup import Setup

DECLINED = "error: the user declined to run this tool call"
STOPPED = "error: the user stopped the tool loop (Ctrl-C) before this call finished"
QUESTION = "run it? [y]es / [n]o / [a]lways for {name} / [q]uit: "


def converse(env: "Env", setup: "Setup", session: "Session", sent: list[dict], box: ToolBox) -> Answer:
    """Send SENT and go on answering the model's tool calls until it answers without one."""
    view = setup.view
    quiet_view = view._replace(tool_loop=True)
    transcript: list[dict] = list(sent)
    completions: list[dict] = []
    try:
        for step in range(1, box.max_steps + 1):
            before_request(env, box, step)
            body = setup.request(session, sent)
            answer = run_turn(env, setup.endpoint, session, body, sent, quiet_view)
            completions.append(answer.meta if "choices" in answer.meta and not body.get("stream")
                               else answer.completion())
            transcript += [m for m in [answer.message()] if m]
            if not answer.tool_calls:
                return answer
            if step == box.max_steps:
                raise ToolLoopError(
                    f"stopped after {box.max_steps} requests (--max-steps): the model still calls "
                    f"tools; its last {len(answer.tool_calls)} call(s) were not run",
                    hint="-c (or --cid) with the same --tool-exec runs those calls and goes on")
            results = run_calls(env, session, box, answer.tool_calls)
            transcript += results
            if view.output is GenOutput.jsonl:
                write_results(env, results)
            sent = []  # the results are saved in the history already
        raise AssertionError("unreachable")  # pragma: no cover
    finally:
        if view.output is GenOutput.json and completions:
            from mistral_cli.render.output import write_json

            write_json(env, {"conversation_id": session.cid, "messages": transcript,
                             "completions": completions})


def write_results(env: "Env", results: list[dict]) -> None:
    """With -o jsonl: each tool result as one JSON line between the answers' chunks."""
    from mistral_cli.render.output import dumps

    for result in results:
        env.stdout.write(dumps({"object": "mcli.tool_result", **result}) + "\n")
    env.stdout.flush()


def before_request(env: "Env", box: ToolBox, step: int) -> None:
    """Called before each request of the loop (STEP counts from 1): where a budget check
    (--max-cost) stops the loop before spending more."""


# -- running the calls of one answer ---------------------------------------------------------------

def run_calls(env: "Env", session: "Session", box: ToolBox, calls: list[dict]) -> list[dict]:
    """Run CALLS in order and save each result as soon as it exists; return the results."""
    results: list[dict] = []
    try:
        for call in calls:
            results.append(run_call(env, box, call))
    finally:
        if results:
            session.save(results, model=None, finish_reason=None)
    return results


def close_stopped(session: "Session") -> None:
    """Answer the calls a Ctrl-C left pending with an error saying so (the REPL goes on with
    the conversation, and the API refuses a call left without a result)."""
    from mistral_cli.generation.messages import pending_tool_calls

    stopped = [tool_message(call, STOPPED, {"ran": False, "stopped": True})
               for call in pending_tool_calls(session.history)]
    if stopped:
        session.save(stopped, model=None, finish_reason=None)


def run_call(env: "Env", box: ToolBox, call: dict) -> dict:
    """The tool message answering CALL: its result, or an error saying why it did not run."""
    line = tool_call_line(call)
    name, raw = line["name"], (call.get("function") or {}).get("arguments")
    arguments = raw if isinstance(raw, dict) else _decoded(raw)
    refusal = refuse(box, name, arguments)
    if refusal is not None:
        env.warn(f"tool call {_shown(name)} was not run: {refusal}")
        return tool_message(call, f"error: {refusal}; it was not run", {"ran": False})
    env.verbose(f"tool {name}: {json.dumps(arguments, ensure_ascii=False)[:2000]}")
    if box.ask and name not in box.always and not approve(env, box, name, arguments):
        return tool_message(call, DECLINED, {"ran": False, "declined": True})
    stdin = json.dumps(arguments, ensure_ascii=False).encode("utf-8")
    box.limits.environ = tool_environ(env)
    outcome = run_program(box.commands[name], stdin, box.limits)
    report(env, name, outcome)
    return tool_message(call, result_text(outcome, box.limits.cap, box.limits.timeout), run_record(outcome))


def refuse(box: ToolBox, name: Any, arguments: Any) -> str | None:
    """Why a call must not run (a name not allowed, arguments not a JSON object), or None."""
    if not box.allowed(name):
        allowed = ", ".join(sorted(box.commands))
        return f"tool {_shown(name)} is not allowed here (allowed: {allowed})"
    if not isinstance(arguments, dict):
        return "the arguments are not a JSON object"
    return None


def _decoded(raw: Any) -> Any:
    """RAW arguments decoded from JSON text (None when they are not JSON)."""
    if not isinstance(raw, str):
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _shown(name: Any) -> str:
    """A tool name as quoted in messages (server text: safe and short)."""
    from mistral_cli.render.safe_text import safe_text

    text = safe_text(name if isinstance(name, str) else json.dumps(name))
    return repr(text[:80] + ("…" if len(text) > 80 else ""))


def tool_message(call: dict, content: str, record: dict) -> dict:
    """The tool message for CALL, with the run's record under RUN_KEY (kept, never sent)."""
    name = (call.get("function") or {}).get("name")
    return {"role": "tool", "tool_call_id": call.get("id"),
            "name": name if isinstance(name, str) else None, "content": content, RUN_KEY: record}


# -- results ---------------------------------------------------------------------------------------

def result_text(outcome: Outcome, cap: int, timeout: float) -> str:
    """What the model gets: stdout, then a note for a cut, a time-out, a failed start, a
    non-zero exit status and the stderr tail."""
    if outcome.error:
        return f"error: {outcome.error}"
    parts = [outcome.stdout.decode("utf-8", "replace")]
    notes = []
    if outcome.cut:
        notes.append(f"[output cut at {cap} bytes; the tool was stopped]")
    if outcome.timed_out:
        notes.append(f"[timed out after {timeout:g} s; the tool was killed]")
    elif outcome.exit_status:
        notes.append(f"[exit status {outcome.exit_status}]")
    if outcome.stderr_tail:
        notes.append("[stderr, last lines]\n" + outcome.stderr_tail.decode("utf-8", "replace"))
    if notes:
        parts.append(("\n" if parts[0] and not parts[0].endswith("\n") else "") + "\n".join(notes))
    return "".join(parts)


def run_record(outcome: Outcome) -> dict:
    """The run as the history keeps it: exit status, duration, cut, time-out, stderr tail."""
    return {"ran": True, "exit_status": outcome.exit_status, "seconds": round(outcome.seconds, 3),
            "cut": outcome.cut, "timed_out": outcome.timed_out,
            "stderr_tail": outcome.stderr_tail.decode("utf-8", "replace") or None}


def report(env: "Env", name: str, outcome: Outcome) -> None:
    """A line on stderr: always for a failure, a cut or a time-out; with -v for every run."""
    if outcome.error:
        env.warn(f"tool {name}: {outcome.error}")
        return
    summary = (f"tool {name}: exit status {outcome.exit_status} after {outcome.seconds:.2f} s, "
               f"{len(outcome.stdout)} bytes of output")
    if outcome.timed_out:
        env.warn(f"tool {name} timed out and was killed")
    elif outcome.cut:
        env.warn(f"tool {name}: output cut at {len(outcome.stdout)} bytes; the tool was stopped")
    elif outcome.exit_status:
        env.warn(summary)
    else:
        env.verbose(summary)


# -- approval ----------------------------------------------------------------------------------------

def approve(env: "Env", box: ToolBox, name: str, arguments: dict) -> bool:
    """Show the call and ask; True to run it. [a]lways approves NAME for the rest of the run;
    [q]uit (or the end of input) stops the loop before this call."""
    from mistral_cli.render.safe_text import safe_text

    shown = json.dumps(arguments, ensure_ascii=False, indent=2)
    if len(shown) > 4000:
        shown = shown[:4000] + f"\n… ({len(shown) - 4000} more characters)"
    env.stderr.write(safe_text(f"tool call: {name} (runs: {' '.join(box.commands[name])})\n{shown}\n"))
    while True:
        reply = _ask(env, box, QUESTION.format(name=name)).strip().lower()
        if reply in ("y", "yes"):
            return True
        if reply in ("n", "no"):
            return False
        if reply in ("a", "always"):
            box.always.add(name)
            return True
        if reply in ("q", "quit"):
            raise UsageError(f"stopped at tool {name}: nothing more was run or sent")


def _ask(env: "Env", box: ToolBox, question: str) -> str:
    """One reply line (the REPL's reader, else stdin); the end of input means quit."""
    try:
        if box.read_line is not None:
            return box.read_line(question)
        env.stderr.write(question)
        env.stderr.flush()
        line = env.stdin.readline()
    except EOFError:
        return "q"
    return line if line else "q"

