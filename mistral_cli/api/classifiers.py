"""The four classifier operations (tag `classifiers`): moderations and classifications,
of plain texts or of chats. None creates anything, so each is retried on 429/5xx."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mistral_cli.api.operations import call

if TYPE_CHECKING:  # pragma: no cover - only for annotations: `--help` never loads httpx
    from mistral_cli.http.client import HTTPClient



def moderate(client: HTTPClient, body: dict) -> dict:
    """POST /v1/moderations (ClassificationRequest); return ModerationResponse."""
    return call(client, "classifiers.moderate", json_body=body)


def moderate_chat(client: HTTPClient, body: dict) -> dict:
    """POST /v1/chat/moderations (ChatModerationRequest); return ModerationResponse."""
    return call(client, "classifiers.moderate_chat", json_body=body)


def classify(client: HTTPClient, body: dict) -> dict:
    """POST /v1/classifications (ClassificationRequest); return ClassificationResponse."""
    return call(client, "classifiers.classify", json_body=body)


def classify_chat(client: HTTPClient, body: dict) -> dict:
    """POST /v1/chat/classifications (ChatClassificationRequest); return ClassificationResponse."""
    return call(client, "classifiers.classify_chat", json_body=body)
