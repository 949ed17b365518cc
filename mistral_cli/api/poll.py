"""Polling a job until it ends: fetch, wait a growing interval, ride out passing failures.

No typer or rich: the caller decides what to show for each state and each failure.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import TypeVar

from mistral_cli.errors import APIError, NetworkError

T = TypeVar("T")
GROWTH = 1.5


def is_passing(exc: Exception) -> bool:
    """Whether EXC is worth polling through: the network, a 429 or a 5xx."""
    if isinstance(exc, NetworkError):
        return True
    return isinstance(exc, APIError) and (exc.status == 429 or exc.status >= 500)


def poll(fetch: Callable[[], T], *, done: Callable[[T], bool], interval: float, max_interval: float,
         on_error: Callable[[Exception, float], None], sleep: Callable[[float], None] = time.sleep,
         ) -> Iterator[T]:
    """Yield each state FETCH returns until DONE(state); wait INTERVAL between polls, growing
    by half while nothing changes (up to MAX_INTERVAL) and back to INTERVAL on a change.
    A passing failure goes to ON_ERROR(exc, seconds before the next try); any other raises."""
    delay = interval
    previous: object = None
    while True:
        try:
            state = fetch()
        except Exception as exc:  # noqa: BLE001 - only passing failures are kept, others re-raised
            if not is_passing(exc):
                raise
            on_error(exc, delay)
            sleep(delay)
            delay = min(max_interval, delay * GROWTH)
            continue
        yield state
        if done(state):
            return
        delay = interval if state != previous else min(max_interval, delay * GROWTH)
        previous = state
        sleep(delay)
