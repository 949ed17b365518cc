"""Plain text out of API messages: content that is a string or a list of chunks, tool calls, titles.

Two readings of content, and only these: `words` (the model's words, for an answer printed,
saved or piped) and `display_text` (what a person is shown, other chunks as placeholders).
"""

from __future__ import annotations

import json
from typing import Any

TITLE_LENGTH = 60


def words(content: Any) -> str:
    """The model's words in message CONTENT: a string as it is; of a list of chunks, the text
    chunks joined; thinking, images, documents, references and anything malformed left out."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(chunk["text"] for chunk in content if _is_text(chunk))
    return ""


def display_text(content: Any) -> str:
    """Message CONTENT (string, None, or list of chunks) as text to show a person: text chunks
    as written, other chunks as placeholders such as `[image: …]` or `[thinking]`."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = (_chunk_display(chunk) for chunk in content)
        return "".join(_join_parts(parts))
    return str(content)


def _is_text(chunk: Any) -> bool:
    """Whether CHUNK is a text chunk (`type` "text" or none) with text in it."""
    return isinstance(chunk, dict) and chunk.get("type", "text") == "text" and isinstance(chunk.get("text"), str)


def _chunk_display(chunk: Any) -> str:
    """One content chunk as shown: its text, or a short placeholder for any other kind."""
    if _is_text(chunk):
        return chunk["text"]
    if not isinstance(chunk, dict):
        return "" if chunk is None else str(chunk)
    kind = chunk.get("type", "text")
    if kind == "text":  # with no text in it
        return ""
    if kind == "image_url":
        url = chunk.get("image_url")
        url = url.get("url") if isinstance(url, dict) else url
        return f"[image: {_short(str(url or ''))}]"
    if kind == "document_url":
        return f"[document: {chunk.get('document_name') or _short(str(chunk.get('document_url') or ''))}]"
    if kind == "reference":
        return f"[references: {', '.join(str(r) for r in chunk.get('reference_ids') or [])}]"
    return f"[{kind}]"


def _join_parts(parts: Any) -> list[str]:
    """Text chunks run together as the model wrote them; placeholders get a space around them."""
    out: list[str] = []
    for part in parts:
        if not part:
            continue
        if out and (part.startswith("[") or out[-1].endswith("]")) and not out[-1].endswith((" ", "\n")):
            out.append(" ")
        out.append(part)
    return out


def tool_call_text(call: Any) -> str:
    """A tool call as `name(arguments)`."""
    if not isinstance(call, dict):
        return str(call)
    function = call.get("function") or {}
    name = function.get("name") or "?"
    arguments = function.get("arguments")
    if not isinstance(arguments, str):
        arguments = json.dumps(arguments, ensure_ascii=False, separators=(",", ":"))
    return f"{name}({arguments})"


def title_of(message: Any) -> str | None:
    """A title from a user message: its text on one line, truncated; None for other messages."""
    if not isinstance(message, dict) or message.get("role") != "user":
        return None
    text = " ".join(display_text(message.get("content")).split())
    if not text:
        return None
    return text if len(text) <= TITLE_LENGTH else text[: TITLE_LENGTH - 1].rstrip() + "…"


def _short(text: str, limit: int = 60) -> str:
    if text.startswith("data:"):
        return text.split(",", 1)[0] + ",…"
    return text if len(text) <= limit else text[: limit - 1] + "…"
