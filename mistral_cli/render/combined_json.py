"""`-o json` over several requests written as the one body a single request would return,
batch by batch, never held whole (embeddings, classifiers)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from mistral_cli.render.output import indented_json

if TYPE_CHECKING:  # pragma: no cover
    from mistral_cli.env import Env


class CombinedJson:
    """`-o json` over several requests: the body one request would have returned, written
    batch by batch (LIST_KEY's items in input order, `usage` summed), never held whole."""

    def __init__(self, env: "Env", list_key: str, empty: dict | None = None):
        self.env = env
        self.list_key = list_key
        self.empty = {**(empty or {}), list_key: []}  # the body when no batch came (--skip past the end)
        self.first: dict | None = None
        self.count = 0
        self.usage: dict | None = None

    def add(self, body: dict, items: list[Any]) -> None:
        """Write ITEMS (BODY's list, already in order); the first call writes the head."""
        if self.first is None:
            self.first = body
            self._write_keys(self._keys()[:self._list_position()], opening=True)
            self.env.stdout.write(f"  {json.dumps(self.list_key)}: [")
        for item in items:
            text = indented_json(item).replace("\n", "\n    ")
            self.env.stdout.write(("," if self.count else "") + "\n    " + text)
            self.count += 1
        self.usage = _add_usage(self.usage, body.get("usage"))
        self.env.stdout.flush()

    def finish(self) -> None:
        """Close the list and write the keys that follow it; when no batch came, the empty
        body (EMPTY with LIST_KEY an empty list), so `-o json` always prints one JSON value."""
        if self.first is None:
            self.env.stdout.write(indented_json(self.empty) + "\n")
            self.env.stdout.flush()
            return
        self.env.stdout.write("\n  ]" if self.count else "]")
        rest = self._keys()[self._list_position() + 1:]
        self._write_keys(rest, opening=False)
        self.env.stdout.write("\n}\n")
        self.env.stdout.flush()

    def _keys(self) -> list[str]:
        """The first body's keys, with LIST_KEY among them."""
        keys = list(self.first or {})
        return keys if self.list_key in keys else keys + [self.list_key]

    def _list_position(self) -> int:
        """Where LIST_KEY stands among the keys."""
        return self._keys().index(self.list_key)

    def _write_keys(self, keys: list[str], opening: bool) -> None:
        """Write KEYS' values indented as json.dumps(indent=2) would, opening or continuing the body."""
        assert self.first is not None
        parts = []
        for key in keys:
            value = self.usage if key == "usage" and self.usage is not None else self.first[key]
            text = indented_json(value).replace("\n", "\n  ")
            parts.append(f"  {json.dumps(key)}: {text}")
        if opening:
            self.env.stdout.write("{\n" + "".join(part + ",\n" for part in parts))
        else:
            self.env.stdout.write("".join(",\n" + part for part in parts))


def _add_usage(total: dict | None, usage: Any) -> dict | None:
    """TOTAL with USAGE's numbers added (None until a body has usage)."""
    if not isinstance(usage, dict):
        return total
    if total is None:
        return dict(usage)
    return {**total, **{key: total.get(key, 0) + value for key, value in usage.items()
                        if isinstance(value, (int, float)) and isinstance(total.get(key, 0), (int, float))}}
