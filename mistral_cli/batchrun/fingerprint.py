"""What identifies a batch run: a fingerprint of its inputs and options, and the run's tag.

The fingerprint is a SHA-256 over the bytes of every local request file (read streamed, so
memory stays flat), the ids of the files already on the server, and every option that
changes the requests or the job (endpoint, model, metadata, timeout), plus the server
(normalised: `HTTP://Host:80/` is `http://host`) and profile they go to. The same command
with the same inputs has the same fingerprint.

The tag names one run: the fingerprint's first characters and a random part, so `--new`
(a second run of the same inputs) gets a tag of its own. The tag goes into the uploaded
files' names and the job's metadata, which is how a run finds on the server what it sent
but never heard back about.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

VERSION = "mcli-batch-run/1"  # changes if what goes into a fingerprint changes
CHUNK = 1024 * 1024
TAG_KEY = "mcli_run"  # the job metadata key that carries the tag
DEFAULT_PORTS = {"http": 80, "https": 443}


def file_digest(path: Path) -> tuple[str, int]:
    """The SHA-256 (hex) and size of the file at PATH, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def fingerprint(parts: Mapping[str, Any]) -> str:
    """The SHA-256 (hex) of PARTS as canonical JSON, under this module's VERSION."""
    text = json.dumps({"version": VERSION, **parts}, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def new_tag(print_: str) -> str:
    """A new run's tag: 8 hex digits of the fingerprint PRINT_, a dash, 8 random hex digits."""
    return f"{print_[:8]}-{secrets.token_hex(4)}"


def upload_name(tag: str, seq: int) -> str:
    """The name request file SEQ (from 1) of run TAG is uploaded under."""
    return f"mcli-run-{tag}-{seq}.jsonl"


def without_credentials(url: str) -> str:
    """URL as the journal names a server: no user name or password (never a secret), the
    scheme and host in lower case, no default port (80 for http, 443 for https) and no
    trailing slash, so every spelling of one server is one server."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url.strip())
    netloc = parts.netloc.rpartition("@")[2]
    try:
        host, port = parts.hostname, parts.port
    except ValueError:  # a port that is not a number: only the credentials go
        return urlunsplit(parts._replace(netloc=netloc))
    if host is not None:
        host = f"[{host}]" if ":" in host else host
        netloc = host if port is None or DEFAULT_PORTS.get(parts.scheme) == port else f"{host}:{port}"
    return urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), parts.query, parts.fragment))
