"""Fine-tuning job operations that take more than a call (tag `fine-tuning`): create;
get, cancel and start are sent through the table (api/operations.py `call`, `fetch_object`);
the list through api/lists.py.

What each does on the server decides its retries (its Effect, in api/operations.py's table):
- create is Effect.CREATE: a job costs money, so it is never retried once it may have arrived.
- cancel is Effect.REPEATABLE: asking twice is asking once (a cancelled job stays cancelled), and a
  cancel that gets through matters more than one retry too many.
- start is Effect.COMPUTE: it makes nothing new and cannot start a job twice, so a 5xx is
  retried; but a start that was sent and got no answer is not, since the repeat would be
  refused as "already started" and hide that the first one worked (`watch` tells).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mistral_cli.api.operations import call

if TYPE_CHECKING:  # pragma: no cover - only for annotations: `--help` never loads httpx
    from mistral_cli.http.client import HTTPClient


def create_job(client: HTTPClient, body: dict, *, dry_run: bool = False) -> dict:
    """POST /v1/fine_tuning/jobs with a JobIn BODY; a job (or, with DRY_RUN, the estimate)."""
    params = {"dry_run": "true"} if dry_run else None
    return call(client, "fine_tuning.create", params=params, json_body=body)



