"""Live Markdown for a streamed answer on a terminal, at a cost linear in its length.

The text is cut into Markdown blocks as it arrives, line by line: a paragraph ends at a
blank line, a list at the first unindented line after a blank line, a heading is a block
of its own, a fenced code block ends at its closing fence. The block being written is
shown raw at the bottom of the terminal (the tail, render/live_tail.py); when it is
complete, the tail is erased and the block is rendered once with Rich, then never touched
again. Every character is shown raw once and rendered once: no re-rendering of the whole
answer per token.

The tail must stay shorter than the terminal, or it could not be erased: when it reaches
`cap` rows, the complete lines it holds are rendered (a long code block comes out in
segments that join up as one block). What cannot be cut there (a single line taller than
the cap, a code block inside a list item taller than the cap) stays raw ("spilled") until
its block ends.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import IO

from rich.console import Console

from mistral_cli.render.live_tail import BlockRenderer, Tail
from mistral_cli.render.safe_text import neutralise

MAX_TAIL_ROWS = 60

HEADING = re.compile(r" {0,3}#{1,6}(?:[ \t]|$)")
FENCE_OPEN = re.compile(r"( *)(`{3,}(?=[^`]*$)|~{3,})(.*)")
LIST_ITEM = re.compile(r" {0,3}(?:[-*+]|\d{1,9}[.)])(?:[ \t]|$)")
RULE = re.compile(r" {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*")


@dataclass
class Fence:
    """An open code fence: its character, length, indentation and language; code so far."""

    char: str
    length: int
    indent: int
    lexer: str
    lines: list[str] = field(default_factory=list)
    segments: int = 0  # pieces already rendered

    def closes(self, line: str) -> bool:
        """Whether LINE is this fence's closing fence."""
        text = line.strip()
        return (len(text) >= self.length and text == self.char * len(text)
                and len(line) - len(line.lstrip(" ")) < self.indent + 4)

    def code_line(self, line: str) -> str:
        """LINE without up to the fence's indentation (as CommonMark strips it)."""
        strip = min(self.indent, len(line) - len(line.lstrip(" ")))
        return line[strip:]


def open_fence(line: str) -> Fence | None:
    """The fence LINE opens, if it is an opening code fence."""
    match = FENCE_OPEN.fullmatch(line)
    if match is None:
        return None
    indent, marks, info = match.groups()
    lexer = info.strip().partition(" ")[0] or "text"
    return Fence(marks[0], len(marks), len(indent), lexer)


class MarkdownStreamWriter:
    """Shows a streamed answer as live Markdown: each block rendered once, when complete."""

    def __init__(self, console: Console, stream: IO[str], cap: int | None = None):
        width, height = console.size
        self._fixed_cap = cap
        self._tail = Tail(stream, width, cap or _tail_cap(height))
        self._render = BlockRenderer(console, stream)
        self._write = stream.write
        self._line: list[str] = []     # the current line, not yet complete
        self._lines: list[str] = []    # complete lines of the current block, not yet rendered
        self._code: Fence | None = None     # an open top-level code block
        self._nested: Fence | None = None   # a fence open inside a list item
        self._nested_at = 0            # where in _lines that fence opened
        self._in_block = False         # a text block has begun (maybe rendered in part)
        self._in_list = False          # ... and it is a list
        self._after_blank = False      # a blank line came inside a list
        self._spilled = False          # the current block stays raw (too tall to erase)
        self._gap = False              # a blank line is owed before the next block

    @property
    def work(self) -> dict[str, int]:
        """Characters shown raw and rendered, and render calls (for linearity checks)."""
        return {"shown_chars": self._tail.shown_chars, "render_calls": self._render.render_calls,
                "rendered_chars": self._render.rendered_chars}

    # -- the interface ---------------------------------------------------------------------

    def write(self, delta: str) -> None:
        """Show DELTA raw; render each block it completes."""
        delta = neutralise(delta)  # no escape sequence, no bidi override from the model shows
        if "\n" not in delta:
            self._add(delta)
            return
        pieces = delta.split("\n")
        for piece in pieces[:-1]:
            self._add(piece)
            self._end_line()
        self._add(pieces[-1])

    def end_line(self) -> None:
        """Nothing to do: every rendered block ends its line."""

    def close(self) -> None:
        """Render what is left: the last line and the last block."""
        if self._line:
            self._end_line()
        self._tail.erase()
        if self._code is not None and not self._spilled:
            self._render_code(self._code, self._code.lines, final=True)
        elif self._lines and not self._spilled:
            self._render_text(self._lines)
        self._code = self._nested = None
        self._lines = []

    # -- raw display -----------------------------------------------------------------------

    def _add(self, text: str) -> None:
        """TEXT continues the current line: keep it, and show it in slices of at most a row."""
        step = self._tail.step
        for start in range(0, len(text), step):
            piece = text[start:start + step]
            self._line.append(piece)
            if self._gap and self._tail.empty:
                self._pay_gap()
            self._tail.show(piece)
            if self._tail.full:
                self._overflow()

    def _show_again(self, text: str, newline: bool) -> None:
        """Show TEXT, already taken into account, after an erase; spill if it does not fit."""
        step = self._tail.step
        for start in range(0, len(text), step):
            self._tail.show(text[start:start + step])
            if self._tail.full:
                self._spill()
        if newline:
            self._tail.newline()

    def _pay_gap(self) -> None:
        if self._gap:
            self._write("\n")
            self._gap = False

    def _end_line(self) -> None:
        line = "".join(self._line)
        self._line.clear()
        untracked = not self._tail.tracking
        self._tail.newline()
        if untracked:
            self._raw_line(line)
        else:
            self._on_line(line)
        if self._tail.full:
            self._overflow()

    # -- a tail as tall as it may be ---------------------------------------------------------

    def _overflow(self) -> None:
        """Render the complete lines the tail holds, or leave it raw."""
        if not self._spilled and self._commit_complete_lines():
            self._show_again("".join(self._line), newline=False)
        else:
            self._spill()

    def _spill(self) -> None:
        """The current block stays raw: its lines are left on screen as they complete."""
        self._spilled = True
        self._lines = []
        self._nested_at = 0
        if self._code is not None:
            self._code.lines = []
        if self._line:
            self._tail.untrack()
        else:
            self._tail.forget()

    def _commit_complete_lines(self) -> bool:
        if self._code is not None:
            return self._commit_code_segment(self._code)
        keep = self._nested_at if self._nested is not None else len(self._lines)
        if not keep:
            return False
        self._tail.erase()
        self._render_text(self._lines[:keep])
        self._lines, self._nested_at = self._lines[keep:], 0
        for line in list(self._lines):  # the open fence inside a list item, shown again
            self._show_again(line, newline=True)
        return True

    def _commit_code_segment(self, fence: Fence) -> bool:
        """Render the code so far but its last line (and the blank lines before it)."""
        lines = fence.lines
        last = next((i for i in range(len(lines) - 2, -1, -1) if lines[i].strip()), -1)
        if last < 0:
            return False
        self._tail.erase()
        self._render_code(fence, lines[:last + 1], final=False)
        fence.lines = lines[last + 1:]
        for line in list(fence.lines):
            self._show_again(line, newline=True)
        return True

    # -- block structure -------------------------------------------------------------------

    def _on_line(self, line: str) -> None:
        if self._code is not None:
            self._code_line(self._code, line)
        elif self._nested is not None:
            self._nested_line(self._nested, line)
        elif not line.strip():
            self._blank_line()
        else:
            if self._after_blank:
                self._after_blank = False
                if not (line[0] in " \t" or LIST_ITEM.match(line)):
                    self._end_list_before(line)
            self._content_line(line)

    def _raw_line(self, line: str) -> None:
        """A line too long to erase, left raw on screen: plain text of a spilled block."""
        if self._code is not None:
            self._code_line(self._code, line)
        elif self._nested is not None:
            self._nested_line(self._nested, line)
        else:
            if self._after_blank and not (line[0] in " \t" or LIST_ITEM.match(line)):
                self._in_list = self._after_blank = False  # a new block, begun raw
            self._text_line(line)

    def _content_line(self, line: str) -> None:
        if HEADING.match(line):
            self._end_block()
            self._render_text([line])
            self._gap = True
            return
        fence = open_fence(line)
        if fence is None or fence.indent > 3 and not self._in_list:
            self._text_line(line)
        elif fence.indent and self._in_list:
            self._nested, self._nested_at = fence, len(self._lines)
            self._text_line(line)
        else:
            self._start_code(fence, line)

    def _text_line(self, line: str) -> None:
        if not self._in_block:
            self._in_block = True
            self._in_list = bool(LIST_ITEM.match(line))
        if self._spilled:
            self._tail.forget()
        else:
            self._lines.append(line)

    def _blank_line(self) -> None:
        if self._in_list and not self._spilled:
            self._lines.append("")  # the list may go on after it
            self._after_blank = True
        else:
            self._end_block()

    def _end_list_before(self, line: str) -> None:
        """An unindented LINE after a blank line ends the list: render it, show LINE again."""
        self._end_block()
        self._pay_gap()
        self._show_again(line, newline=True)

    def _nested_line(self, fence: Fence, line: str) -> None:
        if fence.closes(line):
            self._nested = None
        self._text_line(line)

    def _code_line(self, fence: Fence, line: str) -> None:
        if not fence.closes(line):
            if self._spilled:
                self._tail.forget()
            else:
                fence.lines.append(fence.code_line(line))
            return
        if self._spilled:
            self._tail.forget()
        else:
            self._tail.erase()
            self._render_code(fence, fence.lines, final=True)
        self._code = None
        self._spilled = False
        self._gap = True

    def _start_code(self, fence: Fence, line: str) -> None:
        """A top-level code block opens: end the block before it, show the fence raw."""
        self._end_block()
        self._code = fence
        self._pay_gap()
        self._show_again(line, newline=True)

    def _end_block(self) -> None:
        """The current text block is complete (the tail ends with the line that says so)."""
        self._tail.erase()
        lines = self._lines
        if lines and not self._spilled:
            self._render_text(lines)
        # Rich puts a blank line between blocks, except after a horizontal rule.
        self._gap = self._gap or self._in_block and not (len(lines) == 1 and RULE.fullmatch(lines[0]))
        self._lines = []
        self._spilled = self._in_block = self._in_list = self._after_blank = False
        self._refresh_size()

    def _render_text(self, lines: list[str]) -> None:
        self._pay_gap()
        self._render.markdown("\n".join(lines))

    def _render_code(self, fence: Fence, lines: list[str], final: bool) -> None:
        self._pay_gap()
        self._render.code(fence.lexer, lines, first=not fence.segments, final=final)
        fence.segments += 1

    def _refresh_size(self) -> None:
        """Follow a resized terminal, between blocks."""
        width, height = self._render.console.size
        self._tail.resize(width, self._fixed_cap or _tail_cap(height))


def _tail_cap(height: int) -> int:
    """Rows the tail may take: fewer than the terminal's, so it can still be erased."""
    return max(1, min(height - 2, MAX_TAIL_ROWS))
