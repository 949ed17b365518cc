"""Local state in SQLite: conversations, the ledger of billed answers, the batch run journal.

`mistral_cli.store.conversations.open_store(env)` opens it. This package's `__init__` stays
free of sqlite3 so that catching `StoreError` costs nothing at start-up.
"""

from __future__ import annotations

from mistral_cli.errors import StoreError

__all__ = ["StoreError"]  # defined in errors.py with the rest of the tree; imported from here too
