"""An answer assembled from stream chunks, or taken from one response.

`pump()` is the per-chunk path: a few dict lookups, a list append and the writer's write
per chunk; no pydantic, Rich or SQLite. Everything else (joining, tool calls, the
chat.completion object) happens once, at the end.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from time import perf_counter
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from mistral_cli.store.conversations import Timing

from mistral_cli.bodies.content import words


class Answer:
    """The assistant's answer so far: text pieces, tool calls, finish reason, usage, ids."""

    def __init__(self) -> None:
        self.pieces: list[str] = []
        self.tool_calls: list[dict] = []
        self.finish_reason: str | None = None
        self.usage: dict | None = None
        self.meta: dict = {}
        self.content: Any = None  # a whole response's content, when not streamed
        # perf_counter() times of a streamed answer: request sent, first token, stream ended
        self.sent_at: float | None = None
        self.first_at: float | None = None
        self.ended_at: float | None = None

    # -- building ------------------------------------------------------------------------------

    def add_tool_calls(self, calls: list[dict]) -> None:
        """Merge streamed tool-call pieces: a new id starts a call, a piece without id extends one."""
        for piece in calls:
            merge_tool_call(self.tool_calls, piece)

    @classmethod
    def from_response(cls, body: dict, index: int = 0) -> "Answer":
        """The answer of choice INDEX in a whole (not streamed) response."""
        answer = cls()
        answer.load(body, index)
        return answer

    def load(self, body: dict, index: int = 0, request: str = "the whole answer") -> None:
        """Take choice INDEX of a whole response (of REQUEST) as this answer; a choice or a
        message that is not an object is an UnexpectedResponse, a usage that is not one is none."""
        from mistral_cli.bodies.shape import need_list, need_object

        self.meta = body
        self.usage = usage_of(body, None)
        choices = need_list(body.get("choices"), request, "choices")
        choice = need_object(choices[index], request, f"choices[{index}]") if index < len(choices) else {}
        message = need_object(choice.get("message") or {}, request, f"choices[{index}].message")
        self.content = message.get("content")
        self.pieces = [words(self.content)]
        self.tool_calls = list(message.get("tool_calls") or [])
        self.finish_reason = choice.get("finish_reason")

    # -- reading ---------------------------------------------------------------------------------

    @property
    def text(self) -> str:
        """The answer's text."""
        return "".join(self.pieces)

    @property
    def model(self) -> str | None:
        """The model that answered, as the server reported it."""
        return self.meta.get("model")

    def message(self) -> dict | None:
        """The assistant message to save and send back later; None when there is nothing."""
        content = self.content if self.content is not None and not isinstance(self.content, str) else self.text
        if not content and not self.tool_calls:
            return None
        message: dict[str, Any] = {"role": "assistant", "content": content}
        if self.tool_calls:
            message["tool_calls"] = self.tool_calls
        return message

    def timing(self) -> "Timing | None":
        """A streamed answer's time to first token and tokens per second after it (None when
        not streamed or no token came)."""
        if self.sent_at is None or self.first_at is None:
            return None
        from mistral_cli.store.conversations import Timing

        first_ms = round((self.first_at - self.sent_at) * 1000)
        completion = (self.usage or {}).get("completion_tokens")
        span = (self.ended_at or self.first_at) - self.first_at
        rate = None
        if isinstance(completion, int) and not isinstance(completion, bool) and completion > 0 and span > 0:
            rate = round(completion / span, 1)
        return Timing(first_ms, rate)

    def completion(self) -> dict:
        """The answer as one chat.completion object (what a non-streamed call returns)."""
        kind = str(self.meta.get("object") or "chat.completion.chunk")
        return {
            "id": self.meta.get("id"),
            "object": kind[: -len(".chunk")] if kind.endswith(".chunk") else kind,
            "created": self.meta.get("created"),
            "model": self.meta.get("model"),
            "choices": [{"index": 0, "finish_reason": self.finish_reason,
                         "message": {"role": "assistant", "content": self.text,
                                     "tool_calls": self.tool_calls or None}}],
            "usage": self.usage,
        }


def pump(events: Iterable[dict], answer: Answer, write: Callable[[str], Any] | None,
         echo: Callable[[dict], Any] | None = None) -> None:
    """Feed stream EVENTS into ANSWER, writing each text delta (and echoing each event)."""
    pieces = answer.pieces
    for event in events:
        if echo is not None:
            echo(event)
        answer.meta = event
        try:
            choice = event["choices"][0]
            delta = choice["delta"]
        except (KeyError, IndexError, TypeError):  # a usage-only (or malformed) chunk
            answer.usage = usage_of(event, answer.usage)
            continue
        text = delta.get("content")
        if text:
            if text.__class__ is not str:
                text = words(text)
            if not pieces:
                answer.first_at = perf_counter()
            pieces.append(text)
            if write is not None:
                write(text)
        if delta.get("tool_calls"):
            if answer.first_at is None:
                answer.first_at = perf_counter()
            answer.add_tool_calls(delta["tool_calls"])
        if choice.get("finish_reason"):
            answer.finish_reason = choice["finish_reason"]
        if "usage" in event:
            answer.usage = usage_of(event, answer.usage)


def usage_of(body: Any, known: dict | None) -> dict | None:
    """BODY's usage object when it has a non-empty one, else KNOWN (a usage of another shape
    from the server says nothing: never a crash where tokens are counted or saved)."""
    usage = body.get("usage") if isinstance(body, dict) else None
    return usage if isinstance(usage, dict) and usage else known


def merge_tool_call(calls: list[dict], piece: dict) -> None:
    """Add one streamed tool-call PIECE to CALLS (in place)."""
    call_id = piece.get("id")
    target = None
    if call_id and call_id != "null":
        target = next((call for call in calls if call.get("id") == call_id), None)
    elif calls:
        index = piece.get("index")
        target = next((call for call in calls if call.get("index") == index), calls[-1])
    if target is None:
        calls.append(json.loads(json.dumps(piece)))
        return
    function, extra = target.setdefault("function", {}), piece.get("function") or {}
    if extra.get("name") and not function.get("name"):
        function["name"] = extra["name"]
    more = extra.get("arguments")
    if isinstance(more, str) and isinstance(function.get("arguments"), str):
        function["arguments"] += more
    elif more is not None:
        function["arguments"] = more


def tool_call_line(call: dict) -> dict:
    """A tool call as printed for scripts: id, name, arguments (decoded when they are JSON)."""
    function = call.get("function") or {}
    arguments = function.get("arguments")
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments)
        except ValueError:
            pass
    return {"id": call.get("id"), "name": function.get("name"), "arguments": arguments}
