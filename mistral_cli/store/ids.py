"""The id cache behind Tab: the ids of models, files and jobs mcli has seen, by kind.

Every object that passes through the output layer (render/output.py: emit_list,
emit_object, and `mcli api`'s decoded JSON) is offered to `remember`; one that names its
kind in the API's `object` field (`model`, `file`, `job`, `batch`: the kinds and their
`object` values are api/operations.py's) is recorded under that kind, newest first, and one the
API reports as deleted (`"deleted": true`) is dropped. So a command feeds the cache by
printing what it got, without code of its own. Shell completion reads it through `ids()`
and never waits on the network.

Ids are server data, and Tab puts them on a shell's command line: only an id made of the
characters real ids use (`usable`: ASCII letters and digits, then also `-_.:@/`, at most
MAX_ID_LENGTH) is ever written, and only such an id is ever read back, so no shell
metacharacter, space, quote, newline or leading `-` reaches a completion script.

The cache is one small JSON file in the data dir (`ids.json`, at most MAX_PER_KIND ids a
kind), written through the private writer (config/private.py: atomically, mode 0600, in a
private folder, never through a planted link). Its read-modify-write runs under an
exclusive lock on `ids.json.lock` beside it (fcntl.flock, released by the kernel if the
process dies), so list commands run in parallel lose none of each other's ids; readers
need no lock, as a write replaces the file whole. Any failure to read, lock or write it is
ignored: a cache must never break the command that feeds it (nor hold it up for more than
LOCK_WAIT seconds).
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mistral_cli.api.operations import KIND_OBJECTS, id_kinds
from mistral_cli.config.paths import data_dir, try_lock
from mistral_cli.config.private import prepare, write_private

FILE_NAME = "ids.json"
LOCK_NAME = FILE_NAME + ".lock"
MAX_PER_KIND = 200
MAX_ID_LENGTH = 256
MAX_FILE = 4 * 1024 * 1024  # MAX_PER_KIND ids of MAX_ID_LENGTH for a dozen kinds fit well within it
LOCK_WAIT = 2.0  # seconds a command waits for another one's update before it skips its own
ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:@/-]*")

# The API's `object` value -> the kind of id it is (from the operation table).
OBJECT_KINDS = {obj: kind for kind, obj in KIND_OBJECTS.items()}
KINDS = id_kinds()


def cache_path(environ: Mapping[str, str] = os.environ) -> Path:
    """Where the cache lives: `ids.json` in the data dir."""
    return data_dir(environ) / FILE_NAME


def usable(value: Any) -> bool:
    """Whether VALUE may be cached: a string of id characters that starts with a letter or digit."""
    return isinstance(value, str) and len(value) <= MAX_ID_LENGTH and ID_PATTERN.fullmatch(value) is not None


READ_FIELDS = ("id", "object", "deleted", "capabilities")  # all the cache reads of an object


def read_part(obj: Any) -> Any:
    """What the cache reads of OBJ (READ_FIELDS): a streamed list notes this, not whole items."""
    return {key: obj[key] for key in READ_FIELDS if key in obj} if isinstance(obj, dict) else obj


def kind_of(obj: Any) -> str | None:
    """The kind of id OBJ carries, from its `object` field (None: not a cached kind or not a usable id)."""
    if not isinstance(obj, dict) or not usable(obj.get("id")):
        return None
    return OBJECT_KINDS.get(obj.get("object")) if isinstance(obj.get("object"), str) else None


def changes(objects: Iterable[Any]) -> tuple[dict[str, list[str]], dict[str, set[str]]]:
    """The ids OBJECTS add (in order, by kind, the first MAX_PER_KIND of each: only those can
    stay) and the ids they report deleted; linear in the number of objects. A model's
    capabilities are kept as kinds of their own (`model+CAPABILITY`, `model+known`)."""
    seen: dict[str, dict[str, None]] = {}
    gone: dict[str, set[str]] = {}
    for obj in objects:
        kind = kind_of(obj)
        if kind is None:
            continue
        deleted = obj.get("deleted") is True
        for each, present in [(kind, not deleted), *capability_kinds(kind, obj, deleted)]:
            if not present:
                gone.setdefault(each, set()).add(obj["id"])
                continue
            fresh = seen.setdefault(each, {})
            if len(fresh) < MAX_PER_KIND:
                fresh.setdefault(obj["id"], None)
    return {kind: list(fresh) for kind, fresh in seen.items()}, gone


CAPABILITY = "model+"  # the prefix of a capability's kind: model+completion_chat
KNOWN = CAPABILITY + "known"  # the models whose capabilities were seen


def capability_kinds(kind: str, obj: dict, deleted: bool) -> list[tuple[str, bool]]:
    """For a model with a capabilities object: (`model+NAME`, whether it has it) for each
    capability it states, and (`model+known`, True); a deleted model leaves every such kind
    it was in. Other objects: none."""
    flags = obj.get("capabilities")
    if kind != "model" or not (isinstance(flags, dict) or deleted):
        return []
    if deleted:
        return [(KNOWN, False)]
    stated = [(CAPABILITY + name, value is True) for name, value in flags.items()
              if isinstance(name, str) and re.fullmatch(r"[a-z_]{1,40}", name) and isinstance(value, bool)]
    return [*stated, (KNOWN, True)]


# What each use wants of a model: a capability the models list states, else (a model whose
# capabilities mcli never saw) a test on its name. A name holding another use's word (embed,
# ocr, moderation) is no chat model.
OTHER_USES = ("embed", "ocr", "moderation")
USES = {
    "chat": ("completion_chat", lambda name: not any(word in name for word in OTHER_USES)),
    "fim": ("completion_fim", lambda name: "codestral" in name and "embed" not in name),
    "embed": ("", lambda name: "embed" in name),
    "ocr": ("ocr", lambda name: "ocr" in name),
    "moderation": ("moderation", lambda name: "moderation" in name),
    "fine-tuning": ("fine_tuning", lambda name: not any(word in name for word in OTHER_USES)),
}


def models_for(use: str, environ: Mapping[str, str] = os.environ) -> list[str]:
    """The cached models that can serve USE (a key of USES), newest first."""
    capability, by_name = USES[use]
    cache = read(cache_path(environ))
    known = set(cache.get(KNOWN, []))
    able = set(cache.get(CAPABILITY + capability, [])) if capability else set()

    def serves(model: str) -> bool:
        if model in able:
            return True
        if model in known and capability in ALWAYS_STATED:  # the list said it cannot
            return False
        return by_name(model.lower())

    return [model for model in cache.get("model", []) if serves(model)]


ALWAYS_STATED = ("completion_chat", "completion_fim", "fine_tuning")  # in every models list (the spec's)


def merged(cache: dict[str, list[str]], seen: dict[str, list[str]],
           gone: dict[str, set[str]]) -> dict[str, list[str]]:
    """CACHE with SEEN put first and GONE taken out, each kind capped at MAX_PER_KIND."""
    out = dict(cache)
    for kind in set(seen) | set(gone):
        dropped = gone.get(kind, set())
        kept = dict.fromkeys(v for v in seen.get(kind, []) if v not in dropped)
        for value in cache.get(kind, []):
            if len(kept) >= MAX_PER_KIND:
                break
            if value not in dropped:
                kept.setdefault(value, None)
        out[kind] = list(kept)[:MAX_PER_KIND]
    return out


def remember(objects: Iterable[Any], environ: Mapping[str, str] = os.environ) -> None:
    """Record the ids of OBJECTS (those whose kind is known); never raises."""
    try:
        seen, gone = changes(objects)
        if not seen and not gone:
            return
        path = cache_path(environ)
        with locked(path):
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
    """The cache at PATH; empty when it is missing, unreadable, or larger than any cache mcli
    writes (MAX_FILE: Tab never parses a huge file written by something else)."""
    try:
        if path.stat().st_size > MAX_FILE:
            return {}
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {kind: [v for v in values[:MAX_PER_KIND] if usable(v)] for kind, values in data.items()
            if isinstance(kind, str) and isinstance(values, list)}


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold the exclusive lock that guards PATH's read-modify-write (TimeoutError after LOCK_WAIT)."""
    prepare(path.parent)  # the folder checked and cleared before the lock, not while holding it
    fd = os.open(path.with_name(LOCK_NAME), os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        _wait_for_lock(fd)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def _wait_for_lock(fd: int) -> None:
    """Take an exclusive flock on FD, retrying briefly; TimeoutError after LOCK_WAIT seconds."""
    deadline, pause = time.monotonic() + LOCK_WAIT, 0.001
    while not try_lock(fd):
        if time.monotonic() >= deadline:
            raise TimeoutError("the id cache stayed locked")
        time.sleep(pause)
        pause = min(pause * 2, 0.02)


def write(path: Path, cache: dict[str, list[str]]) -> None:
    """Write CACHE to PATH atomically, 0600 in a checked private folder (config/private.py)."""
    write_private(path, json.dumps(cache, separators=(",", ":")), durable=False)  # a cache: no fsync
