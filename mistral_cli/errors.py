"""The error hierarchy and exit codes: commands raise, only `app.main()` prints and exits.

    MCLIError (exit 1)                 base: a message for the user, an optional hint
     ├── UsageError (exit 2)           bad option or input, caught before any request
     │    └── OptionValueError (exit 2) a command-line value its option's parser refused
     ├── AuthError (exit 3)            no key, or 401/403 from the server
     ├── NotFoundError (exit 4)        404, or a local thing that does not exist
     ├── JobFailedError (exit 5)       a watched job ended FAILED / CANCELLED / TIMEOUT_EXCEEDED
     ├── ContentFlaggedError (exit 6)  a classifier `--fail-on` gate tripped
     ├── BudgetError (exit 7)          --max-cost or a profile budget would be passed: nothing more sent
     ├── UnexpectedResponse (exit 1)   a body without the shape mcli needs
     ├── APIError (exit 1)             any other HTTP error after retries
     │    └── ValidationError (exit 2) 422: the server refused the request's fields
     ├── NetworkError (exit 1)         connection refused, timeouts, cut streams
     ├── StreamError (exit 1)          an error event in the middle of a 200 stream
     ├── ToolLoopError (exit 1)        the tool loop stopped before a final answer (--max-steps)
     ├── StoreError (exit 1)           the local history / run database cannot be used
     ├── ConfigError (exit 2)          a config file that does not parse, bad config values
     ├── OutputFailed (exit 1)         stdout cannot be written (a full disk, `> /dev/full`)
     └── OutputClosed (exit 0)         the reader closed stdout (`mcli ... | head`): stop quietly

Ctrl-C becomes exit 130 in `main()`; a closed output pipe becomes exit 0.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_AUTH = 3
EXIT_NOT_FOUND = 4
EXIT_JOB_FAILED = 5
EXIT_FLAGGED = 6
EXIT_BUDGET = 7
EXIT_INTERRUPTED = 130

_BEARER = re.compile(r"(?i)\b(bearer\s+)[^\s'\",;]+")
_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@]*:)[^/\s@]+@")
_MASK = "****"


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """TEXT fit to show the user: each of SECRETS (and any `Bearer TOKEN`, and the password
    of any `scheme://user:password@host` URL) masked, and control characters other than
    newline and tab escaped (`\\r`, `\\x1b`), so no error text from httpx, the keyring or
    the OS can leak a key or drive the terminal."""
    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, _MASK)
    text = _BEARER.sub(lambda match: match.group(1) + _MASK, text)
    text = _URL_PASSWORD.sub(lambda match: match.group(1) + _MASK + "@", text)
    return "".join(char if char.isprintable() or char in "\n\t" else _escaped(char) for char in text)


def _escaped(char: str) -> str:
    """CHAR as Python writes it inside a string literal (`\\r`, `\\x00`, `\\u200b`)."""
    return repr(char)[1:-1] if char != "'" else char


class MCLIError(Exception):
    """Base of every error mcli reports to the user."""

    exit_code = EXIT_ERROR
    maybe_acted = False  # set by the HTTP core: the request failed after the server may have got it
    status: int | None = None  # the HTTP status of the error answer that raised it, if any

    def __init__(self, message: str, *, hint: str | None = None, details: list[str] | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.details = details or []


class UsageError(MCLIError):
    """Bad usage or input, found before any request was sent."""

    exit_code = EXIT_USAGE


class OptionValueError(UsageError):
    """A value typed for a command-line option that its parser refused (the parser does not
    know the command; the command line runner adds where to look)."""


class ConfigError(MCLIError):
    """A config file or value that mcli cannot use."""

    exit_code = EXIT_USAGE


class AuthError(MCLIError):
    """No usable key, or the server refused it."""

    exit_code = EXIT_AUTH


class NotFoundError(MCLIError):
    """The thing asked for does not exist."""

    exit_code = EXIT_NOT_FOUND


class JobFailedError(MCLIError):
    """A watched job ended in a failed state."""

    exit_code = EXIT_JOB_FAILED


class ContentFlaggedError(MCLIError):
    """Content tripped a `--fail-on` gate."""

    exit_code = EXIT_FLAGGED


class BudgetError(MCLIError):
    """A run would pass `--max-cost` or a profile budget: refused, or stopped before the request."""

    exit_code = EXIT_BUDGET


class NetworkError(MCLIError):
    """The server could not be reached, or the connection broke."""


class StreamError(MCLIError):
    """The server sent an error event in the middle of a stream it had answered 200."""


class StoreError(MCLIError):
    """The local history database cannot be opened, read or written (exit 1)."""


class ToolLoopError(MCLIError):
    """The tool loop stopped before the model's final answer (--max-steps reached): exit 1."""


class UnexpectedResponse(MCLIError):
    """A body without the shape mcli needs: `unexpected response from REQUEST: WHERE: WHAT`."""

    def __init__(self, request: str, where: str, what: str):
        super().__init__(f"unexpected response from {request}: {where}: {what}")
        self.request, self.where, self.what = request, where, what


class APIError(MCLIError):
    """The server answered with an error status."""

    status: int

    def __init__(self, message: str, *, status: int, request_id: str | None = None, **kw):
        super().__init__(message, **kw)
        self.status = status
        self.request_id = request_id


class ValidationError(APIError):
    """The server refused the request's fields (422)."""

    exit_code = EXIT_USAGE


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the process is, like Ctrl-C (partial answer saved, temporary
    files removed, exit 130); unlike Ctrl-C, the REPL does not carry on after it."""


class OutputFailed(MCLIError):
    """Standard output could not be written (a full disk, `> /dev/full`): exit 1."""


class OutputClosed(MCLIError):
    """The reader closed stdout (`mcli ... | head`): stop quietly and exit 0.

    Raised instead of BrokenPipeError, which Typer would turn into exit 1.
    """

    exit_code = EXIT_OK
    already_reported = True

    def __init__(self) -> None:
        super().__init__("the output pipe was closed by the reader")


@contextmanager
def job_created(kind: str, job_id: object, see: str) -> Iterator[None]:
    """Around what follows a create the server answered (writing the output, the journal):
    an error there says that KIND JOB_ID exists on the server and how to SEE it, since a
    `cannot write the output` alone reads as if nothing was created."""
    try:
        yield
    except MCLIError as exc:
        exc.details.append(f"{kind} {job_id} was created: it exists on the server (see it with `{see}`)")
        raise
