"""Streaming output for generation commands: the answer as it arrives, and the usage line.

    make_stream_writer(env, markdown, final_newline)  ->  StreamWriter

- Off a terminal: each delta is written raw and flushed, nothing else (the per-chunk cost
  of a pipe is one write and one flush).
- On a terminal with styling allowed and Markdown on: `MarkdownStreamWriter`
  (render/markdown_stream.py) renders each completed Markdown block once, so the cost stays
  linear in the answer's length. Otherwise (no Markdown, NO_COLOR, TERM=dumb, --color
  never): plain text with control characters removed.

The writers own the answer's last newline, on a terminal and off it alike: close() ends
the answer with a newline when it did not end with one (text files, `wc -l` and the shell
prompt expect one), unless the writer was made with final_newline=False (`fim --cursor`
prints the bare completion for editors); end_line() ends the line in any case (before tool
calls printed after the answer).

`write_usage` prints `tokens: 12 prompt + 34 completion = 46 · finish: stop` on stderr (the
server's values in it without their control characters).
This module imports nothing heavy: Rich is loaded only on the Markdown path.
"""

from __future__ import annotations

from typing import IO, TYPE_CHECKING, Any, Protocol

from mistral_cli.render.safe_text import CONTROL, safe_text

if TYPE_CHECKING:  # pragma: no cover
    from mistral_cli.env import Env


class StreamWriter(Protocol):
    """Where a streamed answer goes, one delta at a time."""

    def write(self, delta: str) -> None:
        """Show DELTA (a piece of the answer's text)."""

    def end_line(self) -> None:
        """End the current line if the answer so far does not end one."""

    def close(self) -> None:
        """Finish the answer: the final newline (unless told not to), then flush."""


class RawStreamWriter:
    """Each delta written and flushed as it comes: the pipe path, kept minimal (the only
    per-chunk extra is remembering the last non-empty delta, for the final newline)."""

    __slots__ = ("write", "end_line", "close")

    def __init__(self, stream: IO[str], final_newline: bool = True):
        write, flush = stream.write, stream.flush
        last = "\n"

        def write_delta(delta: str) -> None:
            nonlocal last
            write(delta)
            flush()
            if delta:
                last = delta

        def end_line() -> None:
            nonlocal last
            if not last.endswith("\n"):
                write("\n")
                last = "\n"
            flush()

        def close() -> None:
            if final_newline:
                end_line()
            flush()

        self.write, self.end_line, self.close = write_delta, end_line, close


class TerminalTextWriter:
    """Plain text on a terminal (no Markdown, or no colour): no control characters."""

    def __init__(self, stream: IO[str], final_newline: bool = True):
        self._write, self._flush = stream.write, stream.flush
        self._at_line_start = True
        self._final_newline = final_newline

    def write(self, delta: str) -> None:
        """Write DELTA (control characters removed) and flush."""
        if CONTROL.search(delta):
            delta = CONTROL.sub("", delta)
        if delta:
            self._write(delta)
            self._flush()
            self._at_line_start = delta[-1] == "\n"

    def end_line(self) -> None:
        """Add a newline if the answer so far did not end with one."""
        if not self._at_line_start:
            self._write("\n")
            self._at_line_start = True
        self._flush()

    def close(self) -> None:
        """The final newline (unless told not to), then flush."""
        if self._final_newline:
            self.end_line()
        self._flush()


def make_stream_writer(env: "Env", markdown: bool, final_newline: bool = True) -> StreamWriter:
    """The writer for a streamed answer on ENV's stdout (Markdown only where it can show;
    without FINAL_NEWLINE, plain text exactly as the model sent it, ending where it ends)."""
    if not env.stdout_isatty:
        return RawStreamWriter(env.stdout, final_newline)
    if markdown and final_newline and env.stdout_styled:
        from mistral_cli.render.markdown_stream import MarkdownStreamWriter

        return MarkdownStreamWriter(env.console, env.stdout)
    return TerminalTextWriter(env.stdout, final_newline)


# -- usage -------------------------------------------------------------------------------

def usage_line(usage: dict[str, Any] | None, finish_reason: str | None,
               timing: tuple[int | None, float | None] | None = None) -> str | None:
    """'tokens: 12 prompt + 34 completion = 46 · first token 0.21 s · 48.5 tokens/s · finish:
    stop', or None with nothing to say (TIMING: a streamed answer's ms to first token and rate)."""
    parts = []
    if isinstance(usage, dict) and usage:  # a server's usage of another shape says nothing
        prompt, completion = usage.get("prompt_tokens"), usage.get("completion_tokens")
        total = usage.get("total_tokens")
        if total is None and isinstance(prompt, int) and isinstance(completion, int):
            total = prompt + completion
        parts.append(f"tokens: {_count(prompt)} prompt + {_count(completion)} completion"
                     f" = {_count(total)}")
    parts.extend(timing_parts(timing))
    if finish_reason:
        parts.append(f"finish: {finish_reason}")
    return " · ".join(parts) or None


def timing_parts(timing: tuple[int | None, float | None] | None) -> list[str]:
    """'first token 0.21 s' and '48.5 tokens/s' of a streamed answer's TIMING, as far as known."""
    first_ms, rate = timing if timing is not None else (None, None)
    return ([f"first token {first_ms / 1000:.2f} s"] if first_ms is not None else []) + \
        ([f"{rate:g} tokens/s"] if rate is not None else [])


def _count(value: Any) -> str:
    return "?" if value is None else str(value)


def write_usage(env: "Env", usage: dict[str, Any] | None, finish_reason: str | None,
                verbose: bool, timing: tuple[int | None, float | None] | None = None) -> None:
    """The usage line on stderr, when stderr is a terminal or VERBOSE; dim when styled."""
    if not (env.stderr_isatty or verbose):
        return
    line = usage_line(usage, finish_reason, timing)
    if line is None:
        return
    line = safe_text(line)
    if env.stderr_styled:
        line = f"\x1b[2m{line}\x1b[0m"
    env.stderr.write(line + "\n")
    env.stderr.flush()
