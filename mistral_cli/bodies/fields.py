"""Typed `KEY=VALUE` fields and the one rule for request fields the spec does not know.

Fields are typed the way gh does it: `true`, `false`, `null` and numbers become JSON values, a
value that is a JSON array or object becomes that value, anything else stays a string;
`a.b=c` nests (`{"a": {"b": "c"}}`), `key[]=v` always makes a list, and a key given several
times collects its values into a list. `mcli api -f` and every request command's `-F/--field`
share this parser.

The rule for a top-level field outside the spec's request schema (`--body` or `-F`): a name
within a typo of a known field is refused with "did you mean"; any other is sent, and the
caller warns once naming them all (the API adds fields the spec does not list yet).
"""

from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Iterable
from typing import Any

from mistral_cli.errors import UsageError

_NUMBER = re.compile(r"^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$")
TYPO_CUTOFF = 0.8

# The request fields of the spec's schemas (tests/test_spec_facts.py keeps them in step); the
# other commands keep theirs beside them (generation/endpoints.py, embeddings, classifiers, ocr).
FINE_TUNING_FIELDS = frozenset({"model", "training_files", "validation_files", "suffix", "integrations",
                                "auto_start", "invalid_sample_skip_percentage", "job_type",
                                "hyperparameters", "repositories", "classifier_targets"})  # JobIn
BATCH_FIELDS = frozenset({"input_files", "endpoint", "model", "metadata", "timeout_hours"})  # BatchJobIn


def typed_value(text: str) -> Any:
    """TEXT as a JSON value: true/false/null, a number, a JSON array/object, else the string."""
    if text in ("true", "false", "null"):
        return json.loads(text)
    if _NUMBER.match(text):
        number = int(text) if text.lstrip("-").isdigit() else float(text)
        if not math.isfinite(number):
            raise UsageError(f"{text!r} is too large a number for JSON")
        return number
    return json_container(text, text)


def json_container(text: str, fallback: Any) -> Any:
    """TEXT decoded when it is a JSON array or object, else FALLBACK."""
    if text.lstrip()[:1] in ("[", "{"):
        try:
            return json.loads(text, parse_constant=_no_constant, parse_float=_finite)
        except ValueError:
            pass
    return fallback


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"{text} is too large a number for JSON")
    return number


def split_field(spec: str, option: str) -> tuple[str, str]:
    """`key=value` -> (key, value); refuse anything else naming OPTION."""
    key, has_value, value = spec.partition("=")
    if not has_value or not key.strip():
        raise UsageError(f"{option}: expected KEY=VALUE, got {spec!r}")
    return key.strip(), value


def collect(fields: list[tuple[str, Any]]) -> dict[str, Any]:
    """Group FIELDS by key: a repeated key or a `key[]` key gives a list, in order."""
    grouped: dict[str, list[Any]] = {}
    forced: set[str] = set()
    for key, value in fields:
        if key.endswith("[]"):
            key = key[:-2]
            forced.add(key)
        grouped.setdefault(key, []).append(value)
    return {key: values if key in forced or len(values) > 1 else values[0]
            for key, values in grouped.items()}


def set_field(body: dict, key: str, value: Any, option: str) -> None:
    """Set dotted KEY (`response_format.type`) in BODY, creating nested objects."""
    *parents, last = key.split(".")
    target = body
    walked = []
    for part in parents:
        walked.append(part)
        child = target.setdefault(part, {})
        if not isinstance(child, dict):
            raise UsageError(f"{option} {key}: {'.'.join(walked)} is not an object in the body")
        target = child
    if not last:
        raise UsageError(f"{option}: empty key part in {key!r}")
    target[last] = value


def build_body(base: dict | None, fields: list[tuple[str, Any]], option: str = "-f/-F") -> dict:
    """BASE (from --body) with FIELDS set on top of it."""
    body = json.loads(json.dumps(base)) if base else {}
    for key, value in collect(fields).items():
        set_field(body, key, value, option)
    return body



# -- the rule for fields the spec does not know -------------------------------------------


def typed_fields(specs: Iterable[str], option: str = "-F/--field") -> list[tuple[str, Any]]:
    """`KEY=VALUE` specs as (key, typed value) pairs, refusing a spec without `=`."""
    return [(key, typed_value(value)) for key, value in (split_field(spec, option) for spec in specs)]


def close_name(name: str, known: Iterable[str]) -> str | None:
    """The known name NAME is within a typo of, or None."""
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=TYPO_CUTOFF)
    return close[0] if close else None


def unknown_fields(keys: Iterable[str], known: Iterable[str], what: str, option: str) -> list[str]:
    """The KEYS outside KNOWN, sorted; a key within a typo of a known one is refused."""
    known = sorted(known)
    unknown = sorted(set(keys) - set(known))
    for key in unknown:
        close = close_name(key, known)
        if close:
            raise UsageError(f"{option}: {key!r} is not a field of {what}; did you mean {close!r}?")
    return unknown


def unknown_warning(unknown: list[str], what: str) -> str:
    """The one warning line for fields sent beyond the spec."""
    return f"sending {', '.join(unknown)}, not in the spec of {what}: the API decides"


def with_fields(base: dict | None, fields: list[tuple[str, Any]], known: Iterable[str], what: str,
                refused: Iterable[str] = ()) -> tuple[dict, list[str]]:
    """BASE with FIELDS set on top, and the top-level names it holds outside KNOWN (a typo of a
    known name, or a name in REFUSED, is refused)."""
    body = build_body(base, fields, "-F/--field")
    known = frozenset(known)
    wrong = sorted(set(body) & frozenset(refused))
    if wrong:
        raise UsageError(f"--body/-F: {', '.join(wrong)} not accepted by {what} "
                         f"(accepted: {', '.join(sorted(known))})")
    return body, unknown_fields(body, known, what, "--body/-F")
