"""Polling a job until it ends: fetch, wait a growing interval, ride out passing failures.

An answer that is not a job (not a JSON object, or without a text `id` and `status`) is
never shown: it is reported like a passing failure, and MAX_MALFORMED of them in a row end
the watch with an error (exit 1) instead of polling a broken server for ever. A good answer
resets the count. No typer or rich: the caller decides what to show for each state and
each failure.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from mistral_cli.errors import APIError, MCLIError, NetworkError

T = TypeVar("T")
GROWTH = 1.5
# --interval, the seconds between polls of a job: one rule for every watch
DEFAULT_INTERVAL = 5.0
# --via batch: a small job is often done in seconds, so the first wait is short and every
# poll makes the next wait longer (GROWTH), change or not, up to POLL_CAP
ROUTE_INTERVAL = 1.0
MIN_INTERVAL = 0.5  # at most two polls a second
MAX_INTERVAL = 86_400.0  # at most a day
POLL_CAP = 60.0  # the interval grows while nothing changes, up to this (or --interval if longer)
MAX_MALFORMED = 3  # malformed answers in a row before a watch gives up


def is_passing(exc: Exception) -> bool:
    """Whether EXC is worth polling through: the network, a 429 or a 5xx."""
    if isinstance(exc, NetworkError):
        return True
    return isinstance(exc, APIError) and (exc.status == 429 or exc.status >= 500)


def job_problem(body: Any) -> str | None:
    """Why BODY is not a job a watch can follow (not an object, no text id or status), or None."""
    if not isinstance(body, dict):
        return f"the body is {type(body).__name__ if body is not None else 'empty'}, not a JSON object"
    for key in ("id", "status"):
        if not isinstance(body.get(key), str) or not body[key]:
            return f"{key}: {'missing' if body.get(key) in (None, '') else 'not text'}"
    return None


def poll(fetch: Callable[[], T], *, done: Callable[[T], bool], interval: float, max_interval: float,
         on_error: Callable[[Exception, float], None], sleep: Callable[[float], None] = time.sleep,
         check: Callable[[T], str | None] = job_problem, back_off: bool = False) -> Iterator[T]:
    """Yield each state FETCH returns until DONE(state); wait INTERVAL between polls, growing
    by half while nothing changes (up to MAX_INTERVAL) and back to INTERVAL on a change
    (BACK_OFF: growing after every poll, a change too).
    A passing failure goes to ON_ERROR(exc, seconds before the next try); any other raises.
    A state CHECK finds malformed goes to ON_ERROR too; MAX_MALFORMED in a row raise."""
    delay = interval
    previous: object = None
    malformed = 0  # malformed answers in a row
    while True:
        try:
            state = fetch()
            problem = check(state)
            if problem is not None:
                malformed += 1
                raise _malformed(problem, malformed)
        except Exception as exc:  # noqa: BLE001 - only passing failures are kept, others re-raised
            if not is_passing(exc) and not isinstance(exc, Malformed):
                raise
            on_error(exc, delay)
            sleep(delay)
            delay = min(max_interval, delay * GROWTH)
            continue
        malformed = 0
        yield state
        if done(state):
            return
        changed = previous is None if back_off else state != previous  # BACK_OFF: only the first
        delay = interval if changed else min(max_interval, delay * GROWTH)
        previous = state
        sleep(delay)


class Malformed(MCLIError):
    """An answer that is not a job: reported and polled through, up to MAX_MALFORMED in a row."""


def _malformed(problem: str, count: int) -> MCLIError:
    """The error for the COUNT-th malformed answer in a row: Malformed (polled through), or
    at MAX_MALFORMED the MCLIError that ends the watch."""
    if count >= MAX_MALFORMED:
        return MCLIError(f"unexpected response: {count} answers in a row were not a job "
                         f"({problem}); stopped watching")
    return Malformed(f"unexpected response: not a job ({problem})")
