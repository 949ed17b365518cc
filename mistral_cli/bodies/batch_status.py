"""The batch job statuses (the spec's BatchJobStatus), apart from the pydantic model so that
`mcli batch --help` can offer them as choices without loading pydantic."""

from __future__ import annotations

from enum import Enum


class BatchStatus(str, Enum):
    """The spec's BatchJobStatus."""

    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCESS = "SUCCESS"
    FAILED = "FAILED"
    TIMEOUT_EXCEEDED = "TIMEOUT_EXCEEDED"
    CANCELLATION_REQUESTED = "CANCELLATION_REQUESTED"
    CANCELLED = "CANCELLED"


FINAL = frozenset({BatchStatus.SUCCESS, BatchStatus.FAILED, BatchStatus.TIMEOUT_EXCEEDED,
                   BatchStatus.CANCELLED})
FAILED = FINAL - {BatchStatus.SUCCESS}
