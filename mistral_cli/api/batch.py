"""Batch job operations that take more than a call (tag `batch`): create, reading results;
the endpoints a job's requests go to (BatchEndpoint). Get and cancel are sent through the
table (api/operations.py `call`, `fetch_object`), the list through api/lists.py.

Each operation's Effect is api/operations.py's. Creating a job is Effect.CREATE (it costs
money: never repeated after a 5xx or a request that got no answer). Cancelling is
Effect.REPEATABLE: it creates nothing, and asking twice for the same job's cancellation leaves
the job exactly as asking once, so it may be retried like a GET.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from enum import Enum
from typing import TYPE_CHECKING, Any

from mistral_cli.api.operations import OPERATIONS, call

if TYPE_CHECKING:  # pragma: no cover - only for annotations: `mcli batch --help` never loads httpx
    from mistral_cli.http.client import HTTPClient


class BatchEndpoint(str, Enum):
    """The spec's ApiEndpoint: what every request of a job is sent to, each an operation's path."""

    chat = OPERATIONS["chat.complete"].template
    embeddings = OPERATIONS["embeddings.embed"].template
    fim = OPERATIONS["fim.complete"].template
    moderations = OPERATIONS["classifiers.moderate"].template
    chat_moderations = OPERATIONS["classifiers.moderate_chat"].template


OCR_ENDPOINT = OPERATIONS["ocr.ocr"].template  # not in the spec's ApiEndpoint, yet the service takes it


def create_job(client: HTTPClient, *, input_files: Sequence[str], endpoint: str, model: str,
               metadata: Mapping[str, str] | None = None, timeout_hours: int | None = None,
               extra: Mapping[str, Any] | None = None) -> dict:
    """POST /v1/batch/jobs (BatchJobIn, only the fields set, EXTRA fields under them); return BatchJobOut."""
    body: dict[str, Any] = {**(extra or {}), "input_files": list(input_files), "endpoint": endpoint,
                            "model": model}
    if metadata:
        body["metadata"] = dict(metadata)
    if timeout_hours is not None:
        body["timeout_hours"] = timeout_hours
    return call(client, "batch.create", json_body=body)



def iter_result_lines(client: HTTPClient, file_id: str) -> Iterator[Any]:
    """Each line of a result file (GET /v1/files/{file_id}/content), decoded, as it streams in;
    a line that is not JSON comes back as its text."""
    from mistral_cli.http.client import response_lines

    download = OPERATIONS["files.download"]
    with client.stream(download.method, download.path(file_id), effect=download.effect) as response:
        for line in response_lines(response):
            if line.strip():
                yield _decoded(line)


def _decoded(line: str) -> Any:
    try:
        return json.loads(line)
    except ValueError:
        return line
