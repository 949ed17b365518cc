"""Fine-tuning job operations that take more than a call (tag `fine-tuning`): create, list;
get, cancel and start are sent through the table (api/operations.py `call`, `fetch_object`);
get_job is left for the watch adapter's fetch until the watch code uses the table too.

What each does on the server decides its retries (its Effect, in api/operations.py's table):
- create is Effect.CREATE: a job costs money, so it is never retried once it may have arrived.
- cancel is Effect.REPEATABLE: asking twice is asking once (a cancelled job stays cancelled), and a
  cancel that gets through matters more than one retry too many.
- start is Effect.COMPUTE: it makes nothing new and cannot start a job twice, so a 5xx is
  retried; but a start that was sent and got no answer is not, since the repeat would be
  refused as "already started" and hide that the first one worked (`watch` tells).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mistral_cli.api.operations import call
from mistral_cli.api.pages import collect_pages

if TYPE_CHECKING:  # pragma: no cover - only for annotations: `--help` never loads httpx
    from mistral_cli.http.client import HTTPClient

def create_job(client: HTTPClient, body: dict, *, dry_run: bool = False) -> dict:
    """POST /v1/fine_tuning/jobs with a JobIn BODY; a job (or, with DRY_RUN, the estimate)."""
    params = {"dry_run": "true"} if dry_run else None
    return call(client, "fine_tuning.create", params=params, json_body=body)


def list_jobs(client: HTTPClient, *, page: int | None = None, page_size: int | None = None,
              **filters: Any) -> dict:
    """GET /v1/fine_tuning/jobs with the filters that are set; return JobsOut."""
    params: dict[str, Any] = {"page": page, "page_size": page_size, **filters}
    return call(client, "fine_tuning.list", params={key: _query(value) for key, value in params.items()
                                                    if value is not None})


def list_all_jobs(client: HTTPClient, *, page_size: int, **filters: Any) -> dict:
    """Every page of GET /v1/fine_tuning/jobs as one JobsOut (api/pages.py's stop rule)."""
    return collect_pages(lambda page: list_jobs(client, page=page, page_size=page_size, **filters))


def list_first_jobs(client: HTTPClient, count: int, *, page_size: int, **filters: Any) -> dict:
    """The pages of GET /v1/fine_tuning/jobs that hold its first COUNT jobs, as one JobsOut."""
    return collect_pages(lambda page: list_jobs(client, page=page, page_size=page_size, **filters),
                         limit=count)


def get_job(client: HTTPClient, job_id: str) -> dict:
    """GET /v1/fine_tuning/jobs/{job_id}: the job with its events and checkpoints."""
    return call(client, "fine_tuning.get", job_id)


def _query(value: Any) -> Any:
    """VALUE as a query string value (booleans as the spec's `true`/`false`)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value
