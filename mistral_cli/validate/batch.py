"""The batch request file: each line an object with a unique `custom_id` string and a `body` object.

Uniqueness of `custom_id` over a file of any size in bounded memory: a first pass keeps no
ids, only a fixed Bloom filter (FILTER_BYTES, whatever the file's size) of their 64-bit
hashes; an id the filter may have seen puts its hash in a (normally empty) candidate set.
Only when there are candidates does a second pass re-read the file and compare the real ids
whose hash is a candidate, so a duplicate is reported with both line numbers and a filter
false positive never is. Memory: the filter, plus the candidates and their ids.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from hashlib import blake2b
from pathlib import Path
from typing import Any

from mistral_cli.validate.jsonl import Report, check_jsonl

FILTER_BYTES = 8 * 1024 * 1024  # 64 Mi bits: false positives ~1e-5 at 1 M ids, ~2e-3 at 4 M
PROBES = 4


class SeenFilter:
    """A Bloom filter of 64-bit hashes: `add` says whether a hash may have been added before."""

    def __init__(self, size: int = FILTER_BYTES):
        self.bits = bytearray(size)
        self.nbits = size * 8

    def add(self, hashed: int) -> bool:
        """Add HASHED; True when every probe was already set (maybe seen before)."""
        seen = True
        low, high = hashed & 0xFFFFFFFF, hashed >> 32
        for probe in range(PROBES):
            bit = (low + probe * high) % self.nbits
            byte, mask = bit >> 3, 1 << (bit & 7)
            if not self.bits[byte] & mask:
                seen = False
                self.bits[byte] |= mask
        return seen


def id_hash(custom_id: str) -> int:
    """A 64-bit hash of CUSTOM_ID."""
    data = custom_id.encode("utf-8", "surrogatepass")
    return int.from_bytes(blake2b(data, digest_size=8).digest(), "big")


def check_request(value: Any) -> Iterator[tuple[str, str]]:
    """The problems of one decoded line: not an object, a bad `custom_id`, a bad `body`."""
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

    def check(value: Any) -> Iterator[tuple[str, str]]:
        yield from check_request(value)
        custom_id = value.get("custom_id") if isinstance(value, dict) else None
        if isinstance(custom_id, str) and custom_id:
            hashed = id_hash(custom_id)
            if seen.add(hashed):
                candidates.add(hashed)

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
