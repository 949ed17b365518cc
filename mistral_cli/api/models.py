"""Listing the models (tag `models`); the other model operations need no function of their
own: commands send them through api/operations.py (`fetch_object`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mistral_cli.api.operations import call

if TYPE_CHECKING:  # pragma: no cover - only for annotations: `mcli models --help` never loads httpx
    from mistral_cli.http.client import HTTPClient


def list_models(client: HTTPClient) -> dict:
    """GET /v1/models."""
    return call(client, "models.list")
