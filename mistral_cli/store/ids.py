"""The id cache behind Tab: the ids of models, files and jobs mcli has seen, by kind.

Every object that passes through the output layer (render/output.py: emit_list,
emit_object) is offered to `remember`; one that names its kind in the API's `object` field
(`model`, `file`, `job`, `batch`) is recorded under that kind, newest first, and one the
API reports as deleted (`"deleted": true`) is dropped. So a command feeds the cache by
printing what it got, without code of its own. Shell completion reads it through `ids()`
and never waits on the network.

The cache is one small JSON file in the data dir (`ids.json`, at most MAX_PER_KIND ids a
kind), written atomically, mode 0600 in a 0700 folder. Any failure to read or write it is
ignored: a cache must never break the command that feeds it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from mistral_cli.config.paths import data_dir

FILE_NAME = "ids.json"
MAX_PER_KIND = 200

# The API's `object` value -> the kind of id it is; the one place that says so.
OBJECT_KINDS = {"model": "model", "file": "file", "job": "fine-tuning-job", "batch": "batch-job"}
KINDS = tuple(OBJECT_KINDS.values())


def cache_path(environ: Mapping[str, str] = os.environ) -> Path:
    """Where the cache lives: `ids.json` in the data dir."""
    return data_dir(environ) / FILE_NAME


def kind_of(obj: Any) -> str | None:
    """The kind of id OBJ carries, from its `object` field (None: not a cached kind)."""
    if not isinstance(obj, dict) or not isinstance(obj.get("id"), str) or not obj["id"]:
        return None
    return OBJECT_KINDS.get(obj.get("object")) if isinstance(obj.get("object"), str) else None


def changes(objects: Iterable[Any]) -> tuple[dict[str, list[str]], dict[str, set[str]]]:
    """The ids OBJECTS add (in order, by kind) and the ids they report deleted."""
    seen: dict[str, list[str]] = {}
    gone: dict[str, set[str]] = {}
    for obj in objects:
        kind = kind_of(obj)
        if kind is None:
            continue
        if obj.get("deleted") is True:
            gone.setdefault(kind, set()).add(obj["id"])
        elif obj["id"] not in seen.setdefault(kind, []):
            seen[kind].append(obj["id"])
    return seen, gone


def merged(cache: dict[str, list[str]], seen: dict[str, list[str]],
           gone: dict[str, set[str]]) -> dict[str, list[str]]:
    """CACHE with SEEN put first and GONE taken out, each kind capped at MAX_PER_KIND."""
    out = dict(cache)
    for kind in set(seen) | set(gone):
        fresh = seen.get(kind, [])
        dropped = gone.get(kind, set()) | set(fresh)
        rest = [value for value in cache.get(kind, []) if value not in dropped]
        out[kind] = [v for v in fresh if v not in gone.get(kind, set())] + rest
        out[kind] = out[kind][:MAX_PER_KIND]
    return out


def remember(objects: Iterable[Any], environ: Mapping[str, str] = os.environ) -> None:
    """Record the ids of OBJECTS (those whose kind is known); never raises."""
    try:
        seen, gone = changes(objects)
        if not seen and not gone:
            return
        path = cache_path(environ)
        cache = read(path)
        updated = merged(cache, seen, gone)
        if updated != cache:
            write(path, updated)
    except (OSError, ValueError, TypeError):
        pass


def ids(kind: str, environ: Mapping[str, str] = os.environ) -> list[str]:
    """The cached ids of KIND, newest first (none when there is no cache yet)."""
    return list(read(cache_path(environ)).get(kind, []))


def read(path: Path) -> dict[str, list[str]]:
    """The cache at PATH; empty when it is missing or unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {kind: [v for v in values if isinstance(v, str)] for kind, values in data.items()
            if isinstance(kind, str) and isinstance(values, list)}


def write(path: Path, cache: dict[str, list[str]]) -> None:
    """Write CACHE to PATH atomically: a 0600 temporary file renamed over it, in a 0700 folder."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(cache, handle, separators=(",", ":"))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
