"""What the hostile-terminal tests share: Rich's own escape codes, the colour modes, a wide terminal."""

from __future__ import annotations

import re

import pytest

# Rich's own codes on a styled terminal: colours, and the cursor moves of a live view.
RICH_CODES = re.compile(r"\x1b\[[0-9;]*m|\x1b\[\?25[lh]|\x1b\[[0-9]*[AGK]")
OTHER_ID = "9fa85f64-5717-4562-b3fc-2c963f66afa7"
COLORS = pytest.mark.parametrize("color", ["always", "never"])


@pytest.fixture(autouse=True)
def wide(monkeypatch):
    """A terminal type that allows colour, and wide enough that no cell is folded."""
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setenv("COLUMNS", "1000")
