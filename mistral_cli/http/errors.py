"""Turn an HTTP error response, whatever its body's shape, into an mcli error.

Shapes seen from the API: `{"object": "error", "message", "type", "param", "code"}`,
`{"detail": "Unauthorized"}`, `{"message": "Unauthorized", "request_id"}`,
`{"detail": [{"loc", "msg", "type"}]}` (422), plain text from a proxy, and empty bodies.
"""

from __future__ import annotations

import json
from typing import Any

from mistral_cli.errors import (
    APIError,
    AuthError,
    MCLIError,
    NotFoundError,
    ValidationError,
)

LOGIN_HINT = "check the key: `mcli auth status`, or store a new one with `mcli auth login`"
# Error answers that prove the server refused a request before acting on it (a 429 comes
# before any processing). Any other error answer (408, 409, 425, 499, 5xx, ...) may follow
# an action: a create that got one is looked up before it is sent again.
REFUSED = frozenset({400, 401, 403, 404, 413, 415, 422, 429})
ENV_KEY_HINT = ("the key came from the environment (MISTRAL_API_KEY), which wins over a stored one "
                "(`mcli auth login` cannot override it): fix or unset MISTRAL_API_KEY; `mcli auth status` checks it")


def error_from_response(status: int, reason: str, body: bytes, headers: Any) -> MCLIError:
    """The error for a response with STATUS and BODY; it carries STATUS, and whether the
    server may have acted on the request (any STATUS not in REFUSED)."""
    error = _error_of(status, reason, body, headers)
    error.status = status
    error.maybe_acted = status not in REFUSED
    return error


def _error_of(status: int, reason: str, body: bytes, headers: Any) -> MCLIError:
    """The error class and message for a response with STATUS and BODY."""
    decoded = _decode(body)
    request_id = _request_id(decoded, headers)
    message = _message(decoded) or reason or f"HTTP {status}"
    details = _validation_lines(decoded)
    suffix = f" (request id {request_id})" if request_id else ""
    if status in (401, 403):
        what = "authentication failed" if status == 401 else "permission denied"
        return AuthError(f"{what}: {message}{suffix}", hint=LOGIN_HINT)
    if status == 404:
        return NotFoundError(f"not found: {message}{suffix}")
    if status == 422:
        said = "" if details or message == (reason or f"HTTP {status}") else f": {message}"
        return ValidationError(f"the server refused the request{said}{suffix}", status=status,
                               request_id=request_id, details=details)
    return APIError(f"HTTP {status}: {message}{suffix}", status=status,
                    request_id=request_id, details=details)


def _decode(body: bytes) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace").strip()[:2000]


def _message(decoded: Any) -> str:
    if isinstance(decoded, str):
        return decoded
    if not isinstance(decoded, dict):
        return ""
    for key in ("message", "detail", "error"):
        value = decoded.get(key)
        if isinstance(value, str) and value:
            return value
        if isinstance(value, dict) and value.get("message"):
            return str(value["message"])
        if isinstance(value, list) and value:
            return "validation failed"
    return ""


def _validation_lines(decoded: Any) -> list[str]:
    if not isinstance(decoded, dict) or not isinstance(decoded.get("detail"), list):
        return []
    lines = []
    for item in decoded["detail"]:
        if not isinstance(item, dict):
            lines.append(str(item))
            continue
        loc = [str(part) for part in item.get("loc", []) if part != "body"]
        lines.append(f"{'.'.join(loc) or 'request'}: {item.get('msg', item)}")
    return lines


def _request_id(decoded: Any, headers: Any) -> str | None:
    if isinstance(decoded, dict) and decoded.get("request_id"):
        return str(decoded["request_id"])
    for name in ("x-request-id", "mistral-correlation-id"):
        if headers is not None and headers.get(name):
            return headers.get(name)
    return None
