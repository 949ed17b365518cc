"""Reading the command mcli prints to resume a run, so a test runs it exactly as printed."""

from __future__ import annotations

import re
import shlex

# a command at the end of a hint (`...: mcli ...`) or on a line of its own (`  mcli ...`)
PRINTED = re.compile(r"(?m)(?:^ +|: )(mcli .+)$")


def printed_command(stderr: str) -> list[str]:
    """The arguments after `mcli` of the last command STDERR tells the user to run."""
    found = PRINTED.findall(stderr)
    assert found, f"no command to run in: {stderr[-2000:]}"
    words = shlex.split(found[-1])
    assert words[0] == "mcli", found[-1]
    return words[1:]
