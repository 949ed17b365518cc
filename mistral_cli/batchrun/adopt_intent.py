"""Finding on the server a fine-tuning job whose create got no answer, by what it was asked to do.

A fine-tuning job has no metadata to carry a run's tag, so a job is this run's when it says
what the run asked for: the same model, training files, validation files, job type, suffix,
auto-start, every hyperparameter the run set, the integrations and repositories it named
(their keys and tokens aside: the server never shows them), created no earlier than the
create was sent (less CLOCK_SLACK for the server's clock), and not the job of another run
in the journal. Whatever the list says is checked here, never trusted: a candidate's id
must be a UUID. One candidate is adopted; several are shown to the user, who decides.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from mistral_cli.batchrun.adopt import checked_id

if TYPE_CHECKING:  # pragma: no cover
    from mistral_cli.http.client import HTTPClient

CLOCK_SLACK = timedelta(minutes=5)  # how far the server's clock may be behind this one's
SECRET_KEYS = ("api_key", "token")  # sent in integrations and repositories, never shown back
EXACT_KEYS = ("model", "job_type", "auto_start")  # compared when the run set them


def find_jobs(client: "HTTPClient", body: dict, sent_at: str, known: set[str]) -> list[dict]:
    """The fine-tuning jobs that may be the one BODY's create made when sent at SENT_AT
    (ISO 8601 UTC), other than the jobs KNOWN to other runs."""
    from mistral_cli.api.lists import read_all

    since = _since(sent_at)
    listed = read_all(client, "fine_tuning.list", {"model": body.get("model"), "created_after": since.isoformat()})
    found = []
    for job in _items(listed):
        if _created(job) >= since.timestamp() and matches(job, body):
            if checked_id(job.get("id"), "fine_tuning.list") not in known:
                found.append(job)
    return found


def matches(job: dict, body: dict) -> bool:
    """Whether JOB (a JobOut) is what the create BODY (a JobIn) asked for."""
    if any(key in body and job.get(key) != body[key] for key in EXACT_KEYS):
        return False
    if job.get("suffix") != body.get("suffix"):  # no suffix asked: none shown
        return False
    training = [entry.get("file_id") for entry in body.get("training_files") or [] if isinstance(entry, dict)]
    if not _same_ids(job.get("training_files"), training):
        return False
    if not _same_ids(job.get("validation_files") or [], body.get("validation_files") or []):
        return False
    shown = job.get("hyperparameters")
    if not isinstance(shown, dict) or any(shown.get(key) != value
                                          for key, value in (body.get("hyperparameters") or {}).items()):
        return False
    return all(_same_entries(job.get(key), body.get(key)) for key in ("integrations", "repositories"))


def _same_ids(shown: Any, asked: list) -> bool:
    """Whether SHOWN is a list of the ids ASKED (in any order, each as often)."""
    return isinstance(shown, list) and sorted(map(str, shown)) == sorted(map(str, asked))


def _same_entries(shown: Any, asked: Any) -> bool:
    """Whether the integrations (or repositories) SHOWN carry every field ASKED, secrets aside."""
    if not asked:
        return True
    if not isinstance(shown, list) or len(shown) != len(asked):
        return False
    return all(isinstance(out, dict) and isinstance(given, dict)
               and all(out.get(key) == value for key, value in given.items() if key not in SECRET_KEYS)
               for out, given in zip(shown, asked))


def _created(job: dict) -> float:
    """JOB's created_at (Unix seconds), or 0 when it is not a number."""
    value = job.get("created_at")
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


def _since(sent_at: str) -> datetime:
    """SENT_AT less CLOCK_SLACK."""
    moment = datetime.strptime(sent_at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    return moment - CLOCK_SLACK


def _items(body: Any) -> list[dict]:
    """The objects in a list body's `data` (anything else is skipped)."""
    data = body.get("data") if isinstance(body, dict) else None
    return [item for item in data if isinstance(item, dict)] if isinstance(data, list) else []
