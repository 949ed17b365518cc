"""Fill-in-the-middle completions (tag `fim`): POST /v1/fim/completions, whole or as a stream of chunks."""

from __future__ import annotations

from collections.abc import Iterator

from mistral_cli.api.operations import generate, generate_stream
from mistral_cli.http.client import HTTPClient

OPERATION = "fim.complete"


def complete(client: HTTPClient, body: dict) -> dict:
    """The whole completion body."""
    return generate(client, OPERATION, body)


def stream(client: HTTPClient, body: dict) -> Iterator[dict]:
    """Each completion chunk of the streamed answer."""
    return generate_stream(client, OPERATION, body)
