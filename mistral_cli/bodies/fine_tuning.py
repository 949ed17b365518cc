"""Typed fine-tuning job bodies: the job, its events, checkpoints and metrics, the dry-run estimate.

Every model keeps unknown fields (`extra="allow"`) and takes any string as a status or a job
type, so a server newer than the spec never breaks `watch` or `get`. The spec's values are in
fine_tuning_enums.py (light, for option choices); FINAL_STATES and FAILED_STATES decide.
"""

from __future__ import annotations

from typing import Any, ClassVar, Optional

from pydantic import BaseModel, ConfigDict, Field

from mistral_cli.bodies.fine_tuning_enums import FAILED_STATES, FINAL_STATES, JobStatus, JobType
from mistral_cli.bodies.job import JobBody

JOB_STATUSES = tuple(status.value for status in JobStatus)
JOB_TYPES = tuple(kind.value for kind in JobType)
# Within one second (the API's times are whole seconds), what happened first in a job's life:
# the statuses before its work, then its checkpoints (and other events), then how it ended.
BEFORE_WORK = ("QUEUED", "STARTED", "VALIDATING", "VALIDATED", "RUNNING")
AFTER_WORK = ("CANCELLATION_REQUESTED", "FAILED_VALIDATION", "FAILED", "CANCELLED", "SUCCESS")
WORK = len(BEFORE_WORK)  # the phase of a checkpoint


def phase(status: Any) -> int:
    """Where a change to STATUS (None: not a status change) falls in a job's life: the order of
    things that happened within the same second."""
    if status in BEFORE_WORK:
        return BEFORE_WORK.index(status)
    if status in AFTER_WORK:
        return WORK + 1 + AFTER_WORK.index(status)
    return WORK


class _Tolerant(BaseModel):
    """A body part that keeps every field it does not name."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class Metrics(_Tolerant):
    """MetricOut: the losses and token accuracy at one checkpoint."""

    train_loss: Optional[float] = None
    valid_loss: Optional[float] = None
    valid_mean_token_accuracy: Optional[float] = None


class Checkpoint(_Tolerant):
    """CheckpointOut: a saved step and its metrics."""

    step_number: Optional[int] = None
    created_at: Optional[int] = None
    metrics: Metrics = Field(default_factory=Metrics)


class Event(_Tolerant):
    """EventOut: something that happened to a job (a status change, mostly)."""

    name: str = ""
    created_at: Optional[int] = None
    data: Optional[dict[str, Any]] = None

    def key(self) -> tuple:
        """What identifies this event among a job's events."""
        return (self.name, self.created_at, repr(sorted((self.data or {}).items())))


class FineTuningJob(_Tolerant, JobBody):
    """A fine-tuning job (JobOut or DetailedJobOut, completion or classifier)."""

    FINAL: ClassVar = FINAL_STATES
    FAILED: ClassVar = FAILED_STATES  # FAILED, FAILED_VALIDATION or CANCELLED

    id: str = ""
    status: str = ""
    model: Optional[str] = None
    job_type: Optional[str] = None
    auto_start: Optional[bool] = None
    created_at: Optional[int] = None
    modified_at: Optional[int] = None
    fine_tuned_model: Optional[str] = None
    suffix: Optional[str] = None
    trained_tokens: Optional[int] = None
    training_files: list[str] = Field(default_factory=list)
    validation_files: Optional[list[str]] = None
    hyperparameters: Optional[dict[str, Any]] = None
    events: list[Event] = Field(default_factory=list)
    checkpoints: list[Checkpoint] = Field(default_factory=list)

    def sorted_checkpoints(self) -> list[Checkpoint]:
        """The checkpoints by step number (the API lists the newest first)."""
        return sorted(self.checkpoints, key=lambda c: (c.step_number is None, c.step_number or 0))

    def sorted_events(self) -> list[Event]:
        """The events oldest first."""
        return sorted(self.events, key=lambda e: (e.created_at or 0, phase((e.data or {}).get("status"))))
