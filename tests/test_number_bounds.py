"""Every numeric option goes through inputs.check_number: nan, inf, out of range or absurd -> exit 2
naming the option, nothing sent; the bounds tables share one shape (inputs.Bound)."""

from __future__ import annotations

import pytest

from mistral_cli.errors import UsageError
from mistral_cli.inputs import NUMBER_CEILING, Bound, check_bound, check_number
from tests.fakeapi.defaults import FILE_ID, JOB_ID

HUGE = "1e23"  # finite, but it overflowed sleep()/timedelta before
HUGE_INT = str(10 ** 20)
FT_CREATE = ("fine-tuning", "create", "--model", "open-mistral-7b", "--training-file", FILE_ID)
BATCH_CREATE = ("batch", "create", "-i", FILE_ID, "--endpoint", "/v1/chat/completions", "-m", "mistral-small-latest")

CASES = [
    (("chat", "hi"), "--max-tokens", HUGE_INT),
    (("chat", "hi"), "--seed", HUGE_INT),
    (("chat", "hi"), "-n", HUGE_INT),
    (("chat", "hi"), "--temperature", "nan"),
    (FT_CREATE, "--interval", HUGE),
    (FT_CREATE, "--interval", "nan"),
    (FT_CREATE, "--epochs", HUGE),
    (FT_CREATE, "--training-steps", HUGE_INT),
    (FT_CREATE, "--seq-len", HUGE_INT),
    (FT_CREATE, "--learning-rate", "inf"),
    (("fine-tuning", "watch", JOB_ID), "--interval", HUGE),
    (BATCH_CREATE, "--timeout-hours", HUGE_INT),
    (BATCH_CREATE, "--interval", HUGE),
    (("usage",), "--days", HUGE_INT),
    (("usage",), "--days", "10000000"),
    (("history", "list"), "--limit", HUGE_INT),
    (("files", "list"), "--page", HUGE_INT),
    (("files", "list"), "--page-size", HUGE_INT),
    (("fine-tuning", "list"), "--page", "-1"),
    (("batch", "list"), "--page-size", "0"),
    (("embeddings", "a"), "--per-request", HUGE_INT),
    (("files", "upload", "x.jsonl"), "--expiry", HUGE_INT),
]


@pytest.mark.parametrize("command, option, value", CASES)
def test_a_bad_or_absurd_number_is_exit_2_naming_the_option(api, cli, command, option, value):
    result = cli(*command, option, value)
    assert result.exit_code == 2, result
    assert option in result.stderr
    assert "Traceback" not in result.stderr
    assert api.requests == []


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -1, NUMBER_CEILING + 1, True, "3"])
def test_the_one_checker_refuses_bad_values(value):
    with pytest.raises(UsageError, match="--x"):
        check_number(value, "--x", 0, None, integer=not isinstance(value, float))


def test_the_one_checker_names_the_bounds():
    with pytest.raises(UsageError, match="--x must be between 0 and 1"):
        check_number(2, "--x", 0, 1)
    with pytest.raises(UsageError, match="--x must be greater than 0"):
        check_bound(0, Bound("--x", 0, None, exclusive_low=True))
    with pytest.raises(UsageError, match="--body field n must be at least 1"):
        check_bound(0, Bound("-n", 1, None, integer=True), "--body field n")
    check_number(None, "--x", 0, 1)
    check_number(0.5, "--x", 0, 1)


def test_every_bounds_table_has_the_one_shape():
    from mistral_cli.commands.fine_tuning.parse import HYPERPARAMETERS
    from mistral_cli.generation.args import RANGES

    assert all(isinstance(bound, Bound) for bound in [*RANGES.values(), *HYPERPARAMETERS.values()])
