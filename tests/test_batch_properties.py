"""Property tests: on any text, the batch request validator and the `--metadata` parser fail
only with mcli's own UsageError (exit 2 with a message), never with anything else."""

from __future__ import annotations

import functools
import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mistral_cli.commands.batch.inputs import metadata_filter, parse_metadata
from mistral_cli.errors import UsageError
from mistral_cli.validate import batch
from mistral_cli.validate.batch import check_batch_file

JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
                        st.sampled_from(["custom_id", "body", "x"]) | st.text(max_size=4), inner, max_size=3),
                    max_leaves=8)
LINES = st.lists(st.one_of(JSON.map(json.dumps), st.text(max_size=40),
                           st.fixed_dictionaries({"custom_id": st.text(max_size=3), "body": JSON}).map(json.dumps)),
                 max_size=12)


@pytest.fixture(autouse=True, scope="module")
def small_id_filter():
    """The validator with a 4 KiB id filter instead of 32 MiB: zeroing the big one was most of
    each example's time, and what it may raise does not depend on its size (a false positive
    only sends the id to the exact second pass)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(batch, "SeenFilter", functools.partial(batch.SeenFilter, 4096))
        yield


def validate_bytes(data: bytes) -> None:
    """Run the validator on DATA as a file and raise what it raises for a bad file."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "requests.jsonl"
        path.write_bytes(data)
        check_batch_file(path).raise_if_bad()


def only_usage_errors(action) -> None:
    try:
        action()
    except UsageError as exc:
        assert exc.exit_code == 2 and exc.message


@settings(max_examples=60, deadline=None, database=None)
@given(LINES)
def test_the_validator_raises_only_usage_errors_on_any_lines(lines):
    only_usage_errors(lambda: validate_bytes("\n".join(lines).encode("utf-8", "surrogatepass")))


@settings(max_examples=60, deadline=None, database=None)
@given(st.binary(max_size=300))
def test_the_validator_raises_only_usage_errors_on_any_bytes(data):
    only_usage_errors(lambda: validate_bytes(data))


def test_the_validator_survives_deep_nesting_and_lone_surrogates():
    only_usage_errors(lambda: validate_bytes(b"[" * 100_000 + b"\n"))
    validate_bytes(b'{"custom_id": "\\ud800", "body": {}}\n{"custom_id": "\\ud801", "body": {}}\n')


@settings(max_examples=100, deadline=None, database=None)
@given(st.lists(st.text(max_size=20), max_size=5))
def test_the_metadata_parsers_raise_only_usage_errors(specs):
    only_usage_errors(lambda: parse_metadata(specs))
    only_usage_errors(lambda: metadata_filter(specs))


@settings(database=None)
@given(st.dictionaries(st.text(alphabet=st.characters(blacklist_characters="=&", blacklist_categories=("Cs",)),
                                min_size=1, max_size=8).filter(str.strip).map(str.strip),
                       st.text(alphabet=st.characters(blacklist_characters="=&"), min_size=1, max_size=8),
                       max_size=4))
def test_metadata_pairs_round_trip(pairs):
    assert parse_metadata([f"{key}={value}" for key, value in pairs.items()]) == pairs
