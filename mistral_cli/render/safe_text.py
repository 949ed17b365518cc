"""The one gate between server text and a terminal.

Every string that came from the network (ids, names, statuses, errors, answers, Markdown)
passes through here before a human view shows it:

- `safe_text(value)`: control characters removed (C0 but tab and newline, DEL, C1; ESC among
  them), so no escape sequence (OSC 52 clipboard writes, `ESC[2J`, OSC 8 links) reaches the
  screen; and invisible format characters (every character of category Cf: the bidi
  overrides and isolates U+202A-202E and U+2066-2069, zero-width spaces and joiners, the BOM)
  and the line and paragraph separators U+2028 and U+2029 shown escaped, the way error
  messages show them (errors.redact: `\u202e`), so `invoice\u202elsx.exe` never reads as
  `invoiceexe.xsl`. For raw writes to a terminal, Rich `Text` objects and Markdown.
  `neutralise(text)` is the same for a str, for the streaming path: one precompiled regex
  search per chunk, and a substitution only in a chunk that holds such a character.
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
# Every character of category Cf (Unicode 15.1, a superset of older tables; a test checks it
# against unicodedata), and the line and paragraph separators; those of the BMP apart, as a
# class of BMP characters only is one table lookup a character for the regex engine.
FORMAT_BMP = ("\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f"
              "\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb")
FORMAT_ASTRAL = ("\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3"
                 "\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f")
# What no terminal view shows as it is: controls (removed) and format characters (escaped).
UNSAFE = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{FORMAT_BMP}{FORMAT_ASTRAL}]")
_UNSAFE_BMP = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{FORMAT_BMP}]")
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
_FORMAT_ASTRAL = re.compile(f"[{FORMAT_ASTRAL}]")
# A bracket with the backslashes before it, and the rest of a tag if Rich would read one
# there (rich.markup.RE_TAGS).
_BRACKET = re.compile(r"(\\*)(\[(?:[a-z#/@][^[]*?\])?)")
_TRAILING = re.compile(r"\\+\Z")
# An empty span: backslashes before it are read as before a tag, whatever follows the text.
_NO_OP_TAG = "[none][/none]"


def safe_text(value: Any) -> str:
    """VALUE as text with every control character but tab and newline removed and every
    invisible format character escaped."""
    text = "" if value is None else value if isinstance(value, str) else str(value)
    return neutralise(text)


def neutralise(text: str) -> str:
    """TEXT with controls but tab and newline removed and format characters escaped."""
    if text.isascii():  # constant time in CPython: the common chunk of a stream
        return CONTROL.sub("", text) if CONTROL.search(text) else text
    if _UNSAFE_BMP.search(text) or (_ASTRAL.search(text) and _FORMAT_ASTRAL.search(text)):
        return UNSAFE.sub(_neutral, text)
    return text


def _neutral(match: re.Match[str]) -> str:
    """A control character removed; a format character as `\\u202e` (errors.redact's way)."""
    char = match.group()
    return "" if char <= "\x9f" else repr(char)[1:-1]


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
