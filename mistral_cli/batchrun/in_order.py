"""A batch job's results put back in input order, in flat memory.

The service writes result lines in any order, and a result file can be far larger than memory
(20,000 embeddings of 1,024 numbers are about 400 MB of JSON). `ResultIndex` reads the saved
output and error files once and keeps, per input number, only where its line starts (8 bytes
an input); `in_order` then walks the request file (input order) and reads each input's line
back from disk. Nothing from the server is believed: a custom_id must be one of the input
numbers sent, as decimal digits; a second line for the same input, a line that is not JSON,
or an unknown id is set aside with a warning (the first line for an input wins), and an input
with no line is a failure of its own ("no result").
"""

from __future__ import annotations

import json
import re
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from mistral_cli.batchrun.requests_file import read_requests
from mistral_cli.render.output import dumps

MAX_LINE = 64 * 1024 * 1024  # a longer result line is not read (and its input has no result)
NUMBER = re.compile(r"(0|[1-9][0-9]{0,17})", re.ASCII)
NONE = -1


@dataclass(frozen=True)
class Outcome:
    """What became of one input: its response BODY, or an ERROR message."""

    number: int
    request: dict[str, Any]
    body: Any = None
    error: str | None = None


def outcome_of(line: Any) -> tuple[str, Any, str | None]:
    """(custom_id, response body, error message or None) of one result line."""
    if not isinstance(line, dict):
        return "", None, f"not a result line: {str(line)[:200]}"
    custom_id = str(line.get("custom_id", ""))
    response = line.get("response") if isinstance(line.get("response"), dict) else {}
    body = response.get("body")
    if line.get("error"):
        return custom_id, None, message_of(line["error"])
    status = response.get("status_code")
    if isinstance(status, int) and not 200 <= status < 300:
        return custom_id, None, f"HTTP {status}: {message_of(body)}"
    if body is None:
        return custom_id, None, "the result line has no response body"
    return custom_id, body, None


def message_of(value: Any) -> str:
    """The message of an error object, or the value as compact JSON."""
    if isinstance(value, dict):
        message = value.get("message") or value.get("detail")
        if isinstance(message, str):
            return message
    return value if isinstance(value, str) else dumps(value)


class ResultIndex:
    """Where each input's result line is, across the job's result FILES (see the module docstring)."""

    def __init__(self, files: list[Path], first: int, count: int, warn: Callable[[str], None]):
        self.files = files
        self.first = first
        self.count = count
        self.slots = array("q", [NONE]) * count  # offset * len(files) + file number
        self.set_aside: dict[str, int] = {}
        for number, path in enumerate(files):
            self._read(number, path)
        for what, times in self.set_aside.items():
            warn(f"{times} result line(s) set aside: {what}")

    def _read(self, file_number: int, path: Path) -> None:
        """Index the lines of PATH."""
        with path.open("rb") as handle:
            for offset, line in _lines(handle):
                slot = self._slot_of(line)
                if slot is None:
                    continue
                if self.slots[slot] != NONE:
                    self._aside("a second line for the same input (the first one is used)")
                    continue
                self.slots[slot] = offset * len(self.files) + file_number

    def _slot_of(self, line: bytes | None) -> int | None:
        """The input slot LINE answers, or None (set aside)."""
        if line is None:
            self._aside(f"longer than {MAX_LINE // (1024 * 1024)} MiB")
            return None
        try:
            custom_id = json.loads(line).get("custom_id")
        except (ValueError, AttributeError):
            self._aside("not a JSON object")
            return None
        if not isinstance(custom_id, str) or not NUMBER.fullmatch(custom_id):
            self._aside("a custom_id that is not an input number")
            return None
        slot = int(custom_id) - self.first
        if not 0 <= slot < self.count:
            self._aside("a custom_id of no input sent")
            return None
        return slot

    def _aside(self, what: str) -> None:
        self.set_aside[what] = self.set_aside.get(what, 0) + 1

    def outcome(self, number: int, request: dict[str, Any], handles: list[IO[bytes]]) -> Outcome:
        """What became of input NUMBER (its line read back from HANDLES, the open FILES)."""
        slot = self.slots[number - self.first]
        if slot == NONE:
            return Outcome(number, request, error="no result in the job's files")
        offset, file_number = divmod(slot, len(self.files))
        handle = handles[file_number]
        handle.seek(offset)
        _custom_id, body, error = outcome_of(json.loads(handle.readline(MAX_LINE + 1)))
        return Outcome(number, request, body, error)


def _lines(handle: IO[bytes]) -> Iterator[tuple[int, bytes | None]]:
    """(offset, line) of each non-blank line of HANDLE; None for a line over MAX_LINE bytes."""
    offset = 0
    while True:
        line = handle.readline(MAX_LINE + 1)
        if not line:
            return
        start, offset = offset, offset + len(line)
        if len(line) > MAX_LINE and not line.endswith(b"\n"):
            while line and not line.endswith(b"\n"):  # skip the rest of an overlong line
                line = handle.readline(MAX_LINE)
                offset += len(line)
            yield start, None
        elif line.strip():
            yield start, line


def in_order(requests: Path, files: list[Path], first: int, count: int,
             warn: Callable[[str], None]) -> Iterator[Outcome]:
    """Each input's outcome, in input order: REQUESTS is the request file sent (inputs FIRST to
    FIRST+COUNT-1), FILES the job's saved output and error files."""
    index = ResultIndex(files, first, count, warn)
    handles = [path.open("rb") for path in files]
    try:
        for number, request in read_requests(requests):
            yield index.outcome(number, request, handles)
    finally:
        for handle in handles:
            handle.close()
