"""Embeddings (tag `embeddings`): POST /v1/embeddings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mistral_cli.http.effect import Effect

if TYPE_CHECKING:  # pragma: no cover - only for annotations: `--help` never loads httpx
    from mistral_cli.http.client import HTTPClient

PATH = "/v1/embeddings"


def embed(client: HTTPClient, body: dict) -> dict:
    """POST /v1/embeddings (creates nothing: retried on 429/5xx); return EmbeddingResponse."""
    return client.call("POST", PATH, json_body=body, effect=Effect.COMPUTE)
