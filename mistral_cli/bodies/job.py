"""What a batch job and a fine-tuning job share as typed bodies: how one is read from an
answer, and whether it has ended and how. Each kind names its own final and failed statuses."""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from pydantic import BaseModel, ValidationError

from mistral_cli.bodies.shape import pydantic_error

J = TypeVar("J", bound="JobBody")


class JobBody(BaseModel):
    """A job as the API returns it: every field optional, unknown ones kept (each kind's config)."""

    FINAL: ClassVar[Collection[Any]] = ()  # the statuses of a job that has ended
    FAILED: ClassVar[Collection[Any]] = ()  # those of a job that ended badly

    if TYPE_CHECKING:  # each kind declares its own status field (and its place among the fields)
        status: Any

    @classmethod
    def parse(cls: type[J], body: Any, request: str) -> J:
        """BODY as a job (a body that is not an object gives an empty job); a field of the
        wrong type is an UnexpectedResponse naming REQUEST (the answer's) and the field."""
        try:
            return cls.model_validate(body if isinstance(body, dict) else {})
        except ValidationError as exc:
            raise pydantic_error(exc, request) from None

    @property
    def is_final(self) -> bool:
        """Whether the job has ended (in success or not)."""
        return self.status in self.FINAL

    @property
    def failed(self) -> bool:
        """Whether the job ended badly (one of the kind's FAILED statuses)."""
        return self.status in self.FAILED
