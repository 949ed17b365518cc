"""What a request does on the server, which decides its retries: REPEATABLE (sending it twice
is sending it once: GET, DELETE, PATCH, a cancel, an archive), COMPUTE (a POST that creates
nothing lasting) or CREATE (an upload, a job create).

Kept apart from client.py so that modules which only name an Effect do not load httpx.
"""

from __future__ import annotations

from enum import Enum

REPEATABLE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE", "PUT", "PATCH"})


class Effect(str, Enum):
    """What a request does on the server, which decides when it may be retried."""

    REPEATABLE = "repeatable"
    COMPUTE = "compute"
    CREATE = "create"

    @classmethod
    def of_method(cls, method: str) -> "Effect":
        """The safe default for METHOD: REPEATABLE for idempotent methods, CREATE for POST."""
        return cls.REPEATABLE if method.upper() in REPEATABLE_METHODS else cls.CREATE
