"""Agent completions (tag `agents`): POST /v1/agents/completions."""

from __future__ import annotations

from collections.abc import Iterator

from mistral_cli.api.operations import OPERATIONS
from mistral_cli.http.client import HTTPClient

OPERATION = OPERATIONS["agents.complete"]


def complete(client: HTTPClient, body: dict) -> dict:
    """POST /v1/agents/completions without streaming; return the chat.completion body."""
    return client.call(OPERATION.method, OPERATION.template, json_body={**body, "stream": False},
                       effect=OPERATION.effect)


def stream(client: HTTPClient, body: dict) -> Iterator[dict]:
    """POST /v1/agents/completions with `stream: true`; yield each chat.completion.chunk."""
    return client.events(OPERATION.method, OPERATION.template, json_body={**body, "stream": True},
                         effect=OPERATION.effect)
