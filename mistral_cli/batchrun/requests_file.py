"""The request file of a `--via batch` run, written as a stream.

Each input becomes one request line, `{"custom_id": "<input number>", "body": {...}}`, the
input number counted from 0 over the whole input (so `--skip N` starts at "N"), written to a
private temporary file line by line: memory stays flat however many inputs, and the file,
unlike a pipe, has a length for the upload's progress bar and can be fingerprinted, uploaded
and read back in input order. The same inputs and options give the same bytes, which is what
lets a run started again find itself in the journal.

The file (`mcli-requests-PID-RANDOM.jsonl` in the temporary folder, 0600) holds prompt text:
it is removed when the run ends however it ends, but SIGKILL runs no clean-up, so each new
request file first removes those of processes that are gone (safe_files.remove_stale).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mistral_cli.render.output import dumps
from mistral_cli.safe_files import remove_stale

PREFIX = "mcli-requests-"
STALE = re.compile(re.escape(PREFIX) + r"(?P<pid>\d+)-[a-z0-9_]+\.jsonl")


@dataclass
class RequestsFile:
    """A written request file: where it is, the first input number and how many requests."""

    path: Path
    first: int
    count: int


def request_line(number: int, body: dict[str, Any]) -> str:
    """The request line of input NUMBER (its custom_id) with BODY."""
    return dumps({"custom_id": str(number), "body": body}) + "\n"


@contextmanager
def requests_file(bodies: Iterable[tuple[int, dict[str, Any]]], first: int) -> Iterator[RequestsFile]:
    """A private temporary file of one request line per (input number, body) of BODIES, the
    first numbered FIRST; removed when the block ends."""
    remove_stale(Path(tempfile.gettempdir()), STALE)
    handle, name = tempfile.mkstemp(prefix=f"{PREFIX}{os.getpid()}-", suffix=".jsonl")
    path = Path(name)
    count = 0
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
            for number, body in bodies:
                out.write(request_line(number, body))
                count += 1
        yield RequestsFile(path, first, count)
    finally:
        path.unlink(missing_ok=True)


def read_requests(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(input number, body) of each line of a request file this module wrote, in order."""
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            request = json.loads(line)
            yield int(request["custom_id"]), request["body"]
