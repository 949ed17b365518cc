"""Deterministic answers of the analysis endpoints (embeddings, moderations), derived from the
input texts, so a test can tell whose answer is whose: the online handlers and the batch
simulator give the same input the same answer, and a result printed for the wrong input shows.

    api.add("POST", "/v1/embeddings", online_embeddings(dims=8))
    api.add("POST", "/v1/moderations", online_moderations)
"""

from __future__ import annotations

import hashlib
from typing import Any, Callable

from .responses import json_response

USAGE = {"prompt_tokens": 3, "completion_tokens": 0, "total_tokens": 3}
CATEGORIES = ("sexual", "hate_and_discrimination", "violence_and_threats", "selfharm")
FLAG_WORDS = {"kill": "violence_and_threats", "hate": "hate_and_discrimination"}


def vector_for(text: str, dims: int) -> list[float]:
    """DIMS numbers drawn from TEXT's hash (the same text, the same vector)."""
    seed = hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()
    return [round((seed[i % 32] + i) % 251 / 250 - 0.5, 6) for i in range(dims)]


def embedding_body(body: dict, dims: int) -> dict:
    """The EmbeddingResponse to BODY (its input a text or a list of texts)."""
    texts = body.get("input", "")
    texts = [texts] if isinstance(texts, str) else list(texts)
    return {"id": "emb-fake", "object": "list", "model": body.get("model", "mistral-embed"),
            "usage": USAGE, "data": [{"object": "embedding", "index": i, "embedding": vector_for(text, dims)}
                                     for i, text in enumerate(texts)]}


def verdict_for(text: str) -> dict:
    """A ModerationObject: a category is flagged when TEXT holds its word ("kill", "hate")."""
    flagged = {category for word, category in FLAG_WORDS.items() if word in text.lower()}
    seed = hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()
    return {"categories": {name: name in flagged for name in CATEGORIES},
            "category_scores": {name: 0.97 if name in flagged else round(seed[n] / 2550, 4)
                                for n, name in enumerate(CATEGORIES)}}


def moderation_body(body: dict) -> dict:
    """The ModerationResponse to BODY: texts (/v1/moderations) or conversations (/v1/chat/moderations)."""
    items = body.get("input", "")
    if isinstance(items, str):
        items = [items]
    elif items and isinstance(items[0], dict):  # one conversation
        items = [items]
    texts = [item if isinstance(item, str) else str(item[-1].get("content", "")) for item in items]
    return {"id": "mod-fake", "model": body.get("model", "mistral-moderation-latest"), "usage": USAGE,
            "results": [verdict_for(text) for text in texts]}


def online_embeddings(dims: int = 8) -> Callable[[Any], Any]:
    """An online handler for POST /v1/embeddings answering with vector_for."""
    return lambda req: json_response(embedding_body(req.json or {}, dims))


def online_moderations(req) -> Any:
    """An online handler for POST /v1/moderations and /v1/chat/moderations."""
    return json_response(moderation_body(req.json or {}))
