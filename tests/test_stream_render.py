"""The streaming output layer: raw deltas off a terminal, live Markdown on one, usage lines.

On-terminal output is replayed through `Screen`, a small terminal emulator (text, CR/LF,
cursor up, clear to end of screen; styles noted and skipped), so the tests check what a user
would finally see, and that the writer never moves the cursor above the visible screen
(which a real terminal cannot honour). Linearity is checked by counting the characters
handed to Rich's Markdown and Syntax renderers, never by timing.
"""

from __future__ import annotations

import io
import random
import re
import subprocess
import sys

import pytest
from rich.cells import get_character_cell_size
from rich.console import Console
from rich.markdown import Markdown

from mistral_cli.env import Env, GlobalOptions
from mistral_cli.render import live_tail
from mistral_cli.render.markdown_stream import MarkdownStreamWriter
from mistral_cli.render.stream import (RawStreamWriter, TerminalTextWriter, make_stream_writer,
                                       usage_line, write_usage)

WIDTH, HEIGHT = 80, 25
ESCAPE = re.compile(r"\x1b(?:\[([0-9;?]*)([A-Za-z])|\][^\x07\x1b]*(?:\x07|\x1b\\))")

DOC = """# Streaming answers

Some *emphasis*, some **bold text** and `inline code`, in a paragraph
that goes on over a second line.

## A list

- first item
- second item with **bold**
- third item

1. one
2. two

```python
def greet(name):
    return f"hello {name}"


print(greet("world"))
```

> a quoted line

| a | b |
|---|---|
| 1 | 2 |

A last paragraph with a [link](https://example.com).
"""


@pytest.fixture(autouse=True)
def terminal_type(monkeypatch):
    """Rich picks its colour system from the process environment: make it a fixed one."""
    monkeypatch.setenv("TERM", "xterm-256color")
    for name in ("COLORTERM", "COLUMNS", "LINES", "FORCE_COLOR", "TTY_COMPATIBLE"):
        monkeypatch.delenv(name, raising=False)


class Screen:
    """Just enough of a terminal to replay the writer's output."""

    def __init__(self, width: int = WIDTH, height: int = HEIGHT):
        self.width, self.height = width, height
        self.rows: list[list[str]] = [[]]
        self.row = self.col = self.top = 0
        self.styles = 0
        self.violations: list[str] = []

    def feed(self, data: str) -> "Screen":
        index = 0
        while index < len(data):
            match = ESCAPE.match(data, index) if data[index] == "\x1b" else None
            if match:
                self._escape(match.group(1) or "", match.group(2))
                index = match.end()
                continue
            self._char(data[index])
            index += 1
        return self

    def _escape(self, params: str, final: str | None) -> None:
        if final == "m":
            self.styles += params not in ("", "0")
        elif final == "A":
            wanted = self.row - int(params or 1)
            if wanted < self.top:
                self.violations.append(f"cursor up to row {wanted} above the screen top {self.top}")
            self.row = max(self.top, wanted)
        elif final == "J":
            del self.rows[self.row][self.col:]
            del self.rows[self.row + 1:]
        elif final is not None:
            self.violations.append(f"unexpected escape {params}{final}")

    def _char(self, char: str) -> None:
        if char == "\n":
            self._down()
        elif char == "\r":
            self.col = 0
        else:
            cells = get_character_cell_size(char)
            if self.col + cells > self.width:
                self._down()
            line = self.rows[self.row]
            line.extend(" " * (self.col - len(line)))
            line[self.col:self.col + 1] = [char] + [""] * (cells - 1)
            self.col += cells

    def _down(self) -> None:
        self.row += 1
        self.col = 0
        if self.row >= len(self.rows):
            self.rows.append([])
        self.top = max(self.top, self.row - self.height + 1)

    @property
    def text(self) -> str:
        return "\n".join("".join(row).rstrip() for row in self.rows).strip("\n")


def make_env(tty: bool = True, color: str = "always", environ: dict | None = None,
             stderr_tty: bool = False) -> tuple[Env, io.StringIO, io.StringIO]:
    out, err = io.StringIO(), io.StringIO()
    env = Env(stdin=io.StringIO(), stdout=out, stderr=err, stdout_isatty=tty,
              stderr_isatty=stderr_tty, environ=environ or {"TERM": "xterm-256color"},
              options=GlobalOptions(color=color))
    env.console.size = (WIDTH, HEIGHT)
    return env, out, err


def chunks(text: str, seed: int = 7, most: int = 9) -> list[str]:
    """TEXT cut at random places, as a model's deltas would be."""
    rng = random.Random(seed)
    pieces, index = [], 0
    while index < len(text):
        size = rng.randint(1, most)
        pieces.append(text[index:index + size])
        index += size
    return pieces


def stream(deltas: list[str], width: int = WIDTH, height: int = HEIGHT) -> tuple[str, MarkdownStreamWriter]:
    env, out, _ = make_env()
    env.console.size = (width, height)
    writer = make_stream_writer(env, markdown=True)
    assert isinstance(writer, MarkdownStreamWriter)
    for delta in deltas:
        writer.write(delta)
    writer.close()
    return out.getvalue(), writer


def whole_render(text: str, width: int = WIDTH) -> str:
    """TEXT rendered in one go, as Rich would show the finished answer."""
    out = io.StringIO()
    Console(file=out, force_terminal=True, width=width, color_system="256",
            highlight=False, emoji=False).print(Markdown(text, code_theme="monokai"))
    return Screen(width, 10_000).feed(out.getvalue()).text


def replay(output: str, width: int = WIDTH, height: int = HEIGHT) -> Screen:
    screen = Screen(width, height).feed(output)
    assert screen.violations == []
    return screen


# -- off a terminal, or without Markdown: the raw path ------------------------------------

class CountingStream(io.StringIO):
    flushes = 0

    def flush(self) -> None:
        self.flushes += 1
        super().flush()


@pytest.mark.parametrize("markdown", [True, False])
@pytest.mark.parametrize("color", ["auto", "always"])
def test_off_a_terminal_the_output_is_the_deltas_and_one_final_newline(markdown, color):
    deltas = ["# Title\n", "\n", "**bold** ", "caf\u00e9 \u4e2d\u6587", "\r\n", "\x1b[31m", "end", ""]
    out = CountingStream()
    env = Env(stdin=io.StringIO(), stdout=out, stderr=io.StringIO(), stdout_isatty=False,
              options=GlobalOptions(color=color))
    writer = make_stream_writer(env, markdown=markdown)
    assert isinstance(writer, RawStreamWriter)
    for delta in deltas:
        writer.write(delta)
    assert out.flushes == len(deltas)
    writer.close()
    assert out.getvalue() == "".join(deltas) + "\n"


@pytest.mark.parametrize("isatty", [False, True])
def test_without_final_newline_the_output_is_exactly_the_deltas(isatty):
    env, out, _ = make_env(color="never")
    env.stdout_isatty = isatty
    writer = make_stream_writer(env, markdown=True, final_newline=False)
    for delta in ["def f():", "\n    return 1"]:
        writer.write(delta)
    writer.close()
    assert out.getvalue() == "def f():\n    return 1"
    writer.end_line()  # before tool calls: the line ends all the same
    writer.end_line()
    assert out.getvalue() == "def f():\n    return 1\n"


def test_an_answer_ending_its_line_gets_no_second_newline_in_a_pipe():
    out = io.StringIO()
    env = Env(stdin=io.StringIO(), stdout=out, stderr=io.StringIO(), stdout_isatty=False)
    writer = make_stream_writer(env, markdown=False)
    for delta in ["done\n", ""]:
        writer.write(delta)
    writer.close()
    assert out.getvalue() == "done\n"


def test_raw_path_over_a_binary_pipe_keeps_utf8():
    buffer = io.BytesIO()
    stdout = io.TextIOWrapper(buffer, encoding="utf-8")
    env = Env(stdin=io.StringIO(), stdout=stdout, stderr=io.StringIO(), stdout_isatty=False)
    writer = make_stream_writer(env, markdown=True)
    for delta in ["h\u00e9", "llo ", "\U0001f600"]:
        writer.write(delta)
        assert buffer.getvalue().decode("utf-8").endswith(delta)  # flushed at once
    writer.close()
    assert buffer.getvalue().decode("utf-8") == "h\u00e9llo \U0001f600\n"


@pytest.mark.parametrize("environ, color, markdown", [
    ({"TERM": "xterm", "NO_COLOR": "1"}, "auto", True),
    ({"TERM": "dumb"}, "auto", True),
    ({"TERM": "xterm"}, "never", True),
    ({"TERM": "xterm"}, "always", False),
])
def test_on_a_terminal_without_styling_or_markdown_the_text_is_raw(environ, color, markdown):
    env, out, _ = make_env(environ=environ, color=color)
    writer = make_stream_writer(env, markdown=markdown)
    assert isinstance(writer, TerminalTextWriter)
    for delta in ["# Title\n\n", "**bold**"]:
        writer.write(delta)
    writer.close()
    assert out.getvalue() == "# Title\n\n**bold**\n"  # a final newline for the prompt


def test_terminal_text_adds_no_second_newline():
    env, out, _ = make_env(color="never")
    writer = make_stream_writer(env, markdown=False)
    writer.write("done\n")
    writer.close()
    assert out.getvalue() == "done\n"



def test_plain_terminal_text_drops_escape_sequences_from_the_model():
    env, out, _ = make_env(color="never")
    writer = make_stream_writer(env, markdown=True)
    for delta in ["a \x1b]0;title\x07 b", "\x1b[2J", "c\r\n"]:
        writer.write(delta)
    writer.close()
    assert out.getvalue() == "a ]0;title b[2Jc\n"

# -- on a terminal: live Markdown -----------------------------------------------------------

def test_markdown_is_styled_and_keeps_all_the_text():
    output, _ = stream(chunks(DOC))
    screen = replay(output)
    assert re.search(r"\x1b\[[0-9;]*1[;m][^\x1b]*Streaming answers", output)  # bold heading
    assert re.search(r"\x1b\[1m[^\x1b]*bold text", output)                    # **bold**
    assert re.search(r"\x1b\[[0-9;]*48;5;\d+m", output)                        # code background
    visible = DOC.replace("```python", "").replace("(https://example.com)", "")
    for word in re.findall(r"[A-Za-z]{3,}", visible):
        assert word in screen.text
    assert "**" not in screen.text and "```" not in screen.text and "## " not in screen.text


@pytest.mark.parametrize("most", [1, 4, 40, 10_000])
def test_the_final_screen_is_the_whole_answer_rendered(most):
    output, _ = stream(chunks(DOC, most=most))
    assert replay(output).text == whole_render(DOC)


def test_a_long_code_block_comes_out_in_segments_that_look_like_one_block():
    code = "\n".join(f"value_{i} = compute({i}, 'x' * {i % 7})" for i in range(120))
    text = f"Intro line.\n\n```python\n{code}\n```\n\nOutro line.\n"
    output, writer = stream(chunks(text), height=12)
    assert replay(output, height=12).text == whole_render(text)
    assert writer.work["render_calls"] > 10  # rendered piecewise, as the tail filled up
    assert writer.work["rendered_chars"] <= len(text)


def test_a_long_list_is_rendered_before_it_outgrows_the_screen():
    text = "".join(f"- item number {i}\n" for i in range(200)) + "\nafter\n"
    output, _ = stream(chunks(text), height=10)
    screen = replay(output, height=10)
    assert screen.text == whole_render(text)


def test_a_paragraph_too_long_for_the_screen_stays_raw_but_complete():
    words = [f"w{i}" for i in range(3000)]
    text = "# Head\n\n" + " ".join(words) + "\n\nnext **para**\n"
    output, _ = stream(chunks(text), height=10)
    screen = replay(output, height=10)
    # rows are wrapped by the writer, not the terminal; the words themselves are all there
    assert re.findall(r"w\d+", screen.text.replace("\n", "")) == words
    assert screen.text.endswith("next para")


def test_wide_characters_tabs_and_control_codes_keep_the_tail_erasable():
    line = "\u4e2d\u6587\t\u00e9\x07 \U0001f600 " * 300
    text = f"para {line}\n\n```\n{line}\n```\n\nend\n"
    output, _ = stream(chunks(text), width=30, height=8)
    screen = replay(output, width=30, height=8)
    assert screen.text.endswith("end")
    assert "\x07" not in output


def test_escape_sequences_from_the_model_do_not_reach_the_terminal():
    output, _ = stream(["a \x1b]0;title\x07 b\x1b[2J\r\n", "\n```\nx\x1b[31m\n```\n"])
    assert "\x1b]0" not in output and "\x1b[2J" not in output and "\x1b[31m" not in output
    assert replay(output).text == whole_render("a ]0;title b[2J\n\n```\nx[31m\n```")


def test_close_renders_an_unfinished_block():
    output, _ = stream(["Some **bold", "** text", "\n\n```py\nx = 1"])
    screen = replay(output)
    assert screen.text == whole_render("Some **bold** text\n\n```py\nx = 1\n```")


def test_a_fence_inside_a_list_item_keeps_blank_lines_in_the_block():
    text = "1. step one:\n   ```sh\n   echo a\n\n   echo b\n   ```\n2. step two\n\nafter\n"
    output, _ = stream(chunks(text))
    assert replay(output).text == whole_render(text)


# -- the Markdown path is linear in the answer's length ---------------------------------------

def markdown_shaped(count: int) -> list[str]:
    """COUNT deltas: a heading, a paragraph, a list and a code block every 40 deltas."""
    cycle = (["## Section\n\n"] + ["word "] * 15 + ["**bold**.\n\n"] + ["- item\n"] * 6
             + ["\n```python\n"] + ["x = 1\n"] * 15 + ["```\n\n"])
    assert len(cycle) == 40
    return (cycle * (count // 40 + 1))[:count]


def single_paragraph(count: int) -> list[str]:
    return ["word "] * count


def single_code_block(count: int) -> list[str]:
    return ["```python\n"] + ["x = 1\n"] * count


@pytest.fixture
def counted(monkeypatch):
    """Characters handed to Rich's renderers, whatever the writer says about itself."""
    work = {"chars": 0, "calls": 0}

    class CountingMarkdown(live_tail.Markdown):
        def __init__(self, markup, *args, **kwargs):
            work["chars"] += len(markup)
            work["calls"] += 1
            super().__init__(markup, *args, **kwargs)

    class CountingSyntax(live_tail.Syntax):
        def __init__(self, code, *args, **kwargs):
            work["chars"] += len(code)
            work["calls"] += 1
            super().__init__(code, *args, **kwargs)

    monkeypatch.setattr(live_tail, "Markdown", CountingMarkdown)
    monkeypatch.setattr(live_tail, "Syntax", CountingSyntax)
    return work


@pytest.mark.parametrize("shape", [markdown_shaped, single_paragraph, single_code_block])
def test_markdown_work_grows_linearly(counted, shape):
    def work(count: int) -> tuple[int, int]:
        counted["chars"] = 0
        output, writer = stream(shape(count), height=HEIGHT)
        assert writer.work["rendered_chars"] == counted["chars"]
        return counted["chars"] + writer.work["shown_chars"], len(output)

    small, small_output = work(1_200)
    large, large_output = work(4_800)  # a renderer that re-renders what it showed would give 16x
    assert small > 1_200
    assert 3.8 <= large / small <= 4.2
    assert 3.8 <= large_output / small_output <= 4.2


def test_work_counter_catches_a_renderer_that_re_renders_everything(counted):
    """The counting fixture sees the quadratic approach the writer must not take."""
    def naive(count: int) -> int:
        counted["chars"] = 0
        text = ""
        for delta in markdown_shaped(count)[:count]:
            text += delta
            live_tail.Markdown(text)
        return counted["chars"]

    assert naive(400) / naive(100) > 12


# -- usage line --------------------------------------------------------------------------------

USAGE = {"prompt_tokens": 12, "completion_tokens": 34, "total_tokens": 46}


def test_usage_line_text():
    assert usage_line(USAGE, "stop") == "tokens: 12 prompt + 34 completion = 46 \u00b7 finish: stop"
    assert usage_line({"prompt_tokens": 1, "completion_tokens": 2}, None) == \
        "tokens: 1 prompt + 2 completion = 3"
    assert usage_line(None, "length") == "finish: length"
    assert usage_line(None, None) is None


def test_usage_goes_to_a_terminal_stderr_dim_when_styled():
    env, out, err = make_env(stderr_tty=True, color="auto")
    write_usage(env, USAGE, "stop", verbose=False)
    assert err.getvalue() == "\x1b[2mtokens: 12 prompt + 34 completion = 46 \u00b7 finish: stop\x1b[0m\n"
    assert out.getvalue() == ""


def test_usage_off_a_terminal_only_when_verbose_and_plain():
    env, _, err = make_env(tty=False, stderr_tty=False, color="auto")
    write_usage(env, USAGE, "stop", verbose=False)
    assert err.getvalue() == ""
    write_usage(env, USAGE, "stop", verbose=True)
    assert err.getvalue() == "tokens: 12 prompt + 34 completion = 46 \u00b7 finish: stop\n"


def test_usage_on_a_terminal_with_no_color_is_plain():
    env, _, err = make_env(stderr_tty=True, color="auto", environ={"NO_COLOR": "1"})
    write_usage(env, None, "stop", verbose=False)
    assert err.getvalue() == "finish: stop\n"


# -- start-up cost -----------------------------------------------------------------------------

def test_the_pipe_path_imports_no_rich():
    code = ("import io, sys; from mistral_cli.env import Env; "
            "from mistral_cli.render.stream import make_stream_writer; "
            "w = make_stream_writer(Env(stdout=io.StringIO(), stdout_isatty=False), True); "
            "w.write('x'); w.close(); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('rich', 'markdown_it')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_the_block_being_written_shows_raw_and_a_complete_block_renders_at_once():
    env, out, _ = make_env()
    writer = make_stream_writer(env, markdown=True)
    writer.write("Some **bo")
    assert out.getvalue() == "Some **bo"                  # raw, as it arrives
    writer.write("ld** text\n\nNext")
    screen = replay(out.getvalue())
    assert screen.text == "Some bold text\n\nNext"        # the paragraph already rendered
    assert "\x1b[1mbold" in out.getvalue()
    writer.close()
    assert replay(out.getvalue()).text == "Some bold text\n\nNext"


# -- random documents, cut at random places, on terminals of many sizes -----------------------

def random_document(rng: random.Random) -> str:
    """Blocks of every kind the writer treats apart; words are Q + letters, in order."""
    count = iter(range(10**6))

    def words(most: int) -> str:
        return " ".join("Q" + "".join(chr(97 + int(d)) for d in str(next(count)))
                        for _ in range(rng.randint(1, most)))

    makers = [
        lambda: "# " + words(4),
        lambda: "\n".join(words(30) for _ in range(rng.randint(1, 6))),
        lambda: "\n".join("- " + words(8) for _ in range(rng.randint(1, 30))),
        lambda: "```py\n" + "\n".join("X = " + words(6) for _ in range(rng.randint(1, 60))) + "\n```",
        lambda: ("1. " + words(5) + "\n\n   ```sh\n"
                 + "\n".join("   " + words(5) for _ in range(rng.randint(1, 40)))
                 + "\n   ```\n\n2. " + words(3)),
        lambda: words(400),
        lambda: "> " + words(10),
        lambda: "---",
        lambda: "1. " + words(3) + "\n\n   " + words(20) + "\n\n2. " + words(4),
    ]
    blocks = [rng.choice(makers)() for _ in range(rng.randint(1, 8))]
    return "\n\n".join(blocks) + ("\n" if rng.random() < 0.5 else "")


@pytest.mark.parametrize("seed", range(40))
def test_random_documents_stay_erasable_and_keep_every_word_in_order(seed):
    rng = random.Random(seed)
    text = random_document(rng)
    width, height = rng.choice([20, 40, 80, 120]), rng.choice([3, 5, 10, 25, 50])
    output, _ = stream(chunks(text, seed=seed, most=rng.choice([1, 5, 30, 500])), width, height)
    screen = replay(output, width, height)
    shown = re.findall(r"Q[a-z]+", re.sub(r"\s+", "", screen.text))
    assert shown == re.findall(r"Q[a-z]+", text)
