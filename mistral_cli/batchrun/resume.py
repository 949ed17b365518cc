"""What a journalled run tells the user when it stops with a request that may have been acted on.

The resume command is the command as the user gave it (quoted for a POSIX shell), less
`--new`: run again, it resumes the run just left (the latest of its fingerprint), looks on
the server for what was sent without an answer and sends only what is not there. With
`--new` it would start yet another run and pay again, so a hint never carries it.

    refused(exc)                       -> the server surely did not act (send again later)
    interrupted_note(env, what, tag)   -> the lines to print on Ctrl-C or SIGTERM mid-request
"""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

from mistral_cli.errors import APIError, AuthError, MCLIError, NotFoundError

if TYPE_CHECKING:  # pragma: no cover
    from mistral_cli.env import Env

NEW = "--new"
# Answers that prove the request was refused before anything was made (a 429 comes from the
# rate limiter, before processing); any other answer (408, 409, 425, 499, a 5xx), a timeout
# or a cut connection may come after the server acted.
REFUSED_STATUSES = frozenset({400, 401, 403, 404, 413, 415, 422, 429})


def refused(exc: MCLIError) -> bool:
    """Whether EXC proves the server did not act on the request (nothing to look for)."""
    if isinstance(exc, (AuthError, NotFoundError)):
        return True
    return isinstance(exc, APIError) and exc.status in REFUSED_STATUSES


def resume_command(env: "Env") -> str:
    """The command that resumes this one: as given, shell-quoted, without `--new`."""
    return shlex.join(["mcli", *(arg for arg in env.argv if arg != NEW)])


def resume_hint(env: "Env", what: str) -> str:
    """A hint for an error after WHAT was sent with no sure answer: the command to run."""
    return (f"{what} may exist on the server; this resumes the run, looks for it first and "
            f"sends it only if it is not there: {resume_command(env)}")


def interrupted_note(env: "Env", what: str, tag: str) -> None:
    """Say on stderr that run TAG was stopped with WHAT possibly made, and how to resume."""
    env.info(f"interrupted: {what} may exist on the server (run {tag}); run this to resume: it looks "
             "for it first and sends it only if it is not there:")
    env.info(f"  {resume_command(env)}")
