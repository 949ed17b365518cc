"""A progress bar and results on one real terminal (a pty): what is printed to stdout while a
bar shows on stderr starts on a line of its own, and the bar is gone at the end. Run against
the built-in sandbox (`--server-url sandbox`), so no server is needed."""

from __future__ import annotations

import os
import pty
import re
import select
import sys
import time
from pathlib import Path

from tests.process_helpers import default_sigint

CSI = re.compile(rb"\x1b\[([0-9;?]*)([A-Za-z])")


def run_on_pty(*args: str, cwd: Path) -> bytes:
    """Every byte `mcli ARGS` writes to a pty (stdout and stderr both), until it ends."""
    env = {**os.environ, "TERM": "xterm", "COLUMNS": "80"}
    env.pop("NO_COLOR", None)
    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - the child
        os.chdir(cwd)
        default_sigint()
        os.execve(sys.executable, [sys.executable, "-m", "mistral_cli", *args], env)
    seen, deadline = b"", time.monotonic() + 60  # bounds a hang, measures nothing
    while time.monotonic() < deadline:
        if select.select([fd], [], [], 1)[0]:
            try:
                data = os.read(fd, 65536)
            except OSError:
                data = b""
            if not data:
                break
            seen += data
    os.waitpid(pid, 0)
    os.close(fd)
    return seen


def screen(raw: bytes) -> list[str]:
    """The lines a terminal shows after RAW: \\r, \\n, erase-line and cursor-up are acted on,
    other escape sequences ignored."""
    lines, row, col = [""], 0, 0
    pos = 0
    text = raw.replace(b"\r\n", b"\n")
    while pos < len(text):
        match = CSI.match(text, pos)
        if match:
            arg, command = match.group(1).decode(), match.group(2).decode()
            if command == "K":
                lines[row] = lines[row][:col] if arg in ("", "0") else ""
            elif command == "A":
                row = max(row - int(arg or 1), 0)
            pos = match.end()
            continue
        char = text[pos:pos + 1]
        pos += 1
        if char == b"\n":
            row, col = row + 1, 0
            lines.extend([""] * (row + 1 - len(lines)))
        elif char == b"\r":
            col = 0
        else:
            width = len(char)
            while width < 4 and pos - 1 + width < len(text) and not _whole(text[pos - 1:pos - 1 + width]):
                width += 1
            glyph = text[pos - 1:pos - 1 + width].decode("utf-8", "replace")
            pos += width - 1
            line = lines[row].ljust(col)
            lines[row] = line[:col] + glyph + line[col + 1:]
            col += 1
    return lines


def _whole(piece: bytes) -> bool:
    try:
        piece.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def test_moderate_prints_its_tables_on_lines_of_their_own_below_no_stale_bar(tmp_path):
    (tmp_path / "texts.txt").write_text("hello\nworld\n")
    raw = run_on_pty("--server-url", "sandbox", "classifiers", "moderate", "-f", "texts.txt",
                     "--per-request", "1", cwd=tmp_path)
    shown = screen(raw)
    titles = [line for line in shown if re.match(r"#\d", line.strip())]
    assert [line.split()[0] for line in titles] == ["#1", "#2"], shown
    assert not any("moderate" in line and "━" in line for line in shown), shown  # the bar is gone
