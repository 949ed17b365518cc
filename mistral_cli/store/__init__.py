"""Local state: the conversation and token-usage log, kept in SQLite.

`mistral_cli.store.conversations.open_store(env)` opens it. This package's `__init__` stays
free of sqlite3 so that catching `StoreError` costs nothing at start-up.
"""

from __future__ import annotations

from mistral_cli.errors import MCLIError


class StoreError(MCLIError):
    """The local history database cannot be opened, read or written (exit 1)."""
