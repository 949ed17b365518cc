"""Embeddings (tag `embeddings`): POST /v1/embeddings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mistral_cli.api.operations import call

if TYPE_CHECKING:  # pragma: no cover - only for annotations: `--help` never loads httpx
    from mistral_cli.http.client import HTTPClient


def embed(client: HTTPClient, body: dict) -> dict:
    """POST /v1/embeddings (creates nothing: retried on 429/5xx); return EmbeddingResponse."""
    return call(client, "embeddings.embed", json_body=body)
