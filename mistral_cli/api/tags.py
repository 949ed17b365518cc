"""The spec's tags, each with one of its operations: what `mcli api` sends for a tag that has
no command of its own yet. Derived from the operation table (api/operations.py): a tag's
first operation there (a list where the tag has one).
"""

from __future__ import annotations

from mistral_cli.api.operations import OPERATIONS

# tag -> "METHOD PATH" of one operation under that tag
API_TAGS: dict[str, str] = {}
for _operation in OPERATIONS.values():
    API_TAGS.setdefault(_operation.tag, _operation.describe())
del _operation
