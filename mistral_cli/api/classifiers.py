"""The four classifier operations (tag `classifiers`): moderations and classifications,
of plain texts or of chats. None creates anything, so each is retried on 429/5xx."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mistral_cli.http.effect import Effect

if TYPE_CHECKING:  # pragma: no cover - only for annotations: `--help` never loads httpx
    from mistral_cli.http.client import HTTPClient

MODERATIONS = "/v1/moderations"
CHAT_MODERATIONS = "/v1/chat/moderations"
CLASSIFICATIONS = "/v1/classifications"
CHAT_CLASSIFICATIONS = "/v1/chat/classifications"


def _post(client: HTTPClient, path: str, body: dict) -> dict:
    """POST BODY to PATH as a computation (retried on 429/5xx)."""
    return client.call("POST", path, json_body=body, effect=Effect.COMPUTE)


def moderate(client: HTTPClient, body: dict) -> dict:
    """POST /v1/moderations (ClassificationRequest); return ModerationResponse."""
    return _post(client, MODERATIONS, body)


def moderate_chat(client: HTTPClient, body: dict) -> dict:
    """POST /v1/chat/moderations (ChatModerationRequest); return ModerationResponse."""
    return _post(client, CHAT_MODERATIONS, body)


def classify(client: HTTPClient, body: dict) -> dict:
    """POST /v1/classifications (ClassificationRequest); return ClassificationResponse."""
    return _post(client, CLASSIFICATIONS, body)


def classify_chat(client: HTTPClient, body: dict) -> dict:
    """POST /v1/chat/classifications (ChatClassificationRequest); return ClassificationResponse."""
    return _post(client, CHAT_CLASSIFICATIONS, body)
