"""Message assembly: the prompt and piped text, --messages files, the system prompt, tool results."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mistral_cli.errors import UsageError
from mistral_cli.inputs import read_text

if TYPE_CHECKING:  # pragma: no cover
    from mistral_cli.env import Env

ROLES = ("system", "user", "assistant", "tool")
RUN_KEY = "mcli_run"  # a tool result's local run record (exit status, duration): kept, never sent


def compose_prompt(prompt: str | None, piped: str | None) -> str | None:
    """The user's text: the prompt, a blank line, the piped text (either may be missing)."""
    parts = [part for part in (prompt, piped) if part]
    return "\n\n".join(parts) if parts else None


def user_message(text: str | None, chunks: list[dict] | None = None) -> dict:
    """A user message: plain text, or a text chunk followed by attachment chunks."""
    if not chunks:
        return {"role": "user", "content": text or ""}
    head = [{"type": "text", "text": text}] if text else []
    return {"role": "user", "content": head + chunks}


def system_message(text: str) -> dict:
    """A system message."""
    return {"role": "system", "content": text}


def prefix_message(text: str) -> dict:
    """The final assistant message the answer must start with."""
    return {"role": "assistant", "content": text, "prefix": True}


# -- --messages files --------------------------------------------------------------------------

def read_message_list(env: "Env", path: Path, option: str = "--messages") -> list[dict]:
    """A message list from a JSON array or JSONL file ('-' = stdin), checked."""
    text = read_text(env, path, option)
    messages = parse_message_list(text, f"{option} {path}")
    check_messages(messages, option)
    return messages


def parse_message_list(text: str, where: str) -> list[Any]:
    """Parse TEXT as a JSON array, else as JSON Lines (blank lines skipped)."""
    stripped = text.strip()
    if not stripped:
        raise UsageError(f"{where}: empty message list")
    if stripped.startswith("["):
        try:
            value = json.loads(stripped)
        except ValueError as exc:
            raise UsageError(f"{where}: not valid JSON: {exc}") from None
        return value if isinstance(value, list) else [value]
    messages = []
    for number, line in enumerate(stripped.splitlines(), 1):
        if line.strip():
            try:
                messages.append(json.loads(line))
            except ValueError as exc:
                raise UsageError(f"{where}: line {number} is not valid JSON: {exc}") from None
    return messages


def check_messages(messages: list[Any], option: str) -> None:
    """Refuse items that are not messages with a known role."""
    for index, message in enumerate(messages):
        if not isinstance(message, dict):
            raise UsageError(f"{option}: message {index} is not a JSON object")
        if message.get("role") not in ROLES:
            raise UsageError(f"{option}: message {index} has role {message.get('role')!r} "
                             f"(expected one of {', '.join(ROLES)})")


def for_request(messages: list[dict]) -> list[dict]:
    """MESSAGES without what only the history keeps (a tool run's record, RUN_KEY)."""
    return [{k: v for k, v in m.items() if k != RUN_KEY} if RUN_KEY in m else m for m in messages]


# -- the system prompt -------------------------------------------------------------------------

def current_system(messages: list[dict]) -> str | None:
    """The text of the system prompt in force: the last system message's."""
    for message in reversed(messages):
        if message.get("role") == "system":
            content = message.get("content")
            return content if isinstance(content, str) else json.dumps(content)
    return None


def arrange_system(messages: list[dict]) -> list[dict]:
    """When a system message follows other messages (a replaced system prompt), keep only the
    last system message and put it first; otherwise return MESSAGES unchanged."""
    leading = next((i for i, m in enumerate(messages) if m.get("role") != "system"), len(messages))
    later = [m for m in messages[leading:] if m.get("role") == "system"]
    if not later:
        return messages
    return [later[-1]] + [m for m in messages if m.get("role") != "system"]


# -- tool results ---------------------------------------------------------------------------

def read_tool_results(env: "Env", inline: list[str], files: list[str]) -> dict[str, str]:
    """--tool-result CALL_ID=TEXT and --tool-result-file CALL_ID=FILE as {call id: text}."""
    results: dict[str, str] = {}
    for spec in inline:
        call_id, text = split_assignment(spec, "--tool-result", "CALL_ID=TEXT")
        add_result(results, call_id, text)
    for spec in files:
        call_id, path = split_assignment(spec, "--tool-result-file", "CALL_ID=FILE")
        add_result(results, call_id, read_text(env, path, "--tool-result-file"))
    return results


def split_assignment(spec: str, option: str, shape: str) -> tuple[str, str]:
    """Split 'KEY=VALUE' at the first '='; refuse a missing '=' or an empty key."""
    key, has_equals, value = spec.partition("=")
    if not has_equals or not key:
        raise UsageError(f"{option}: expected {shape}, got {spec!r}")
    return key, value


def add_result(results: dict[str, str], call_id: str, text: str) -> None:
    """Record one result; a call id given twice is refused."""
    if call_id in results:
        raise UsageError(f"--tool-result: call {call_id} is given twice")
    results[call_id] = text


def pending_tool_calls(history: list[dict]) -> list[dict]:
    """The tool calls of the last assistant message that have no tool message yet."""
    for index in range(len(history) - 1, -1, -1):
        message = history[index]
        if message.get("role") == "assistant":
            answered = {m.get("tool_call_id") for m in history[index + 1:] if m.get("role") == "tool"}
            return [call for call in message.get("tool_calls") or [] if call.get("id") not in answered]
    return []


def pending_error(cid: str | None, pending: list[dict]) -> UsageError:
    """The error for a new prompt while the conversation waits for tool results: the API
    refuses a tool call left unanswered, so nothing is sent."""
    ids = [str(call.get("id")) for call in pending]
    names = ", ".join(f"{call_id} ({(call.get('function') or {}).get('name') or 'tool'})"
                      for call_id, call in zip(ids, pending))
    answer = " ".join(f"--tool-result {call_id}=RESULT" for call_id in ids)
    return UsageError(f"conversation {cid} is waiting for the result of tool call(s) {names}; "
                      "nothing was sent",
                      hint=f"answer first: mcli chat --cid {cid} {answer}")


def tool_messages(pending: list[dict], results: dict[str, str]) -> list[dict]:
    """Tool messages for RESULTS, in the order of the PENDING calls; every call needs a result."""
    ids = [call.get("id") for call in pending]
    unknown = [call_id for call_id in results if call_id not in ids]
    if unknown:
        waiting = ", ".join(str(i) for i in ids) or "none"
        raise UsageError(f"--tool-result: no pending tool call {', '.join(unknown)} "
                         f"in this conversation (waiting for: {waiting})")
    missing = [str(call_id) for call_id in ids if call_id not in results]
    if missing:
        raise UsageError(f"--tool-result: the model also called {', '.join(missing)}; "
                         "give a result for every pending call")
    return [{"role": "tool", "tool_call_id": call["id"],
             "name": (call.get("function") or {}).get("name"), "content": results[call["id"]]}
            for call in pending]
