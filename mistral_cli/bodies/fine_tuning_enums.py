"""The fine-tuning job statuses and types as the spec lists them, without pydantic.

Commands use these for option choices (`--status`, `--job-type`) at import time, which must
stay light; the typed models (fine_tuning.py) use them to decide when a job has ended. A job
body's own `status` stays a plain string: a status the spec does not list is still shown.
"""

from __future__ import annotations

from enum import Enum


class JobStatus(str, Enum):
    """The spec's fine-tuning job statuses, in the order a job usually meets them."""

    QUEUED = "QUEUED"
    STARTED = "STARTED"
    VALIDATING = "VALIDATING"
    VALIDATED = "VALIDATED"
    RUNNING = "RUNNING"
    FAILED_VALIDATION = "FAILED_VALIDATION"
    FAILED = "FAILED"
    SUCCESS = "SUCCESS"
    CANCELLED = "CANCELLED"
    CANCELLATION_REQUESTED = "CANCELLATION_REQUESTED"


class JobType(str, Enum):
    """A fine-tuning job's type (the spec's job_type values)."""

    completion = "completion"
    classifier = "classifier"


FAILED_STATES = frozenset({JobStatus.FAILED.value, JobStatus.FAILED_VALIDATION.value,
                           JobStatus.CANCELLED.value})
FINAL_STATES = FAILED_STATES | {JobStatus.SUCCESS.value}
