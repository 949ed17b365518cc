"""The fine-tuning training-file formats, checked one line at a time (validate/jsonl.py streams).

Chat (completion jobs), one conversation a line:

    {"messages": [{"role": "system"|"user"|"assistant"|"tool", "content": ...}, ...]}

roles from that list, at least one user message, the last message from the assistant; an
assistant message has content or `tool_calls` (each with an `id` and a `function` with a
`name` and `arguments`), and every call is answered by a `tool` message with its
`tool_call_id` before the conversation goes on; `weight` (0 or 1) only on assistant messages.
Other top-level keys (`tools`, or a dataset's own `prompt_id`) are left alone.

Classifier, one example a line:

    {"text": "...", "labels": {"<target>": "<label>" | ["<label>", ...]}}

(`messages` may stand for `text`, for chat classifiers). With the job's targets known, each
target and label must be one of them.

The checks are plain code, not pydantic: each line costs a few dict look-ups beyond
`json.loads`, and the messages name the field as the user wrote it (`messages[2].role`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from mistral_cli.validate.jsonl import LineCheck, Report, check_jsonl

ROLES = ("system", "user", "assistant", "tool")
_TEXT_ROLES = ("system", "user", "assistant")  # tuples, not sets: a role may be a list (unhashable)
Problems = Iterator[tuple[str, str]]


def check_chat_line(value: Any) -> Iterable[tuple[str, str]]:
    """The (field, message) problems of one chat-format line (none when it is plainly good)."""
    return () if _plainly_good(value) else _chat_problems(value)


def _plainly_good(value: Any) -> bool:
    """A fast test, with no generator, for the common line: text messages from known roles,
    a user among them, the last from the assistant, no tool calls, no weight. False only
    means "look closer" (_chat_problems decides)."""
    messages = value.get("messages") if type(value) is dict else None
    if type(messages) is not list or not messages:
        return False
    has_user = False
    for message in messages:
        if type(message) is not dict or len(message) != 2:
            return False
        role, content = message.get("role"), message.get("content")
        if role not in _TEXT_ROLES or type(content) is not str or not content:
            return False
        has_user = has_user or role == "user"
    return has_user and messages[-1]["role"] == "assistant"


def _chat_problems(value: Any) -> Problems:
    """Yield (field, message) for each problem of one chat-format line."""
    if not isinstance(value, dict):
        yield "", f"expected a JSON object, got {_kind(value)}"
        return
    messages = value.get("messages")
    if not isinstance(messages, list) or not messages:
        yield "messages", ("missing" if messages is None else "must be a non-empty list of messages")
        return
    pending: dict[str, str] = {}  # tool call id -> where it was made
    has_user = False
    role = None
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        if not isinstance(message, dict):
            yield where, f"expected an object, got {_kind(message)}"
            role = None
            continue
        role = message.get("role")
        if role not in ROLES:
            yield f"{where}.role", _bad_role(role)
            continue
        if role != "tool" and pending:
            yield from _unanswered(pending)
        if role == "user":
            has_user = True
        yield from _check_message(message, role, where, pending)
    if pending:
        yield from _unanswered(pending)
    if not has_user:
        yield "messages", "no user message"
    if role != "assistant":
        yield f"messages[{len(messages) - 1}].role", f"the last message must be from the assistant (got {role!r})"


def _check_message(message: dict, role: str, where: str, pending: dict[str, str]) -> Problems:
    """The problems of one message of ROLE (records the tool calls it makes or answers)."""
    if "weight" in message:
        weight = message["weight"]
        if role != "assistant":
            yield f"{where}.weight", "only assistant messages take a weight"
        elif isinstance(weight, bool) or weight not in (0, 1):
            yield f"{where}.weight", f"must be 0 or 1 (got {weight!r})"
    if role == "assistant":
        calls = message.get("tool_calls")
        if calls is not None:
            yield from _check_calls(calls, f"{where}.tool_calls", pending)
            if calls:
                return
        yield from _check_content(message, where)
    elif role == "tool":
        yield from _check_content(message, where)
        yield from _check_answer(message.get("tool_call_id"), where, pending)
    else:
        yield from _check_content(message, where)


def _check_content(message: dict, where: str) -> Problems:
    content = message.get("content")
    if isinstance(content, str):
        if not content:
            yield f"{where}.content", "is empty"
    elif isinstance(content, list):
        if not content:
            yield f"{where}.content", "is an empty list"
    elif content is None:
        yield f"{where}.content", "missing"
    else:
        yield f"{where}.content", f"must be a string or a list of chunks, got {_kind(content)}"


def _check_calls(calls: Any, where: str, pending: dict[str, str]) -> Problems:
    if not isinstance(calls, list):
        yield where, f"must be a list, got {_kind(calls)}"
        return
    for index, call in enumerate(calls):
        here = f"{where}[{index}]"
        if not isinstance(call, dict):
            yield here, f"expected an object, got {_kind(call)}"
            continue
        call_id = call.get("id")
        if not isinstance(call_id, str) or not call_id:
            yield f"{here}.id", "missing (a tool message answers a call by its id)"
        else:
            pending[call_id] = here
        function = call.get("function")
        if not isinstance(function, dict):
            yield f"{here}.function", "missing" if function is None else "must be an object"
            continue
        if not isinstance(function.get("name"), str) or not function.get("name"):
            yield f"{here}.function.name", "missing"
        if not isinstance(function.get("arguments"), (str, dict)):
            yield f"{here}.function.arguments", "must be a JSON string or an object"


def _check_answer(call_id: Any, where: str, pending: dict[str, str]) -> Problems:
    if not isinstance(call_id, str) or not call_id:
        yield f"{where}.tool_call_id", "missing"
    elif pending.pop(call_id, None) is None:
        yield f"{where}.tool_call_id", f"{call_id!r} answers no pending tool call"


def _unanswered(pending: dict[str, str]) -> Problems:
    for call_id, where in pending.items():
        yield f"{where}.id", f"tool call {call_id!r} is not answered by a tool message"
    pending.clear()


def check_classifier_line(value: Any, targets: Mapping[str, frozenset[str]] | None = None) -> Problems:
    """Yield (field, message) for each problem of one classifier-format line; with TARGETS,
    every target and label must be among them."""
    if not isinstance(value, dict):
        yield "", f"expected a JSON object, got {_kind(value)}"
        return
    text = value.get("text")
    if text is None and isinstance(value.get("messages"), list) and value["messages"]:
        pass  # a chat classifier's example
    elif not isinstance(text, str) or not text:
        yield "text", "missing" if text is None else "must be a non-empty string"
    labels = value.get("labels")
    if not isinstance(labels, dict) or not labels:
        yield "labels", ("missing" if labels is None else
                         "must be an object of target names to a label or a list of labels")
        return
    for name, label in labels.items():
        yield from _check_label(name, label, targets)


def _check_label(name: str, label: Any, targets: Mapping[str, frozenset[str]] | None) -> Problems:
    where = f"labels.{name}"
    given = [label] if isinstance(label, str) else label
    if not isinstance(given, list) or not given or not all(isinstance(g, str) and g for g in given):
        yield where, "must be a label or a non-empty list of labels"
        return
    if targets is None:
        return
    known = targets.get(name)
    if known is None:
        yield where, f"unknown target (the job's targets: {', '.join(sorted(targets))})"
        return
    for item in given:
        if item not in known:
            yield where, f"unknown label {item!r} (target {name!r} has {', '.join(sorted(known))})"


def line_check(job_type: str, targets: Mapping[str, frozenset[str]] | None = None) -> LineCheck:
    """The line checker of JOB_TYPE (completion or classifier)."""
    if job_type == "classifier":
        return lambda value: check_classifier_line(value, targets)
    return check_chat_line


def check_training_file(path: Path, job_type: str = "completion",
                        targets: Mapping[str, frozenset[str]] | None = None,
                        label: str | None = None) -> Report:
    """Check every line of PATH in JOB_TYPE's format, streaming; the report counts examples.
    Blank lines are skipped and counted (the SDK's own example files end with one)."""
    report = check_jsonl(path, line_check(job_type, targets), label or str(path), blank_ok=True)
    if report.examples == 0 and report.ok:
        report.add(1, "", "the file is empty" if report.lines == 0 else "only blank lines, no example")
    return report


def _bad_role(role: Any) -> str:
    if role is None:
        return "missing"
    return f"unknown role {role!r} (expected {', '.join(ROLES)})"


def _kind(value: Any) -> str:
    """VALUE's JSON type name, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"
