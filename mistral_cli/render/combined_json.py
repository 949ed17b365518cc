"""`-o json` over several requests written as the one body a single request would return,
batch by batch or page by page, never held whole (embeddings, classifiers, `--all` lists)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mistral_cli.api.pages import stated_total
from mistral_cli.render.output import indented_json

if TYPE_CHECKING:  # pragma: no cover
    from mistral_cli.env import Env


class CombinedJson:
    """`-o json` over several requests: the body one request would have returned, written
    batch by batch (LIST_KEY's items in input order, `usage` summed), never held whole.

    A LISTING (a list read page by page, api/pages.py) is the first page's fields with every
    item once and `total` by the one rule: the first page's count, else the items written (then
    known only at the end: a first page that puts an unusable `total` before its items, which
    no real server does, has its items held until then, so the bytes stay those of one body)."""

    def __init__(self, env: "Env", list_key: str, empty: dict | None = None, *, listing: bool = False):
        self.env = env
        self.list_key = list_key
        self.listing = listing
        self.empty = {**(empty or {}), list_key: []}  # the body when no batch came (--skip past the end)
        self.first: dict | None = None
        self.count = 0
        self.usage: dict | None = None
        self.held: list[Any] | None = None  # items waiting for the head (see the class docstring)

    def add(self, body: dict, items: list[Any]) -> None:
        """Write ITEMS (BODY's list, already in order); the first call writes the head."""
        if self.first is None:
            # the first body's fields but its items: those are written, never held
            self.first = {key: (None if key == self.list_key else value) for key, value in body.items()}
            if self._head_waits():
                self.held = []
            else:
                self._write_head()
        if self.held is not None:
            self.held.extend(items)
            return
        self._write_items(items)
        if not self.listing:
            self.usage = _add_usage(self.usage, body.get("usage"))
        self.env.stdout.flush()

    def _write_head(self) -> None:
        """The keys before LIST_KEY, and the list's opening."""
        self._write_keys(self._keys()[:self._list_position()], opening=True)
        self.env.stdout.write(f"  {indented_json(self.list_key)}: [")

    def _write_items(self, items: list[Any]) -> None:
        for item in items:
            text = indented_json(item).replace("\n", "\n    ")
            self.env.stdout.write(("," if self.count else "") + "\n    " + text)
            self.count += 1

    def finish(self) -> None:
        """Close the list and write the keys that follow it; when no batch came, the empty
        body (EMPTY with LIST_KEY an empty list), so `-o json` always prints one JSON value."""
        if self.first is None:
            self.env.stdout.write(indented_json(self.empty) + "\n")
            self.env.stdout.flush()
            return
        if self.held is not None:
            held, self.held = self.held, None
            self.count = len(held)  # the head's `total` is the count of the items held
            self._write_head()
            self.count = 0
            self._write_items(held)
        self.env.stdout.write("\n  ]" if self.count else "]")
        rest = self._keys()[self._list_position() + 1:]
        self._write_keys(rest, opening=False)
        self.env.stdout.write("\n}\n")
        self.env.stdout.flush()

    def _keys(self) -> list[str]:
        """The first body's keys, with LIST_KEY (and a listing's `total`) among them."""
        keys = list(self.first or {})
        keys = keys if self.list_key in keys else keys + [self.list_key]
        return keys + ["total"] if self.listing and "total" not in keys else keys

    def _list_position(self) -> int:
        """Where LIST_KEY stands among the keys."""
        return self._keys().index(self.list_key)

    def _head_waits(self) -> bool:
        """Whether the head holds a value known only at the end (a listing's counted `total`)."""
        return (self.listing and stated_total(self.first) is None
                and self._keys().index("total") < self._list_position())

    def _value(self, key: str) -> Any:
        """What KEY holds in the one body: the first body's value, the summed `usage`, a listing's `total`."""
        assert self.first is not None
        if self.listing and key == "total":
            total = stated_total(self.first)
            return self.count if total is None else total
        if key == "usage" and self.usage is not None:
            return self.usage
        return self.first[key]

    def _write_keys(self, keys: list[str], opening: bool) -> None:
        """Write KEYS' values indented as json.dumps(indent=2) would, opening or continuing the body."""
        parts = []
        for key in keys:
            text = indented_json(self._value(key)).replace("\n", "\n  ")
            parts.append(f"  {indented_json(key)}: {text}")
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
