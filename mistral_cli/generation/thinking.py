"""A reasoning model's thinking: shown dim on stderr on a terminal (`--thinking auto`), on
stderr anywhere (`show`) or not at all (`hide`); kept in the history and in `-o json`, and
left out of what is sent back (the spec mcli builds requests by has no thinking chunk).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mistral_cli.bodies.content import thinking, words
from mistral_cli.render.safe_text import safe_text

if TYPE_CHECKING:  # pragma: no cover
    from mistral_cli.env import Env

MODES = ("auto", "show", "hide")
DIM, RESET = "\x1b[2m", "\x1b[0m"


class ThinkingView:
    """Writes thinking to stderr as it comes, and ends its line before the answer's words."""

    def __init__(self, env: "Env"):
        self._stderr = env.stderr
        self._styled = env.stderr_styled
        self.open = False  # thinking written whose line is not ended yet

    def think(self, text: str) -> None:
        """Write one piece of thinking (control characters removed, dim when styled)."""
        text = safe_text(text)
        if not text:
            return
        self._stderr.write(f"{DIM}{text}{RESET}" if self._styled else text)
        self._stderr.flush()
        self.open = not text.endswith("\n")

    def end(self) -> None:
        """End the thinking's line, once, so the answer starts on a line of its own."""
        if self.open:
            self._stderr.write("\n")
            self._stderr.flush()
            self.open = False

    def before(self, write: Callable[[str], Any]) -> Callable[[str], Any]:
        """WRITE, ending the thinking's line first whenever thinking came just before."""
        def write_after_thinking(text: str) -> Any:
            if self.open:
                self.end()
            return write(text)

        return write_after_thinking


def thinking_view(env: "Env", mode: str) -> ThinkingView | None:
    """Where thinking goes for MODE: None when it is hidden (`hide`, or `auto` off a terminal)."""
    if mode == "hide" or (mode == "auto" and not env.stderr_isatty):
        return None
    return ThinkingView(env)


def show_whole(view: ThinkingView | None, content: Any) -> None:
    """Show the thinking of a whole (not streamed) answer's CONTENT, on a line of its own."""
    thought = thinking(content)
    if view is not None and thought:
        view.think(thought)
        view.end()


def without_thinking(messages: list[dict]) -> list[dict]:
    """MESSAGES as sent back: an assistant message's thinking chunks left out (its words kept)."""
    return [_words_only(message) if _has_thinking(message) else message for message in messages]


def _has_thinking(message: Any) -> bool:
    content = message.get("content") if isinstance(message, dict) else None
    return isinstance(content, list) and any(isinstance(chunk, dict) and chunk.get("type") == "thinking"
                                             for chunk in content)


def _words_only(message: dict) -> dict:
    return {**message, "content": words(message["content"])}
