"""The screen side of live Markdown: the raw tail at the bottom of a terminal, and the
renderer that prints a finished block once with Rich.

`Tail` shows text raw and knows exactly how many rows it takes (it wraps the text itself
instead of leaving it to the terminal), so it can erase itself: cursor up, clear to the end
of the screen. `BlockRenderer` renders a Markdown block or a piece of a code block, writes
it, and counts the characters it was given (tests use the count to check linearity).
"""

from __future__ import annotations

from typing import IO

from rich.cells import get_character_cell_size
from rich.console import Console
from rich.markdown import Markdown
from rich.syntax import Syntax

CODE_THEME = "monokai"  # Rich Markdown's default, so code segments look like whole blocks
TAB = 2  # cells a tab takes in the raw tail (kept small, so a slice always fits one row)


class Tail:
    """The raw, not yet rendered text at the bottom of the terminal, and how to erase it."""

    def __init__(self, stream: IO[str], width: int, cap: int):
        self._write, self._flush = stream.write, stream.flush
        self.width = self.step = self.cap = 1
        self.resize(width, cap)
        self.rows = 0        # newlines shown since the tail began
        self.col = 0         # cells used on the current row
        self.tracking = True
        self.shown_chars = 0

    def resize(self, width: int, cap: int) -> None:
        """Set the terminal width and the row cap (between blocks)."""
        self.width = max(1, width)
        self.step = max(1, self.width // 2)  # a slice this long adds at most one row
        self.cap = max(1, cap)

    @property
    def empty(self) -> bool:
        """Whether nothing is shown since the tail began."""
        return self.rows == 0 and self.col == 0 and self.tracking

    @property
    def full(self) -> bool:
        """Whether the tail has reached its row cap."""
        return self.tracking and self.rows >= self.cap

    def show(self, text: str) -> None:
        """Show TEXT (no newlines, at most `step` characters) raw."""
        self.shown_chars += len(text)
        if not self.tracking:
            self._write(text)
        elif text.isascii() and text.isprintable() and self.col + len(text) <= self.width:
            self._write(text)
            self.col += len(text)
        else:
            self._write(self._wrapped(text))
        self._flush()

    def _wrapped(self, text: str) -> str:
        out: list[str] = []
        for char in text.replace("\t", " " * TAB) if "\t" in text else text:
            if not char.isprintable():
                continue
            cells = get_character_cell_size(char)
            if self.col + cells > self.width:
                out.append("\n")
                self.rows += 1
                self.col = 0
            out.append(char)
            self.col += cells
        return "".join(out)

    def newline(self) -> None:
        """End the current row; an untracked line ends here and tracking resumes."""
        self._write("\n")
        self._flush()
        if self.tracking:
            self.rows += 1
        self.tracking = True
        self.col = 0

    def erase(self) -> None:
        """Remove the tail from the screen (the cursor goes back to where it began)."""
        if self.rows:
            self._write(f"\r\x1b[{self.rows}A\x1b[J")
        elif self.col:
            self._write("\r\x1b[J")
        self.forget()

    def forget(self) -> None:
        """Leave what is shown as it is: the tail begins afresh at the cursor."""
        self.rows = self.col = 0

    def untrack(self) -> None:
        """Stop counting rows until the current line ends (it stays raw)."""
        self.tracking = False


class BlockRenderer:
    """Renders one Markdown block or code segment with Rich, and counts the work."""

    def __init__(self, console: Console, stream: IO[str]):
        self.console = console
        self._write, self._flush = stream.write, stream.flush
        self.rendered_chars = 0
        self.render_calls = 0

    def markdown(self, text: str) -> None:
        """Render TEXT, one or more complete Markdown blocks."""
        self._emit(Markdown(text, code_theme=CODE_THEME), len(text))

    def code(self, lexer: str, lines: list[str], first: bool, final: bool) -> None:
        """Render LINES of a code block: padded above if FIRST, below if FINAL."""
        code = "\n".join(lines)
        if final:
            code = code.rstrip()
        padding = (1 if first else 0, 1, 1 if final else 0, 1)
        self._emit(Syntax(code, lexer, theme=CODE_THEME, word_wrap=True, padding=padding),
                   len(code))

    def _emit(self, renderable: object, size: int) -> None:
        self.rendered_chars += size
        self.render_calls += 1
        with self.console.capture() as capture:
            self.console.print(renderable)
        # Rich starts a lone list or quote with an empty line; the writer owns the gaps.
        self._write(capture.get().lstrip("\n"))
        self._flush()
