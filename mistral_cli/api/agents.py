"""Agent completions (tag `agents`): POST /v1/agents/completions."""

from __future__ import annotations

from collections.abc import Iterator

from mistral_cli.http.client import HTTPClient
from mistral_cli.http.effect import Effect

PATH = "/v1/agents/completions"


def complete(client: HTTPClient, body: dict) -> dict:
    """POST /v1/agents/completions without streaming; return the chat.completion body."""
    return client.call("POST", PATH, json_body={**body, "stream": False},
                       effect=Effect.COMPUTE)


def stream(client: HTTPClient, body: dict) -> Iterator[dict]:
    """POST /v1/agents/completions with `stream: true`; yield each chat.completion.chunk."""
    return client.events("POST", PATH, json_body={**body, "stream": True},
                         effect=Effect.COMPUTE)
