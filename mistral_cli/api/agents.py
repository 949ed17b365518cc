"""Agent completions (tag `agents`): POST /v1/agents/completions, whole or as a stream of chunks."""

from __future__ import annotations

from collections.abc import Iterator

from mistral_cli.api.operations import generate, generate_stream
from mistral_cli.http.client import HTTPClient

OPERATION = "agents.complete"


def complete(client: HTTPClient, body: dict) -> dict:
    """The whole chat.completion body."""
    return generate(client, OPERATION, body)


def stream(client: HTTPClient, body: dict) -> Iterator[dict]:
    """Each chat.completion chunk of the streamed answer."""
    return generate_stream(client, OPERATION, body)
