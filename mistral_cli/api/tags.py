"""The spec's tags, each with one of its operations: what `mcli api` sends for a tag that has
no command of its own yet. tests/test_spec_facts.py checks this copy against the spec.
"""

from __future__ import annotations

# tag -> "METHOD PATH" of one operation under that tag
API_TAGS: dict[str, str] = {
    "chat": "POST /v1/chat/completions",
    "fim": "POST /v1/fim/completions",
    "agents": "POST /v1/agents/completions",
    "embeddings": "POST /v1/embeddings",
    "classifiers": "POST /v1/moderations",
    "files": "GET /v1/files",
    "fine-tuning": "GET /v1/fine_tuning/jobs",
    "models": "GET /v1/models",
    "batch": "GET /v1/batch/jobs",
    "ocr": "POST /v1/ocr",
}
