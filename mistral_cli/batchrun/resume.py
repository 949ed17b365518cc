"""The command that resumes a run (a batch run, a fine-tuning run): the command line this process was started with,
less `--new`, shell-quoted, so that running exactly what mcli printed resumes the run and
never starts (and pays for) a second one.

    mcli batch create --from-prompts 'my prompts.txt' --new --watch
      -> batch run 3f2a9c1b-0e4d7a21 resumes with: mcli batch create --from-prompts 'my prompts.txt' --watch

A run whose input came on standard input says that the command needs the same input again.
`--new` is dropped where it stands as the command's option; a `--new` that is the value of
an option (`--metadata --new`) or comes after `--` is an argument and stays. The program is
written as `mcli`, its installed name.

Which answers mean the server did not act (`refused`) is decided here too, for every run: only
those (http/errors.REFUSED) mark a step unsent; anything else is looked up before a resend.
"""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

from mistral_cli.http.errors import REFUSED

if TYPE_CHECKING:  # pragma: no cover
    from mistral_cli.env import Env
    from mistral_cli.errors import MCLIError

PROGRAM = "mcli"
NEW = "--new"
MARK = "resumes with:"  # every resume hint of a run ends with these words and the command


def this_command(env: "Env") -> str:
    """The command line that runs this process's command again, without `--new`."""
    from mistral_cli.config.global_options import without_flag

    if env.argv is None:  # not started through app.main: nothing to quote
        return "the same command without --new"
    return " ".join(shlex.quote(word) for word in [PROGRAM, *without_flag(env.argv, env.command_tree, NEW)])


def this_command_with(env: "Env", option: str, value: str) -> str:
    """The command line of this process with OPTION set to VALUE (an earlier OPTION and its
    value left out; the new one goes last, before any `--`), shell-quoted: a run that stopped
    resumes with it (`--skip 128`)."""
    if env.argv is None:
        return f"the same command with {option} {value}"
    words = list(env.argv)
    end = words.index("--") if "--" in words else len(words)
    kept: list[str] = []
    index = 0
    while index < end:
        word = words[index]
        if word == option:
            index += 2
            continue
        if not word.startswith(option + "="):
            kept.append(word)
        index += 1
    return " ".join(shlex.quote(word) for word in [PROGRAM, *kept, option, value, *words[end:]])


def refused(exc: "MCLIError") -> bool:
    """Whether the error answer EXC proves the server refused the request: nothing to look for."""
    return getattr(exc, "status", None) in REFUSED


def resume_line(tag: str, command: str, stdin: bool = False, kind: str = "batch") -> str:
    """The words that end every resume hint of run TAG: `batch run TAG resumes with: COMMAND`
    (STDIN: the run's input came on standard input, which the command must be given again)."""
    given = " (given the same standard input)" if stdin else ""
    return f"{kind} run {tag}{given} {MARK} {command}"


def resume_hint(env: "Env", what: str, tag: str, kind: str) -> str:
    """The hint after a request for WHAT failed with no sure answer: the run looks first."""
    return looked_up(what, resume_line(tag, this_command(env), kind=kind))


def looked_up(what: str, line: str) -> str:
    """`WHAT may exist on the server: ...; LINE`: the one wording of a may-have-acted hint."""
    return f"{what} may exist on the server: the run looks for it first and sends it only if it is not there; {line}"


def interrupted_note(env: "Env", what: str, tag: str, kind: str) -> None:
    """Say on stderr that run TAG was stopped with WHAT possibly made, and how to resume."""
    env.info(f"interrupted: {what} may exist on the server; {resume_line(tag, this_command(env), kind=kind)}")
