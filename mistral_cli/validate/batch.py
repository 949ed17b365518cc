"""The batch request file: each line an object with a unique `custom_id` string and a `body` object.

Uniqueness of `custom_id` over a file of any size in bounded memory: a first pass keeps no
ids, only a fixed Bloom filter (FILTER_BYTES, whatever the file's size) fed with a 64-bit
hash of each; an id the filter may have seen puts its hash in a (normally empty) candidate
set.
Only when there are candidates does a second pass re-read the file and compare the real ids
whose hash is a candidate, so a duplicate is reported with both line numbers and a filter
false positive never is. Memory: the filter, plus the candidates and their ids.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from mistral_cli.validate.jsonl import Report, check_jsonl

FILTER_BYTES = 32 * 1024 * 1024  # 256 Mi bits, 4 probes: a false positive about once in 50 files of 1 M ids


class SeenFilter:
    """A Bloom filter of ids: `add` says whether an id may have been added before."""

    def __init__(self, size: int = FILTER_BYTES):
        self.bits = bytearray(size)
        self.mask = size * 8 - 1  # SIZE is a power of two

    def add(self, custom_id: str) -> bool:
        """Add CUSTOM_ID; True when its four probes were all set already (maybe seen before)."""
        hashed = id_hash(custom_id)
        bits, mask = self.bits, self.mask
        low, step = hashed & 0xFFFFFFFF, (hashed >> 32) | 1
        p0, p1, p2, p3 = low & mask, (low + step) & mask, (low + 2 * step) & mask, (low + 3 * step) & mask
        seen = bool(bits[p0 >> 3] & (1 << (p0 & 7)) and bits[p1 >> 3] & (1 << (p1 & 7))
                    and bits[p2 >> 3] & (1 << (p2 & 7)) and bits[p3 >> 3] & (1 << (p3 & 7)))
        bits[p0 >> 3] |= 1 << (p0 & 7)
        bits[p1 >> 3] |= 1 << (p1 & 7)
        bits[p2 >> 3] |= 1 << (p2 & 7)
        bits[p3 >> 3] |= 1 << (p3 & 7)
        return seen


def id_hash(custom_id: str) -> int:
    """A 64-bit hash of CUSTOM_ID: Python's own string hash (SipHash, salted per process), so
    both passes, which run in one process, agree; and it is cached on the string."""
    return hash(custom_id) & 0xFFFFFFFFFFFFFFFF


def check_request(value: Any) -> Sequence[tuple[str, str]]:
    """The problems of one decoded line: not an object, a bad `custom_id`, a bad `body`."""
    if type(value) is dict and type(value.get("body")) is dict and type(value.get("custom_id")) is str \
            and value["custom_id"]:
        return ()  # the common case, kept fast
    return list(_problems(value))


def _problems(value: Any) -> Iterator[tuple[str, str]]:
    if not isinstance(value, dict):
        yield "", f"expected a JSON object, got {type(value).__name__}"
        return
    custom_id = value.get("custom_id")
    if "custom_id" not in value:
        yield "custom_id", "missing"
    elif not isinstance(custom_id, str):
        yield "custom_id", f"expected a string, got {_kind(custom_id)}"
    elif not custom_id:
        yield "custom_id", "must not be empty"
    if "body" not in value:
        yield "body", "missing"
    elif not isinstance(value["body"], dict):
        yield "body", f"expected an object, got {_kind(value['body'])}"


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def check_batch_file(path: Path, label: str | None = None) -> Report:
    """Check every line of PATH (streamed) and that no `custom_id` is used twice."""
    seen = SeenFilter()
    candidates: set[int] = set()

    def check(value: Any) -> Sequence[tuple[str, str]]:
        problems = check_request(value)
        custom_id = value.get("custom_id") if isinstance(value, dict) else None
        if isinstance(custom_id, str) and custom_id and seen.add(custom_id):
            candidates.add(id_hash(custom_id))
        return problems

    report = check_jsonl(path, check, label)
    if candidates:
        report_duplicates(path, report, candidates)
    return report


def report_duplicates(path: Path, report: Report, candidates: set[int]) -> None:
    """Second pass: add to REPORT every line whose `custom_id` (one of CANDIDATES) came before."""
    first_line: dict[str, int] = {}
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, 1):
            custom_id = _custom_id(raw)
            if custom_id is None or id_hash(custom_id) not in candidates:
                continue
            if custom_id in first_line:
                report.add(number, "custom_id", f"{custom_id!r} already used on line {first_line[custom_id]}")
            else:
                first_line[custom_id] = number


def _custom_id(raw: bytes) -> str | None:
    """The non-empty string `custom_id` of one raw line, if it has one."""
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    custom_id = value.get("custom_id") if isinstance(value, dict) else None
    return custom_id if isinstance(custom_id, str) and custom_id else None
