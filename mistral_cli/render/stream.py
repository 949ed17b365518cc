"""Streaming output for generation commands: the answer as it arrives, and the usage line.

    make_stream_writer(env, markdown)  ->  StreamWriter with .write(delta) and .close()

- Off a terminal, or without Markdown: each delta is written raw and flushed, nothing else
  (the per-chunk cost of a pipe is one write and one flush).
- On a terminal with styling allowed and Markdown on: `MarkdownStreamWriter`
  (render/markdown_stream.py) renders each completed Markdown block once, so the cost stays
  linear in the answer's length. With NO_COLOR, TERM=dumb or --color never: raw text.
- On a terminal, close() ends the answer with a newline so the shell prompt starts on its
  own line; off a terminal the output is exactly the concatenated deltas.

`write_usage` prints `tokens: 12 prompt + 34 completion = 46 · finish: stop` on stderr.
This module imports nothing heavy: Rich is loaded only on the Markdown path.
"""

from __future__ import annotations

from typing import IO, TYPE_CHECKING, Any, Protocol

from mistral_cli.render.human import CONTROL

if TYPE_CHECKING:  # pragma: no cover
    from mistral_cli.env import Env


class StreamWriter(Protocol):
    """Where a streamed answer goes, one delta at a time."""

    def write(self, delta: str) -> None:
        """Show DELTA (a piece of the answer's text)."""

    def close(self) -> None:
        """Finish the answer: flush what is pending."""


class RawStreamWriter:
    """Each delta written and flushed as it comes: the pipe path, kept minimal."""

    __slots__ = ("write", "close")

    def __init__(self, stream: IO[str]):
        write, flush = stream.write, stream.flush

        def write_delta(delta: str) -> None:
            write(delta)
            flush()

        self.write = write_delta
        self.close = flush


class TerminalTextWriter:
    """Plain text on a terminal (no Markdown, or no colour): no control characters; close()
    ends the line."""

    def __init__(self, stream: IO[str]):
        self._write, self._flush = stream.write, stream.flush
        self._at_line_start = True

    def write(self, delta: str) -> None:
        """Write DELTA (control characters removed) and flush."""
        if CONTROL.search(delta):
            delta = CONTROL.sub("", delta)
        if delta:
            self._write(delta)
            self._flush()
            self._at_line_start = delta[-1] == "\n"

    def close(self) -> None:
        """Add a final newline if the answer did not end with one."""
        if not self._at_line_start:
            self._write("\n")
            self._at_line_start = True
        self._flush()


def make_stream_writer(env: "Env", markdown: bool) -> StreamWriter:
    """The writer for a streamed answer on ENV's stdout (Markdown only where it can show)."""
    if not env.stdout_isatty:
        return RawStreamWriter(env.stdout)
    if markdown and env.stdout_styled:
        from mistral_cli.render.markdown_stream import MarkdownStreamWriter

        return MarkdownStreamWriter(env.console, env.stdout)
    return TerminalTextWriter(env.stdout)


# -- usage -------------------------------------------------------------------------------

def usage_line(usage: dict[str, Any] | None, finish_reason: str | None) -> str | None:
    """'tokens: 12 prompt + 34 completion = 46 · finish: stop', or None with nothing to say."""
    parts = []
    if usage:
        prompt, completion = usage.get("prompt_tokens"), usage.get("completion_tokens")
        total = usage.get("total_tokens")
        if total is None and isinstance(prompt, int) and isinstance(completion, int):
            total = prompt + completion
        parts.append(f"tokens: {_count(prompt)} prompt + {_count(completion)} completion"
                     f" = {_count(total)}")
    if finish_reason:
        parts.append(f"finish: {finish_reason}")
    return " · ".join(parts) or None


def _count(value: Any) -> str:
    return "?" if value is None else str(value)


def write_usage(env: "Env", usage: dict[str, Any] | None, finish_reason: str | None,
                verbose: bool) -> None:
    """The usage line on stderr, when stderr is a terminal or VERBOSE; dim when styled."""
    if not (env.stderr_isatty or verbose):
        return
    line = usage_line(usage, finish_reason)
    if line is None:
        return
    if env.stderr_styled:
        line = f"\x1b[2m{line}\x1b[0m"
    env.stderr.write(line + "\n")
    env.stderr.flush()
