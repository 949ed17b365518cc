"""Local input checks, run before any request: UUIDs, files, JSON, stdin, confirmations."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from mistral_cli.errors import UsageError
from mistral_cli.numbers import (NUMBER_CEILING, PAGE, PAGE_SIZE, Bound, check_bound,  # noqa: F401 (re-exported)
                                  check_number, parse_number)

if TYPE_CHECKING:  # pragma: no cover
    from mistral_cli.env import Env


def check_uuid(value: str, what: str = "id") -> str:
    """Refuse VALUE unless it is a UUID (exit 2 before any request)."""
    try:
        uuid.UUID(value)
    except ValueError:
        raise UsageError(f"invalid {what} {value!r}: expected a UUID such as "
                         "3fa85f64-5717-4562-b3fc-2c963f66afa6") from None
    return value


def need_stdin(env: "Env", option: str, *, piped: bool = False) -> IO[str]:
    """The one stdin rule: env.stdin for OPTION, refused (exit 2) when the process has no stdin
    at all (started with `<&-`: no input on stdin), and when PIPED and stdin is a terminal."""
    from mistral_cli.env import CLOSED_STDIN

    if env.stdin_closed:
        raise UsageError(f"{option}: {CLOSED_STDIN}",
                         hint="pipe the input in (`... | mcli ...` or `< FILE`), or name a file")
    if piped and env.stdin_isatty:
        raise UsageError(f"{option}: standard input is a terminal; pipe the data in")
    return env.stdin


def read_text(env: "Env", path: Path | str, option: str) -> str:
    """Read a text file named by OPTION ('-' is stdin)."""
    if str(path) == "-":
        return need_stdin(env, f"{option} -").read()
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"{option}: no such file: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{option}: cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None


def read_json(env: "Env", path: Path | str, option: str) -> Any:
    """Read and parse a JSON file named by OPTION ('-' is stdin)."""
    text = read_text(env, path, option)
    try:
        return json.loads(text)
    except ValueError as exc:
        raise UsageError(f"{option}: {path} is not valid JSON: {exc}") from None


def read_json_object(env: "Env", path: Path | str, option: str) -> dict:
    """Read a JSON object (not an array or scalar) named by OPTION."""
    value = read_json(env, path, option)
    if not isinstance(value, dict):
        raise UsageError(f"{option}: {path} must hold a JSON object")
    return value


def request_base(env: "Env", path: Path | str | None, specs: list[str] | None, known: Iterable[str],
                 what: str, refused: Iterable[str] = ()) -> dict:
    """The --body object (or {}) with the -F/--field fields on top: a top-level field outside
    KNOWN (the spec's request fields) is sent with one warning naming them all, a name within a
    typo of a known field or one of REFUSED refused (bodies/fields.py holds the rule)."""
    from mistral_cli.bodies.fields import typed_fields, unknown_warning, with_fields

    base = read_json_object(env, path, "--body") if path is not None else None
    body, unknown = with_fields(base, typed_fields(specs or []), known, what, refused)
    if unknown:
        env.warn(unknown_warning(unknown, what))
    return body


def existing_file(path: Path, option: str) -> Path:
    """Refuse a path that is not a readable file."""
    if not path.exists():
        raise UsageError(f"{option}: no such file: {path}")
    if not path.is_file():
        raise UsageError(f"{option}: not a file: {path}")
    try:
        with path.open("rb"):
            pass
    except OSError as exc:
        raise UsageError(f"{option}: cannot read {path}: {exc.strerror}") from None
    return path


MB = 1024 * 1024
UPLOAD_LIMIT = 512 * MB  # POST /v1/files: "a maximum of 512 MB" (the spec)
DOCUMENT_LIMIT = 50 * MB  # OCR and document QnA: "must not exceed 50 MB" (Mistral's docs)
DOCUMENT_SUFFIXES = (".pdf", ".docx", ".pptx")  # what OCR reads besides images (Mistral's docs)


def check_upload(path: Path, option: str, accepted: str, *, suffixes: tuple[str, ...] = (),
                 limit: int = UPLOAD_LIMIT) -> None:
    """Refuse (exit 2, nothing uploaded) a local file its endpoint would not take: more than
    LIMIT bytes, or with SUFFIXES a name ending in none of them; ACCEPTED says what it takes."""
    if suffixes and not path.name.lower().endswith(suffixes):
        raise UsageError(f"{option}: {path} is not a {' or '.join(suffixes)} file; nothing was uploaded",
                         hint=accepted)
    size = path.stat().st_size
    if size > limit:
        raise UsageError(f"{option}: {path} is {size / MB:.1f} MB, over the {limit // MB} MB its endpoint "
                         "accepts; nothing was uploaded", hint=accepted)


def is_pipe(path: Path) -> bool:
    """Whether PATH is a pipe (a FIFO, or `<(cmd)`'s /dev/fd/N): read once as a stream, like stdin."""
    import stat

    try:
        return stat.S_ISFIFO(path.stat().st_mode)
    except (OSError, ValueError):
        return False


STDIN_NAMES = ("-", "/dev/stdin", "/dev/fd/0", "/proc/self/fd/0")
# stdin read into a file: `mcli-stdin-PID-RANDOM/stdin` in the temporary folder; one that a
# killed process left behind is removed by the next such copy.
STDIN_PREFIX, STDIN_NAME = "mcli-stdin-", "stdin"
STDIN_STALE = STDIN_PREFIX + r"(?P<pid>\d+)-[a-z0-9_]+"


def is_stdin(value: str | Path) -> bool:
    """Whether VALUE names standard input (`-` or /dev/stdin)."""
    return str(value) in STDIN_NAMES


@contextmanager
def stdin_as_file(env: "Env", option: str) -> Iterator[Path]:
    """Standard input copied in chunks to a private temporary file named `stdin` (removed
    afterwards, and by the next copy if a SIGKILL stopped that): for an input read twice, or
    uploaded with a known length, which a pipe cannot give."""
    import os
    import re
    import shutil
    import tempfile

    from mistral_cli.safe_files import remove_stale

    stdin = need_stdin(env, f"{option} -", piped=True)
    remove_stale(Path(tempfile.gettempdir()), re.compile(STDIN_STALE), inside=STDIN_NAME)
    folder = Path(tempfile.mkdtemp(prefix=f"{STDIN_PREFIX}{os.getpid()}-"))
    path = folder / STDIN_NAME
    try:
        with path.open("wb") as out:
            buffer = getattr(stdin, "buffer", None)
            if buffer is not None:
                shutil.copyfileobj(buffer, out)
            else:
                for chunk in iter(lambda: stdin.read(1 << 16), ""):
                    out.write(chunk.encode("utf-8"))
        yield path
    finally:
        path.unlink(missing_ok=True)
        folder.rmdir()


def piped_stdin(env: "Env") -> str | None:
    """Text piped on stdin, or None when stdin is a terminal, closed or empty."""
    if env.stdin_isatty or env.stdin_closed:
        return None
    text = env.stdin.read()
    return text or None


def check_paging(page: int | None, page_size: int | None, all_pages: bool) -> None:
    """Refuse a --page or --page-size outside PAGE or PAGE_SIZE, and --all with --page."""
    check_bound(page, PAGE)
    check_bound(page_size, PAGE_SIZE)
    if all_pages and page is not None:
        raise UsageError("--all reads every page: it cannot be combined with --page")


def confirm(env: "Env", question: str, yes: bool) -> None:
    """Ask before a destructive action on a terminal; refuse off a terminal without --yes."""
    if yes:
        return
    if not (env.stdin_isatty and env.stderr_isatty):
        raise UsageError(f"{question.rstrip('?')}: not confirmed (not on a terminal, so mcli "
                         "cannot ask); add --yes to go ahead")
    env.stderr.write(f"{question} [y/N] ")
    env.stderr.flush()
    answer = env.stdin.readline().strip().lower()
    if answer not in ("y", "yes"):
        raise UsageError("cancelled")


def check_datetime(value: str | None, option: str) -> str | None:
    """VALUE as an RFC 3339 time: an ISO 8601 date or time, UTC when it names no offset."""
    from datetime import datetime, timezone

    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value)
    except ValueError:
        raise UsageError(f"{option}: expected an ISO 8601 time such as 2025-01-31T12:00:00Z, "
                         f"got {value!r}") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).isoformat()
