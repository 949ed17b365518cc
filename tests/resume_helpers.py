"""Reading the command mcli prints to resume a run, so a test runs it exactly as printed."""

from __future__ import annotations

import re
import shlex

import pytest

# a command at the end of a hint (`...: mcli ...`) or on a line of its own (`  mcli ...`)
PRINTED = re.compile(r"(?m)(?:^ +|: )(mcli .+)$")


def printed_command(stderr: str) -> list[str]:
    """The arguments after `mcli` of the last command STDERR tells the user to run."""
    found = PRINTED.findall(stderr)
    assert found, f"no command to run in: {stderr[-2000:]}"
    words = shlex.split(found[-1])
    assert words[0] == "mcli", found[-1]
    return words[1:]


# the end of a run's resume hint: `batch run TAG [(given the same standard input)] resumes with: mcli ...`
RUN_HINT = re.compile(r"batch run (\S+)(?: \(given the same standard input\))? resumes with: (.+)$", re.MULTILINE)


def run_hint_command(stderr: str) -> list[str]:
    """The words (`mcli` first) of the last run resume command in STDERR, checked to be mcli's
    and without --new."""
    found = RUN_HINT.findall(stderr)
    assert found, f"no resume command printed: {stderr[-2000:]}"
    words = shlex.split(found[-1][1])
    assert words[0] == "mcli" and "--new" not in words, words
    return words


@pytest.fixture
def sim(api, monkeypatch):
    """The batch simulator on a clock that only the watch's sleeps move."""
    from mistral_cli.commands.shared import watching
    from tests.fakeapi.batch_jobs import BatchJobs

    jobs = BatchJobs(api).install()
    monkeypatch.setattr(watching, "CLOCK", watching.Clock(sleep=jobs.advance, now=lambda: jobs.now))
    return jobs


@pytest.fixture
def waits(monkeypatch):
    """The seconds a run waited before looking on the server again (no real sleep)."""
    from mistral_cli.batchrun import adopt

    seen: list[float] = []
    monkeypatch.setattr(adopt, "settle", seen.append)
    return seen
