"""Texts in, grouped requests out: the shared engine of `embeddings`, `classifiers moderate`
and `classifiers classify`.

Inputs (TEXT arguments, else `--input-file FILE|-` lines, else piped stdin lines) are read
as a stream and cut into groups of `--per-request` texts, one group a request (a "group" is
never a Batch API job: that is `batch`); up to `--concurrency` requests are in flight at
once on the process's one HTTP client (httpx.Client is thread-safe). Each group's results
are written as soon as every group before it is written, so output keeps input order and
memory holds at most `--concurrency` groups whatever the input's length. A group that fails
for good (after the client's retries) stops the run: what came before is already written,
and the error says which `--skip N` resumes.
"""

from __future__ import annotations

import signal
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, Any, Optional

import typer

from mistral_cli.bodies.shape import need_object
from mistral_cli.errors import MCLIError, UnexpectedResponse, UsageError
from mistral_cli.inputs import check_number, need_stdin
from mistral_cli.render.output import OutputFormat
from mistral_cli.render.progress import progress_bar

if TYPE_CHECKING:  # pragma: no cover
    from mistral_cli.env import Env

DEFAULT_PER_REQUEST = 64
DEFAULT_CONCURRENCY = 4
MAX_CONCURRENCY = 64
INPUT = "Input"
HELD_SIGNALS = (signal.SIGINT, signal.SIGTERM)

InputFileOpt = Annotated[Optional[str], typer.Option(
    "--input-file", "-f", metavar="FILE|-", show_default=False, rich_help_panel=INPUT,
    help="Read inputs from FILE, one text per line ('-' = stdin; blank lines skipped).")]
NoStdinOpt = Annotated[bool, typer.Option(
    "--no-stdin", rich_help_panel=INPUT, help="Do not read inputs from piped stdin.")]
PerRequestOpt = Annotated[int, typer.Option(
    "--per-request", min=1, rich_help_panel=INPUT, help="Texts per request.")]
OldPerRequestOpt = Annotated[Optional[int], typer.Option(
    "--batch-size", min=1, hidden=True, help="The old name of --per-request.")]
ConcurrencyOpt = Annotated[int, typer.Option(
    "--concurrency", "-j", min=1, max=MAX_CONCURRENCY, rich_help_panel=INPUT,
    help="Requests in flight at once.")]
SkipOpt = Annotated[int, typer.Option(
    "--skip", min=0, rich_help_panel=INPUT, metavar="N",
    help="Skip the first N inputs (to resume a run that stopped).")]


@dataclass(frozen=True)
class TextGroup:
    """Consecutive inputs sent in one request: START is the first one's number (from 0)."""

    start: int
    texts: list[str]
    size: int  # bytes of input, for the progress bar


@dataclass(frozen=True)
class TextSource:
    """The texts, how many bytes they hold when that is known, and where they come from."""

    texts: Iterable[str]
    total: int | None
    source: str = "standard input"


# -- reading -------------------------------------------------------------------------------

def read_inputs(env: "Env", texts: list[str] | None, input_file: str | None, no_stdin: bool) -> TextSource:
    """The texts to send: TEXT arguments, else --input-file lines, else piped stdin lines."""
    if texts and input_file is not None:
        raise UsageError("give texts as arguments or with --input-file, not both")
    if texts:
        return TextSource(texts, sum(len(text.encode()) + 1 for text in texts), "the arguments")
    if input_file == "-":
        return TextSource(lines(need_stdin(env, "--input-file -")), None)
    if input_file is not None:
        return TextSource(file_lines(Path(input_file)), _size(Path(input_file)), input_file)
    if no_stdin or env.stdin_isatty or env.stdin_closed:
        raise UsageError("no input: give TEXT arguments, --input-file FILE, or pipe lines on stdin")
    return TextSource(lines(env.stdin), None)


def lines(stream: IO[str]) -> Iterator[str]:
    """The non-blank lines of STREAM, read lazily, without their line ends."""
    for line in stream:
        text = line.rstrip("\r\n")
        if text.strip():
            yield text


def file_lines(path: Path) -> Iterator[str]:
    """The non-blank lines of the file at PATH (opened first, so a bad path fails early)."""
    try:
        handle = path.open(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"--input-file: no such file: {path}") from None
    except OSError as exc:
        raise UsageError(f"--input-file: cannot read {path}: {exc.strerror}") from None
    return _closing_lines(handle, path)


def _closing_lines(handle: IO[str], path: Path) -> Iterator[str]:
    """HANDLE's non-blank lines, closing it at the end; bad UTF-8 is a usage error."""
    with handle:
        try:
            yield from lines(handle)
        except UnicodeDecodeError as exc:
            raise UsageError(f"--input-file: {path} is not UTF-8 text ({exc.reason})") from None


def _size(path: Path) -> int | None:
    """PATH's size in bytes (for the progress bar), or None."""
    try:
        return path.stat().st_size
    except OSError:
        return None


def numbered(texts: Iterable[str], skip: int = 0) -> Iterator[tuple[int, str]]:
    """(input number from 0, text) of TEXTS after the first SKIP."""
    for number, text in enumerate(texts):
        if number >= skip:
            yield number, text


def groups(texts: Iterable[str], size: int, skip: int = 0) -> Iterator[TextGroup]:
    """TEXTS after the first SKIP, in groups of SIZE."""
    current: list[str] = []
    start = skip
    nbytes = 0
    for _number, text in numbered(texts, skip):
        current.append(text)
        nbytes += len(text.encode()) + 1
        if len(current) == size:
            yield TextGroup(start, current, nbytes)
            start, current, nbytes = start + size, [], 0
    if current:
        yield TextGroup(start, current, nbytes)


def expect_items(body: Any, key: str, count: int, request: str | None = None) -> dict:
    """BODY, refused (exit 1) unless its KEY list holds one object per input sent; with
    REQUEST (`POST /v1/embeddings`) the error is an UnexpectedResponse naming it."""
    items = body.get(key) if isinstance(body, dict) else None
    if not isinstance(items, list) or len(items) != count:
        got = len(items) if isinstance(items, list) else "no"
        what = f"the server answered {got} {key} item(s) for {count} input(s)"
        raise UnexpectedResponse(request, key, what) if request else MCLIError(what)
    if request:
        for position, item in enumerate(items):
            need_object(item, request, f"{key}[{position}]")
    return body


def check_grouping(per_request: int, old_name: int | None, concurrency: int, skip: int) -> int:
    """The texts per request (OLD_NAME is `--batch-size`, which still works), after the grouping
    options' bounds are checked (Typer checks them too; this names them for direct calls)."""
    if old_name is not None:
        per_request = old_name
    check_number(per_request, "--per-request", 1, integer=True)
    check_number(concurrency, "--concurrency", 1, MAX_CONCURRENCY, integer=True)
    check_number(skip, "--skip", 0, integer=True)
    return per_request


# -- running -------------------------------------------------------------------------------

def run_groups(env: "Env", work: Iterator[TextGroup], send: Callable[[list[str]], dict],
                write: Callable[[TextGroup, dict], None], *, concurrency: int, total: int | None,
                label: str, model: str) -> int:
    """SEND every group (up to CONCURRENCY at once), WRITE each result in input order;
    return the number of inputs written. A group that fails stops the run after the groups
    before it are written; answers already paid for of the groups after it are kept
    (store/kept_answers.py) for the resume, and the error says where to resume."""
    from mistral_cli.store.kept_answers import KeptAnswers

    env.client  # built here, once, before the worker threads share it
    kept = KeptAnswers(env, label, model)
    send = kept.reusing(send)
    pending: deque[tuple[TextGroup, Future]] = deque()
    written = done_bytes = 0
    resume: int | None = None  # the first input not yet written
    pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="mcli-group")
    finished = False
    with progress_bar(env, label, total) as on_progress:
        try:
            _fill(pool, pending, work, send, concurrency)
            while pending:
                group, future = pending.popleft()
                resume = group.start
                body = _result(future, group)
                with signals_held():  # a group's lines are written whole, or not at all
                    write(group, body)
                    resume = group.start + len(group.texts)
                    written += len(group.texts)
                kept.forget(group.texts)
                done_bytes += group.size
                on_progress(done_bytes, total)
                _fill(pool, pending, work, send, concurrency)
            finished = True
        except MCLIError as exc:
            kept.keep_answered(pending, exc)
            raise
        except KeyboardInterrupt:
            if resume is not None:
                env.info(f"interrupted: every input before input {resume + 1} was written; "
                         f"resume with --skip {resume}")
            raise
        finally:
            # after a failure or Ctrl-C, do not wait here for requests still in flight
            pool.shutdown(wait=finished, cancel_futures=True)
    return written


@contextmanager
def signals_held() -> Iterator[None]:
    """Hold SIGINT and SIGTERM until the block ends, then act on one that came: a group's
    lines are then either all in the output or none, and the `--skip N` hint is exact."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []
    previous = {signum: signal.signal(signum, lambda number, _frame: held.append(number))
                for signum in HELD_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if held:
        _deliver(held[0], previous[held[0]])


def _deliver(signum: int, handler: Any) -> None:
    """Act on the held signal SIGNUM as HANDLER, the handler it had, would have."""
    if callable(handler):
        handler(signum, None)
    elif handler == signal.SIG_DFL:
        signal.raise_signal(signum)


def _fill(pool: ThreadPoolExecutor, pending: deque, work: Iterator[TextGroup],
          send: Callable[[list[str]], dict], concurrency: int) -> None:
    """Submit groups until CONCURRENCY are pending or the input ends."""
    while len(pending) < concurrency:
        group = next(work, None)
        if group is None:
            return
        pending.append((group, pool.submit(send, group.texts)))


def _result(future: Future, group: TextGroup) -> dict:
    """FUTURE's body; a failure gets the line saying where to resume."""
    try:
        return future.result()
    except MCLIError as exc:
        exc.details.append(f"stopped at input {group.start + 1}: every input before it was written; "
                           f"resume with --skip {group.start}")
        raise


def require_some(written: int, skip: int) -> None:
    """Refuse a run that had no input at all (an empty file or pipe); after --skip, nothing
    left is fine (a finished run resumed)."""
    if written == 0 and skip == 0:
        raise UsageError("no input: every line was blank (give TEXT arguments, --input-file FILE, "
                         "or pipe lines on stdin)")


# -- output ----------------------------------------------------------------------------------

def line_format(env: "Env", output: OutputFormat) -> OutputFormat:
    """-o table off a terminal means one JSON line per input."""
    if output is OutputFormat.table and not env.stdout_isatty:
        return OutputFormat.jsonl
    return output
