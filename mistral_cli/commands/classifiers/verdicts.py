"""Classifier results as verdicts: each input's scores, which categories are flagged, and the
`--fail-on` / `--threshold` gate that turns a flag into exit 6.

A moderation result flags what the API flags (`categories`), or with `--threshold X` every
category scoring X or more. A classification result names a score per label of each target
(`TARGET.LABEL`); the API flags nothing, so the top label of each target counts as flagged,
or with `--threshold X` every label scoring X or more. `--fail-on` names categories (for a
classification `TARGET.LABEL` or a bare `LABEL`), or `any`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from mistral_cli.errors import ContentFlaggedError, UsageError
from mistral_cli.inputs import Bound

NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:/-]*", re.ASCII)
# The moderation models' categories (docs.mistral.ai; the spec leaves ModerationObject open).
MODERATION_CATEGORIES = ("sexual", "hate_and_discrimination", "violence_and_threats",
                         "dangerous_and_criminal_content", "selfharm", "health", "financial",
                         "law", "pii")


@dataclass(frozen=True)
class Gate:
    """What --fail-on names (None: nothing; an empty set: any category) and --threshold."""

    categories: frozenset[str] | None = None
    threshold: float | None = None

    def trips(self, flagged: set[str]) -> bool:
        """Whether an input flagged in FLAGGED fails the run."""
        if self.categories is None or not flagged:
            return False
        if not self.categories:
            return True
        return any(name in self.categories or name.rsplit(".", 1)[-1] in self.categories
                   for name in flagged)


def parse_fail_on(text: str | None) -> frozenset[str] | None:
    """--fail-on CATEGORY[,CATEGORY...] or `any` (the empty set); the error names the bad part."""
    if text is None:
        return None
    parts = [part.strip() for part in text.split(",")]
    if parts == ["any"]:
        return frozenset()
    for part in parts:
        if part == "any":
            raise UsageError("--fail-on: 'any' stands alone (got it in a list)")
        if not NAME.fullmatch(part):
            raise UsageError(f"--fail-on: {part!r} is not a category name "
                             "(expected CATEGORY[,CATEGORY...] or any)")
    return frozenset(parts)


THRESHOLD = Bound("--threshold", 0, 1)


def parse_threshold(value: str | float | None) -> float | None:
    """--threshold X: a number from 0 to 1 (parsed on the command line already; text from elsewhere)."""
    return None if value is None else THRESHOLD.parse(value)


def check_categories(gate: Gate, known: Iterable[str], source: str) -> None:
    """Stop (exit 2) when --fail-on names a category not in KNOWN: a misspelled gate would
    never fire. A classifier's `TARGET.LABEL` may be named by its bare LABEL too."""
    if not gate.categories:
        return
    names = set(known)
    names |= {name.rsplit(".", 1)[-1] for name in names}
    unknown = sorted(gate.categories - names)
    if not unknown:
        return
    hints = [f"did you mean {close!r}?" for name in unknown for close in [near_name(name, names)] if close]
    raise UsageError(f"--fail-on: unknown categor{'y' if len(unknown) == 1 else 'ies'} "
                     f"{', '.join(map(repr, unknown))} ({source}: {', '.join(sorted(names))})"
                     + (f"; {' '.join(hints)}" if hints else ""))


def near_name(name: str, names: Iterable[str]) -> str | None:
    """The one of NAMES that NAME is likely a slip for (a typo, or the start of it), or None:
    a name merely sharing a few letters is no suggestion."""
    import difflib

    ordered = sorted(names)
    starting = [known for known in ordered if len(name) >= 3 and known.startswith(name)]
    close = difflib.get_close_matches(name, ordered, n=1, cutoff=0.75)
    return (close or starting or [None])[0]


def make_gate(fail_on: str | None, threshold: str | None) -> Gate:
    """The Gate for --fail-on and --threshold, both checked."""
    return Gate(parse_fail_on(fail_on), parse_threshold(threshold))


# -- reading results --------------------------------------------------------------------------

def moderation_scores(result: Any) -> tuple[dict[str, float], set[str]]:
    """A ModerationObject's scores and the categories the API flagged."""
    result = result if isinstance(result, dict) else {}
    scores = {name: score for name, score in (result.get("category_scores") or {}).items()
              if _is_number(score)}
    flags = {name for name, flag in (result.get("categories") or {}).items() if flag is True}
    for name in flags - set(scores):
        scores[name] = 1.0
    return scores, flags


def classification_scores(result: Any) -> tuple[dict[str, float], set[str]]:
    """A classification result's `TARGET.LABEL` scores and each target's top label."""
    scores: dict[str, float] = {}
    top: set[str] = set()
    for target, value in (result if isinstance(result, dict) else {}).items():
        labels = {label: score for label, score in ((value or {}).get("scores") or {}).items()
                  if _is_number(score)}
        scores.update({f"{target}.{label}": score for label, score in labels.items()})
        if labels:
            top.add(f"{target}.{max(labels, key=labels.__getitem__)}")
    return scores, top


def _is_number(value: Any) -> bool:
    """Whether VALUE is a JSON number (not a boolean)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def flagged(scores: dict[str, float], api_flags: set[str], threshold: float | None) -> set[str]:
    """The flagged categories: by score with a threshold, else as the API (or top label) says."""
    if threshold is None:
        return set(api_flags)
    return {name for name, score in scores.items() if score >= threshold}


class Tally:
    """Counts inputs and those that trip the gate; raises exit 6 at the end if any did."""

    def __init__(self, gate: Gate):
        self.gate = gate
        self.inputs = 0
        self.tripped: list[int] = []

    def add(self, index: int, names: set[str]) -> None:
        """Record input INDEX flagged in NAMES."""
        self.inputs += 1
        if self.gate.trips(names):
            self.tripped.append(index)

    def check(self) -> None:
        """Raise ContentFlaggedError when any input tripped the gate (inputs counted from 1)."""
        if not self.tripped:
            return
        shown = ", ".join(str(i + 1) for i in self.tripped[:10]) + (", …" if len(self.tripped) > 10 else "")
        wanted = "any category" if not self.gate.categories else ", ".join(sorted(self.gate.categories))
        raise ContentFlaggedError(f"{len(self.tripped)} of {self.inputs} input(s) flagged for "
                                  f"{wanted} (--fail-on): input {shown}")
