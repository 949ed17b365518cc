"""Helpers for the generation-command tests (chat, agents, fim, REPL): stream chunks, tool
calls, tiny PNG/PDF files, the config file, the saved history and a scripted REPL input."""

from __future__ import annotations

import json
import os
import struct
import zlib
from pathlib import Path
from typing import Any

from tests.fakeapi.defaults import CREATED, USAGE

MODEL = "mistral-small-latest"


def chunk(content: str | None = None, *, tool_calls: list | None = None, finish: str | None = None,
          usage: dict | None = None, role: str | None = None, model: str = MODEL,
          cid: str = "cmpl-t") -> dict:
    """One chat.completion.chunk event."""
    delta: dict[str, Any] = {}
    if role:
        delta["role"] = role
    if content is not None:
        delta["content"] = content
    if tool_calls is not None:
        delta["tool_calls"] = tool_calls
    event = {"id": cid, "object": "chat.completion.chunk", "created": CREATED, "model": model,
             "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    if usage is not None:
        event["usage"] = usage
    return event


def text_chunks(*pieces: str, finish: str = "stop") -> list[dict]:
    """A streamed text answer: one chunk per piece, finish reason and usage on the last."""
    events = [chunk(piece, role="assistant" if i == 0 else None) for i, piece in enumerate(pieces)]
    events.append(chunk("", finish=finish, usage=USAGE))
    return events


def tool_call(call_id: str, name: str, arguments: Any, index: int = 0) -> dict:
    """A ToolCall as the API sends it (arguments JSON-encoded)."""
    if not isinstance(arguments, str):
        arguments = json.dumps(arguments)
    return {"id": call_id, "type": "function", "index": index,
            "function": {"name": name, "arguments": arguments}}


def tool_call_chunks(*calls: dict) -> list[dict]:
    """A streamed answer that only calls tools."""
    return [chunk("", role="assistant"), chunk(tool_calls=list(calls)),
            chunk("", finish="tool_calls", usage=USAGE)]


def completion(text: str = "Hi!", *, tool_calls: list | None = None, finish: str = "stop",
               choices: int = 1, model: str = MODEL) -> dict:
    """A whole chat.completion body."""
    return {"id": "cmpl-w", "object": "chat.completion", "created": CREATED, "model": model,
            "usage": USAGE,
            "choices": [{"index": i, "finish_reason": "tool_calls" if tool_calls else finish,
                         "message": {"role": "assistant",
                                     "content": text if choices == 1 else f"{text} #{i + 1}",
                                     "tool_calls": tool_calls}} for i in range(choices)]}


def png_bytes() -> bytes:
    """A valid 1x1 PNG."""
    def part(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return b"\x89PNG\r\n\x1a\n" + part(b"IHDR", header) + part(b"IDAT", pixels) + part(b"IEND", b"")


def pdf_bytes() -> bytes:
    """A tiny one-page PDF."""
    return (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
            b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
            b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 72 72]>>endobj\n"
            b"trailer<</Root 1 0 R>>\n%%EOF\n")


def write_config(text: str) -> Path:
    """Write the TOML config file of the isolated test environment."""
    path = Path(os.environ["MCLI_CONFIG_DIR"]) / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def history_path() -> Path:
    """The history database of the isolated test environment."""
    return Path(os.environ["MCLI_DATA_DIR"]) / "history.db"


def open_history():
    """The saved history (the store), for assertions."""
    from mistral_cli.store.conversations import ConversationStore

    return ConversationStore(history_path())


def saved(kind: str | None = None):
    """The latest saved conversation (of KIND) with its records, or None."""
    store = open_history()
    try:
        conversation = store.latest(kind)
        if conversation is None:
            return None, []
        return conversation, store.records(conversation.id)
    finally:
        store.close()


def chat_requests(api, path: str = "/v1/chat/completions") -> list:
    """The recorded requests to a generation endpoint."""
    return api.requests_to("POST", path)


class ScriptedInput:
    """A read_line that plays back items: strings are lines, exceptions are raised."""

    def __init__(self, *items):
        self.items = list(items)
        self.prompts: list[str] = []

    def __call__(self, prompt: str) -> str:
        self.prompts.append(prompt)
        if not self.items:
            raise EOFError
        item = self.items.pop(0)
        if isinstance(item, BaseException):
            raise item
        return item
