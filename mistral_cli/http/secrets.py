"""The secrets a request carries, so that everything mcli prints can be scrubbed of them.

The HTTP client records each secret as it sends it: the API key (the `Authorization`
header), the password of the server URL (which httpx sends as Basic auth), and the values
of the JSON body fields the API documents as secrets (`WandbIntegration.api_key`,
`GithubRepositoryIn.token`), wherever they sit in the body, `--body` files and `mcli api`
included. `Env.scrub` masks every one of them in errors, warnings, `-v` traces and
tracebacks.
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import unquote, urlsplit

SECRET_FIELDS = frozenset({"api_key", "token"})  # body fields that hold a credential
MAX_NODES = 100_000  # JSON nodes looked at in one body (a huge body is data, not settings)


def secrets_in_body(body: Any) -> set[str]:
    """The string values of SECRET_FIELDS anywhere in the JSON BODY (its first MAX_NODES nodes)."""
    found: set[str] = set()
    stack, seen = [body], 0
    while stack and seen < MAX_NODES:
        node = stack.pop()
        seen += 1
        if isinstance(node, dict):
            for key, value in node.items():
                if key in SECRET_FIELDS and isinstance(value, str):
                    found.add(value)
                elif isinstance(value, (dict, list)):
                    stack.append(value)
        elif isinstance(node, list):
            stack.extend(item for item in node if isinstance(item, (dict, list)))
    return found


def secrets_in_url(url: str) -> set[str]:
    """The password of URL as written and decoded, and `user:password` in the Basic-auth
    form httpx sends it in; an empty set when URL holds no password. (Masking the password
    alone keeps the user name readable: `https://me:****@host`.)"""
    try:
        parts = urlsplit(url)
        user, password = parts.username, parts.password
    except ValueError:
        return set()
    if not password:
        return set()
    pair = f"{unquote(user or '')}:{unquote(password)}"
    basic = base64.b64encode(pair.encode("utf-8")).decode("ascii")
    return {password, unquote(password), basic}
