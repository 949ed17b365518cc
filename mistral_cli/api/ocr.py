"""OCR (tag `ocr`): POST /v1/ocr."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mistral_cli.api.operations import call

if TYPE_CHECKING:  # pragma: no cover - only for annotations: `--help` never loads httpx
    from mistral_cli.http.client import HTTPClient


def ocr(client: HTTPClient, body: dict) -> dict:
    """POST /v1/ocr (creates nothing: retried on 429/5xx); return OCRResponse."""
    return call(client, "ocr.ocr", json_body=body)
