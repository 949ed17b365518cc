"""The one gate between server text and a terminal.

Every string that came from the network (ids, names, statuses, errors, answers, Markdown)
passes through here before a human view shows it:

- `safe_text(value)`: control characters removed (C0 but tab and newline, DEL, C1; ESC among
  them), so no escape sequence (OSC 52 clipboard writes, `ESC[2J`, OSC 8 links) reaches the
  screen. For raw writes to a terminal, Rich `Text` objects and Markdown.
- `safe_markup(value)`: the same, with Rich markup escaped, for strings Rich reads as markup
  (table cells, panel and table titles, progress-bar text): `[link=...]` and `[/bold]` show as
  they are, never as a style, a link or a MarkupError.

JSON and TSV output do not come here: they stay byte-exact (render/output.py).
Imports only `re`: the pipe path loads nothing for it.
"""

from __future__ import annotations

import re
from typing import Any

# C0 and C1 control characters and DEL, but tab and newline.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# A bracket with the backslashes before it, and the rest of a tag if Rich would read one
# there (rich.markup.RE_TAGS).
_BRACKET = re.compile(r"(\\*)(\[(?:[a-z#/@][^[]*?\])?)")
_TRAILING = re.compile(r"\\+\Z")
# An empty span: backslashes before it are read as before a tag, whatever follows the text.
_NO_OP_TAG = "[none][/none]"


def safe_text(value: Any) -> str:
    """VALUE as text with every control character but tab and newline removed."""
    text = "" if value is None else value if isinstance(value, str) else str(value)
    return CONTROL.sub("", text) if CONTROL.search(text) else text


def safe_markup(value: Any) -> str:
    """VALUE as text for a Rich markup string: controls removed, markup escaped."""
    text = safe_text(value)
    if "[" in text:
        text = _BRACKET.sub(_escape_bracket, text)
    if text.endswith("\\"):
        text = _TRAILING.sub(_end_backslashes, text)
    return text


def _escape_bracket(match: re.Match[str]) -> str:
    """A bracket MATCH made literal. Rich reads `\\\\` before a tag as one backslash and `\\[`
    as an escaped tag, and turns `\\[` into `[` where no tag follows."""
    backslashes, bracket = match.groups()
    if len(bracket) > 1:
        return f"{backslashes}{backslashes}\\{bracket}"
    return f"{backslashes}\\[" if backslashes else "["


def _end_backslashes(match: re.Match[str]) -> str:
    """Backslashes ending a text, doubled before an empty tag, so that markup written after
    the text (`[/bold]`) is neither escaped by them nor changes how many show."""
    return match.group() * 2 + _NO_OP_TAG
