"""The sandbox's stand-in answers, each derived from its request alone: the same prompt gets the
same answer (online and in a batch job), embeddings and moderation scores come from each text's
hash (analysis.py), OCR gives one page of Markdown per page it receives. No model runs: the
words say so.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import time
from typing import Any, Callable

from .analysis import embedding_body, moderation_body
from .responses import json_response, sse_response

DIMS = 1024  # mistral-embed's length
WORDS = ("sandbox", "stand-in", "answer", "no", "model", "ran", "here", "same", "prompt", "gives",
         "words", "local", "test", "pipeline", "deterministic", "hash", "of", "the", "input", "reply")
SNIPPET = 60  # characters of the prompt an answer quotes
FILE_URL = re.compile(r"/v1/files/([A-Za-z0-9_-]+)/content")
PDF_PAGE = re.compile(rb"/Type\s*/Page(?!s)")


def digest(value: Any) -> bytes:
    """The sha256 of VALUE's canonical JSON."""
    return hashlib.sha256(json.dumps(value, sort_keys=True, ensure_ascii=False).encode("utf-8", "surrogatepass")).digest()


def text_of(content: Any) -> str:
    """The text of a message's content: a string, or the text chunks of a list."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(chunk.get("text", "")) for chunk in content if isinstance(chunk, dict))
    return ""


def _prompt(body: dict) -> tuple[str, Any]:
    """The text an answer quotes and the value it is derived from."""
    if "prompt" in body:  # fim
        return str(body.get("prompt") or ""), [body.get("prompt"), body.get("suffix")]
    messages = [m for m in body.get("messages") or [] if isinstance(m, dict)]
    users = [m for m in messages if m.get("role") == "user"] or messages
    return (text_of(users[-1].get("content")) if users else ""), messages


def answer_text(body: dict) -> tuple[str, str, int]:
    """The answer's text, its finish reason and the prompt's token count, for BODY."""
    prompt, source = _prompt(body)
    seed = digest(source)
    snippet = " ".join(prompt.split())
    snippet = snippet if len(snippet) <= SNIPPET else snippet[:SNIPPET] + "…"
    text = f'Sandbox answer to "{snippet}": ' + " ".join(WORDS[b % len(WORDS)] for b in seed[:12]) + "."
    if (body.get("response_format") or {}).get("type") in ("json_object", "json_schema"):
        text = json.dumps({"answer": text})
    words, reason = text.split(" "), "stop"
    limit = body.get("max_tokens")
    if isinstance(limit, int) and 0 < limit < len(words):
        words, reason = words[:limit], "length"
    return " ".join(words), reason, max(1, len(json.dumps(source).split()))


def completion(body: dict, default_model: str) -> Any:
    """The answer to a chat, agents or fim request: a chat.completion, or its chunks streamed."""
    text, reason, prompt_tokens = answer_text(body)
    model = body.get("model") or default_model
    answer_id = "cmpl-sandbox-" + digest([model, text]).hex()[:16]
    pieces = [word + " " for word in text.split(" ")]
    pieces[-1] = pieces[-1][:-1]
    usage = {"prompt_tokens": prompt_tokens, "completion_tokens": len(pieces),
             "total_tokens": prompt_tokens + len(pieces)}
    created = int(time.time())
    if body.get("stream"):
        return sse_response(_chunks(answer_id, created, model, pieces, reason, usage))
    return json_response({"id": answer_id, "object": "chat.completion", "created": created, "model": model,
                          "usage": usage, "choices": [{"index": 0, "finish_reason": reason, "message": {
                              "role": "assistant", "content": text, "tool_calls": None, "prefix": False}}]})


def _chunks(answer_id: str, created: int, model: str, pieces: list[str], reason: str, usage: dict) -> list[dict]:
    """chat.completion.chunk events: the role first, the finish reason and usage last."""
    events = []
    for index, piece in enumerate(pieces):
        last = index == len(pieces) - 1
        delta = {"content": piece, **({"role": "assistant"} if index == 0 else {})}
        event = {"id": answer_id, "object": "chat.completion.chunk", "created": created, "model": model,
                 "choices": [{"index": 0, "delta": delta, "finish_reason": reason if last else None}]}
        if last:
            event["usage"] = usage
        events.append(event)
    return events


def embeddings(body: dict) -> dict:
    """The EmbeddingResponse: one vector per text from its hash."""
    return embedding_body(body, DIMS)


def _texts(items: Any) -> list[str]:
    """The texts of a classifier's input: texts, or chats ({"messages": [...]}: the last message)."""
    if isinstance(items, (str, dict)):
        items = [items]
    texts = []
    for item in items or []:
        if isinstance(item, str):
            texts.append(item)
            continue
        messages = item.get("messages") if isinstance(item, dict) else None
        last = messages[-1] if isinstance(messages, list) and messages else {}
        texts.append(text_of(last.get("content")) if isinstance(last, dict) else "")
    return texts


def classifications(body: dict) -> dict:
    """The ClassificationResponse: one `sandbox` target per text, its scores from the hash."""
    results = []
    for text in _texts(body.get("input") or body.get("inputs")):
        share = round(digest(text)[0] / 255, 4)
        results.append({"sandbox": {"scores": {"positive": share, "negative": round(1 - share, 4)}}})
    tokens = max(1, sum(len(text.split()) for text in _texts(body.get("input") or body.get("inputs"))))
    return {"id": "cls-sandbox-" + digest(body).hex()[:12], "model": body.get("model") or "sandbox-classifier",
            "usage": {"prompt_tokens": tokens, "completion_tokens": 0, "total_tokens": tokens}, "results": results}


def moderations(body: dict) -> dict:
    """The ModerationResponse (analysis.moderation_body)."""
    return moderation_body(body)


def ocr(body: dict, content_of: Callable[[str], bytes | None]) -> dict:
    """The OCRResponse: one Markdown page per page of the document (a PDF's pages, else one),
    the document read from a data: URL or a sandbox file's URL (CONTENT_OF a file id)."""
    document = body.get("document") or {}
    url = document.get("document_url") or document.get("image_url") or ""
    url = url.get("url", "") if isinstance(url, dict) else str(url)
    data = _document_bytes(url, content_of)
    count = max(1, len(PDF_PAGE.findall(data))) if data.startswith(b"%PDF") else 1
    wanted = body.get("pages")
    indexes = [i for i in range(count) if not wanted or i in wanted]
    name = document.get("document_name") or "the document"
    seal = hashlib.sha256(data).hexdigest()[:12]
    pages = [{"index": i, "images": [], "dimensions": {"dpi": 200, "height": 2200, "width": 1700},
              "markdown": f"# Page {i + 1}\n\nSandbox OCR stand-in for page {i + 1} of {count} of {name} "
                          f"({len(data)} bytes, sha256 {seal}…). No text was read."} for i in indexes]
    return {"model": body.get("model") or "mistral-ocr-latest", "pages": pages,
            "usage_info": {"pages_processed": len(pages), "doc_size_bytes": len(data)}}


def _document_bytes(url: str, content_of: Callable[[str], bytes | None]) -> bytes:
    """The bytes URL names: a data: URL's, a sandbox file's, else none (the sandbox never fetches)."""
    if url.startswith("data:"):
        _, _, payload = url.partition(",")
        try:
            return base64.b64decode(payload, validate=False)
        except (binascii.Error, ValueError):
            return b""
    found = FILE_URL.search(url)
    return (content_of(found.group(1)) or b"") if found else b""
