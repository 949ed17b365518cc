"""The six model operations (tag `models`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mistral_cli.api.operations import call

if TYPE_CHECKING:  # pragma: no cover - only for annotations: `mcli models --help` never loads httpx
    from mistral_cli.http.client import HTTPClient


def list_models(client: HTTPClient) -> dict:
    """GET /v1/models."""
    return call(client, "models.list")


def get_model(client: HTTPClient, model_id: str) -> dict:
    """GET /v1/models/{model_id}."""
    return call(client, "models.get", model_id)


def delete_model(client: HTTPClient, model_id: str) -> dict:
    """DELETE /v1/models/{model_id}."""
    return call(client, "models.delete", model_id)


def update_model(client: HTTPClient, model_id: str, fields: dict[str, Any]) -> dict:
    """PATCH /v1/fine_tuning/models/{model_id} with name and/or description."""
    return call(client, "models.update", model_id, json_body=fields)


def archive_model(client: HTTPClient, model_id: str) -> dict:
    """POST /v1/fine_tuning/models/{model_id}/archive."""
    return call(client, "models.archive", model_id)


def unarchive_model(client: HTTPClient, model_id: str) -> dict:
    """DELETE /v1/fine_tuning/models/{model_id}/archive."""
    return call(client, "models.unarchive", model_id)
