"""The global options (--profile, --server-url, --timeout, ...) as one value that config and Env read."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class GlobalOptions:
    """Options accepted before or after any subcommand."""

    profile: str | None = None
    server_url: str | None = None
    timeout: float | None = None
    max_retries: int | None = None
    verbose: bool = False
    debug: bool = False
    color: str = "auto"
