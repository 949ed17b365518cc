"""The command that resumes a batch run: the command line this process was started with,
less `--new`, shell-quoted, so that running exactly what mcli printed resumes the run and
never starts (and pays for) a second one.

    mcli batch create --from-prompts 'my prompts.txt' --new --watch
      -> batch run 3f2a9c1b-0e4d7a21 resumes with: mcli batch create --from-prompts 'my prompts.txt' --watch

A run whose input came on standard input says that the command needs the same input again.
`--new` is dropped where it stands as the command's option; a `--new` that is the value of
an option (`--metadata --new`) or comes after `--` is an argument and stays. The program is
written as `mcli`, its installed name.
"""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from mistral_cli.env import Env

PROGRAM = "mcli"
NEW = "--new"
MARK = "resumes with:"  # every resume hint of a run ends with these words and the command


def this_command(env: "Env") -> str:
    """The command line that runs this process's command again, without `--new`."""
    from mistral_cli.config.global_options import without_flag

    if env.argv is None:  # not started through app.main: nothing to quote
        return "the same command without --new"
    return " ".join(shlex.quote(word) for word in [PROGRAM, *without_flag(env.argv, env.command_tree, NEW)])


def resume_line(tag: str, command: str, stdin: bool = False) -> str:
    """The words that end every resume hint of run TAG: `batch run TAG resumes with: COMMAND`
    (STDIN: the run's input came on standard input, which the command must be given again)."""
    given = " (given the same standard input)" if stdin else ""
    return f"batch run {tag}{given} {MARK} {command}"
