"""What a request does on the server (read, compute, create), which decides its retries.

Kept apart from client.py so that modules which only name an Effect do not load httpx.
"""

from __future__ import annotations

from enum import Enum

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE", "PUT", "PATCH"})


class Effect(str, Enum):
    """What a request does on the server, which decides when it may be retried."""

    READ = "read"
    COMPUTE = "compute"
    CREATE = "create"

    @classmethod
    def of_method(cls, method: str) -> "Effect":
        """The safe default for METHOD: READ for idempotent methods, CREATE for POST."""
        return cls.READ if method.upper() in READ_METHODS else cls.CREATE
