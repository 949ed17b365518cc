"""The batch job (the spec's BatchJobOut), typed for `watch`, `get` and `results`.

Unknown fields are kept and a status the spec does not list is kept as a plain string, so a
newer server never breaks a command; `-o json` still prints the body exactly as decoded.
"""

from __future__ import annotations

from typing import Any, ClassVar, Optional, Union

from pydantic import BaseModel, ConfigDict, field_validator

from mistral_cli.bodies.batch_status import FAILED, FINAL, BatchStatus
from mistral_cli.bodies.job import JobBody


class BatchError(BaseModel):
    """One line of a job's `errors`: a message and how many requests it hit."""

    model_config = ConfigDict(extra="allow")

    message: Optional[str] = None
    count: Optional[int] = None


class BatchJob(JobBody):
    """A batch job as the API returns it; every field optional, unknown ones kept."""

    model_config = ConfigDict(extra="allow")
    FINAL: ClassVar = FINAL
    FAILED: ClassVar = FAILED  # FAILED, TIMEOUT_EXCEEDED or CANCELLED

    id: str = ""
    status: Union[BatchStatus, str] = ""
    model: Optional[str] = None
    endpoint: Optional[str] = None
    input_files: list[str] = []
    output_file: Optional[str] = None
    error_file: Optional[str] = None
    errors: list[BatchError] = []
    metadata: Optional[dict[str, Any]] = None
    total_requests: int = 0
    completed_requests: int = 0
    succeeded_requests: int = 0
    failed_requests: int = 0
    created_at: Optional[int] = None
    started_at: Optional[int] = None
    completed_at: Optional[int] = None

    @field_validator("total_requests", "completed_requests", "succeeded_requests",
                     "failed_requests", mode="before")
    @classmethod
    def _count(cls, value: Any) -> int:
        """A missing or null count is 0."""
        return value if isinstance(value, int) else 0

    @field_validator("errors", mode="before")
    @classmethod
    def _errors(cls, value: Any) -> list:
        """Null errors are none; entries that are not objects are dropped."""
        return [item for item in value or () if isinstance(item, dict)]

    @field_validator("input_files", mode="before")
    @classmethod
    def _files(cls, value: Any) -> list:
        """Null input files are none."""
        return value or []

    @property
    def status_text(self) -> str:
        """The status as the API spelled it."""
        return self.status.value if isinstance(self.status, BatchStatus) else str(self.status)

    @property
    def done(self) -> int:
        """Requests answered so far, in success or failure."""
        return max(self.succeeded_requests + self.failed_requests, self.completed_requests)

    def progress(self) -> tuple[Any, ...]:
        """What a watcher reports a change of: status and the counts."""
        return (self.status_text, self.succeeded_requests, self.failed_requests, self.total_requests)
