"""The six model operations (tag `models`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

if TYPE_CHECKING:  # pragma: no cover - only for annotations: `mcli models --help` never loads httpx
    from mistral_cli.http.client import HTTPClient


def _id(model_id: str) -> str:
    return quote(model_id, safe="")


def list_models(client: HTTPClient) -> dict:
    """GET /v1/models."""
    return client.call("GET", "/v1/models")


def get_model(client: HTTPClient, model_id: str) -> dict:
    """GET /v1/models/{model_id}."""
    return client.call("GET", f"/v1/models/{_id(model_id)}")


def delete_model(client: HTTPClient, model_id: str) -> dict:
    """DELETE /v1/models/{model_id}."""
    return client.call("DELETE", f"/v1/models/{_id(model_id)}")


def update_model(client: HTTPClient, model_id: str, fields: dict[str, Any]) -> dict:
    """PATCH /v1/fine_tuning/models/{model_id} with name and/or description."""
    return client.call("PATCH", f"/v1/fine_tuning/models/{_id(model_id)}", json_body=fields)


def archive_model(client: HTTPClient, model_id: str) -> dict:
    """POST /v1/fine_tuning/models/{model_id}/archive."""
    return client.call("POST", f"/v1/fine_tuning/models/{_id(model_id)}/archive")


def unarchive_model(client: HTTPClient, model_id: str) -> dict:
    """DELETE /v1/fine_tuning/models/{model_id}/archive."""
    return client.call("DELETE", f"/v1/fine_tuning/models/{_id(model_id)}/archive")
