"""Faults the sandbox injects for users' own tests of their scripts: a share of answers fail with
a chosen status (and Retry-After), every answer waits, streams break after N events.

The knobs are `mcli sandbox serve`'s options and, for the in-process sandbox
(`--server-url sandbox`), the MCLI_SANDBOX_* variables (ENV). Which requests fail is drawn from
a seeded generator, so a run repeats.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Mapping

from .responses import SSEResponse, error_429, json_response

STATUSES = (429, 500, 503)
ENV = {"fail_rate": "MCLI_SANDBOX_FAIL_RATE", "status": "MCLI_SANDBOX_STATUS",
       "retry_after": "MCLI_SANDBOX_RETRY_AFTER", "latency": "MCLI_SANDBOX_LATENCY",
       "cut_stream_after": "MCLI_SANDBOX_CUT_STREAM_AFTER"}


@dataclass
class Faults:
    """What to break: FAIL_RATE of the answers get STATUS (with RETRY_AFTER seconds), every
    answer waits LATENCY seconds, a stream stops after CUT_STREAM_AFTER events."""

    fail_rate: float = 0.0
    status: int = 429
    retry_after: float | None = None
    latency: float = 0.0
    cut_stream_after: int | None = None
    seed: int = 0
    failed: int = 0  # answers failed so far
    _rng: random.Random = field(default=None, repr=False)  # type: ignore[assignment]
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(map(str, STATUSES))}")
        if not 0 <= self.fail_rate <= 1:
            raise ValueError("the fail rate must be between 0 and 1")
        self._rng = random.Random(self.seed)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> "Faults":
        """The faults the MCLI_SANDBOX_* variables ask for (a ValueError names a bad one)."""
        values: dict[str, Any] = {}
        for attr, name in ENV.items():
            text = (environ.get(name) or "").strip()
            if not text:
                continue
            try:
                values[attr] = int(text) if attr in ("status", "cut_stream_after") else float(text)
            except ValueError:
                raise ValueError(f"{name}={text!r} is not a number") from None
        try:
            return cls(**values)
        except ValueError as exc:
            raise ValueError(f"MCLI_SANDBOX_*: {exc}") from None

    @property
    def active(self) -> bool:
        """Whether any fault is asked for."""
        return bool(self.fail_rate or self.latency or self.cut_stream_after is not None)

    def failure(self, _request: Any) -> Any:
        """The error answer for this request, or None to answer it (after the latency)."""
        if self.latency:
            time.sleep(self.latency)
        with self._lock:
            failing = self.fail_rate and self._rng.random() < self.fail_rate
            self.failed += bool(failing)
        if not failing:
            return None
        headers = {} if self.retry_after is None else {"Retry-After": f"{self.retry_after:g}"}
        if self.status == 429:
            return error_429(retry_after=None, message="Requests rate limit exceeded (sandbox fault)",
                             headers=headers)
        return json_response({"object": "error", "message": f"sandbox fault: status {self.status}",
                              "type": "server_error", "param": None, "code": None}, self.status, headers)

    def shape(self, response: Any) -> Any:
        """RESPONSE with its stream cut after CUT_STREAM_AFTER events, if asked."""
        if self.cut_stream_after is not None and isinstance(response, SSEResponse):
            response.cut_after = self.cut_stream_after
        return response
