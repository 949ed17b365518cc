"""Texts in, grouped requests out: the shared engine of `embeddings`, `classifiers moderate`
and `classifiers classify`.

Inputs (TEXT arguments, else `--input-file FILE|-` lines, else piped stdin lines) are read
as a stream and cut into groups of `--per-request` texts, one group a request (a "group" is
never a Batch API job: that is `batch`); up to `--concurrency` requests are in flight at
once on the process's one HTTP client (httpx.Client is thread-safe). Each group's results
are written as soon as every group before it is written, so output keeps input order and
memory holds at most `--concurrency` groups whatever the input's length. Whatever stops a
run midway (a group that fails for good after the client's retries, input that cannot be
read, an output that cannot be written, Ctrl-C, an internal error): what came before is
written, the answers that came but are not written are kept (store/kept_answers.py) so the
resume does not pay for them again, and stderr says which `--skip N` resumes.
"""

from __future__ import annotations

import signal
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_for
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, Any, Optional

import typer

from mistral_cli.bodies.shape import need_object
from mistral_cli.commands.shared.common_options import number_option
from mistral_cli.errors import BudgetError, MCLIError, OutputClosed, UnexpectedResponse, UsageError
from mistral_cli.inputs import Bound, check_bound, need_stdin
from mistral_cli.render.output import OutputFormat
from mistral_cli.render.progress import progress_bar

if TYPE_CHECKING:  # pragma: no cover
    from mistral_cli.env import Env
    from mistral_cli.store.budget import Budget
    from mistral_cli.store.kept_answers import KeptAnswers

DEFAULT_PER_REQUEST = 64
DEFAULT_CONCURRENCY = 4
MAX_CONCURRENCY = 64
INPUT = "Input"
HELD_SIGNALS = (signal.SIGINT, signal.SIGTERM)
INTERRUPT_WAIT = 10.0  # after Ctrl-C, the longest wait for the answers of requests in flight

InputFileOpt = Annotated[Optional[str], typer.Option(
    "--input-file", "-f", metavar="FILE|-", show_default=False, rich_help_panel=INPUT,
    help="Read inputs from FILE, one text per line ('-' = stdin; blank lines skipped).")]
NoStdinOpt = Annotated[bool, typer.Option(
    "--no-stdin", rich_help_panel=INPUT, help="Do not read inputs from piped stdin.")]
PER_REQUEST = Bound("--per-request", 1, None, integer=True)
CONCURRENCY = Bound("--concurrency", 1, MAX_CONCURRENCY, integer=True)
SKIP = Bound("--skip", 0, None, integer=True)
PerRequestOpt = Annotated[int, number_option(PER_REQUEST, rich_help_panel=INPUT, help="Texts per request.")]
OldPerRequestOpt = Annotated[Optional[int], number_option(
    Bound("--batch-size", 1, None, integer=True), hidden=True, help="The old name of --per-request.")]
ConcurrencyOpt = Annotated[int, number_option(CONCURRENCY, "-j", rich_help_panel=INPUT,
                                              help="Requests in flight at once.")]
SkipOpt = Annotated[int, number_option(SKIP, rich_help_panel=INPUT,
                                       help="Skip the first N inputs, to resume a run that stopped.")]


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
    again: Callable[[], Iterable[str]] | None = None  # the texts read once more (None: stdin, read once)


# -- reading -------------------------------------------------------------------------------

def read_inputs(env: "Env", texts: list[str] | None, input_file: str | None, no_stdin: bool) -> TextSource:
    """The texts to send: TEXT arguments, else --input-file lines, else piped stdin lines."""
    if texts and input_file is not None:
        raise UsageError("give texts as arguments or with --input-file, not both")
    if texts:
        return TextSource(texts, sum(len(text.encode()) + 1 for text in texts), "the arguments", lambda: texts)
    if input_file == "-":
        return TextSource(lines(need_stdin(env, "--input-file -")), None)
    if input_file is not None:
        path = Path(input_file)
        return TextSource(file_lines(path), _size(path), input_file, lambda: file_lines(path))
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
    for value, bound in ((per_request, PER_REQUEST), (concurrency, CONCURRENCY), (skip, SKIP)):
        check_bound(value, bound)
    return per_request


# -- running -------------------------------------------------------------------------------

def run_groups(env: "Env", work: Iterator[TextGroup], send: Callable[[list[str]], dict],
                write: Callable[[TextGroup, dict], None], *, concurrency: int, total: int | None,
                label: str, model: str, guard: "Budget | None" = None) -> int:
    """SEND every group (up to CONCURRENCY at once), WRITE each result in input order;
    return the number of inputs written. Whatever stops the run midway (a group that fails,
    bad input, the output failing, Ctrl-C, an internal error), the groups answered but not
    written are kept (store/kept_answers.py) and stderr says where to resume; a group whose
    answer is kept from an earlier run of the same requests is not sent again. With GUARD
    (a budget in force), each group is checked before it is sent: past the budget the run
    stops there, like at the end of the input, and the error gives the command that resumes."""
    from mistral_cli.store.kept_answers import KeptAnswers

    env.client  # built here, once, before the worker threads share it
    kept = KeptAnswers(env, label, {"model": model})
    run = GroupRun(env, kept, work, send, write, concurrency)
    run.guard = guard
    try:
        with progress_bar(env, label, total) as bar:
            if env.stdout_isatty:  # results and bar share the terminal: results go above the bar
                run.above = bar.above
            return run.run(lambda done: bar(done, total))
    finally:
        kept.report(env)


def request_of(group: TextGroup) -> dict:
    """What identifies GROUP's request among a run's: its texts and where they start."""
    return {"start": group.start, "input": group.texts}


class GroupRun:
    """One run of run_groups: the groups in flight, in input order, and where to resume."""

    def __init__(self, env: "Env", kept: "KeptAnswers", work: Iterator[TextGroup],
                 send: Callable[[list[str]], dict], write: Callable[[TextGroup, dict], None], concurrency: int):
        self.env, self.kept, self.work, self.send, self.write = env, kept, work, send, write
        self.concurrency = concurrency
        self.pending: deque[tuple[TextGroup, Future]] = deque()  # sent (or kept), not yet written
        self.first: int | None = None  # the run's first input (its --skip)
        self.resume: int | None = None  # the first input not yet written
        self.input_error: BaseException | None = None
        self.pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="mcli-group")
        self.guard: "Budget | None" = None
        self.above: Callable[[], Any] = nullcontext  # what each write is printed within

    def run(self, on_progress: Callable[[int], None]) -> int:
        """Send and write every group; the number of inputs written."""
        written = done_bytes = 0
        finished = False
        try:
            self._fill()
            while self.pending:
                group, future = self.pending[0]
                body = future.result()
                with signals_held(), self.above():  # a group's lines are written whole, or not at all
                    self.write(group, body)
                    self.pending.popleft()
                    self.resume = group.start + len(group.texts)
                written += len(group.texts)
                self.kept.forget(request_of(group))
                done_bytes += group.size
                on_progress(done_bytes)
                self._fill()
            if self.input_error is not None:
                raise self.input_error  # every group read before the bad input is written
            finished = True
        except BaseException as exc:
            self._stopped(exc)
            raise
        finally:
            # after a failure or Ctrl-C, do not wait here for requests still in flight
            self.pool.shutdown(wait=finished, cancel_futures=True)
        return written

    def _fill(self) -> None:
        """Send groups until CONCURRENCY are pending or the input ends (or fails: the groups
        read before it are still written)."""
        while len(self.pending) < self.concurrency and self.input_error is None:
            try:
                group = next(self.work, None)
            except Exception as exc:  # noqa: BLE001 - any failure of the input stops reading it
                self.input_error = input_failure(exc)
                return
            if group is None:
                return
            if self.first is None:
                self.first = self.resume = group.start
            body = self.kept.take(request_of(group))
            reserved = self._reserve(group) if body is None else None
            if self.input_error is not None:
                return
            with signals_held():  # a group sent is always in PENDING, so its answer can be kept
                self.pending.append((group, _answered(body) if body is not None
                                     else self.pool.submit(self._send, group.texts, reserved)))

    def _reserve(self, group: TextGroup) -> float | None:
        """Check GROUP's estimate against the budget (None: no budget); past it, the run stops
        here once the groups before it are written."""
        if self.guard is None:
            return None
        from mistral_cli.store.budget import tokens_of

        try:
            return self.guard.before_request(tokens_of(group.texts))
        except BudgetError as exc:
            self.input_error = exc
            return None

    def _send(self, texts: list[str], reserved: float | None) -> dict:
        """SEND TEXTS (a worker thread); the budget's reservation is released once it is over."""
        try:
            return self.send(texts)
        finally:
            if reserved is not None and self.guard is not None:
                self.guard.after_request(reserved)

    def _stopped(self, exc: BaseException) -> None:
        """Keep the answered groups not written and say where to resume, after EXC stopped the
        run. After Ctrl-C, the requests in flight get a short wait (a second Ctrl-C ends it);
        after `| head`, none; otherwise their answers are waited for."""
        quick = isinstance(exc, (KeyboardInterrupt, OutputClosed))
        if isinstance(exc, KeyboardInterrupt):
            self._wait_in_flight()
        try:
            count = self.kept.keep_answered(self.pending, request_of, wait=not quick)
        except KeyboardInterrupt:  # Ctrl-C while waiting after an error: keep what came, say so
            quick = True
            count = self.kept.keep_answered(self.pending, request_of, wait=False)
        late = sum(not future.done() for _group, future in self.pending) if quick else 0
        error = isinstance(exc, MCLIError)
        where = self._where(count, late, "it" if error else f"input {(self.resume or 0) + 1}")
        if where is None:
            return
        if error:
            exc.details.append(f"stopped at input {(self.resume or 0) + 1}: {where}")
        if isinstance(exc, BudgetError) and self.resume is not None:
            from mistral_cli.batchrun.resume import this_command_with

            command = this_command_with(self.env, "--skip", str(self.resume))
            exc.details.append(f"resume with (given the same input): {command}")
        else:
            self.env.info(f"{'interrupted' if isinstance(exc, KeyboardInterrupt) else 'stopped'}: {where}")

    def _wait_in_flight(self) -> None:
        """After Ctrl-C: wait a little for the requests in flight, to keep their answers."""
        flying = [future for _group, future in self.pending if not future.done()]
        if not flying:
            return
        self.env.info(f"waiting up to {INTERRUPT_WAIT:.0f} s for {len(flying)} request(s) in flight, "
                      "to keep their answers (Ctrl-C again: stop now)")
        try:
            wait_for(flying, timeout=INTERRUPT_WAIT)
        except KeyboardInterrupt:
            pass  # the user does not want to wait: the answers not come are given up

    def _where(self, count: int, late: int, first_unwritten: str) -> str | None:
        """Where to resume (FIRST_UNWRITTEN names that input), and what is kept for it; None
        when nothing was done."""
        if self.resume is None or (self.resume == self.first and not count):
            return None
        kept = f"; {count} answered group(s) are kept: the resume will not send them again" if count else ""
        if late:
            kept += f"; {late} request(s) in flight were given up: the resume sends them again"
        if self.resume == self.first:
            return f"nothing was written{kept} (run the same command again)"
        return f"every input before {first_unwritten} was written; resume with --skip {self.resume}{kept}"


def _answered(body: dict) -> Future:
    """A future already holding BODY (a kept answer)."""
    future: Future = Future()
    future.set_result(body)
    return future


def input_failure(exc: Exception) -> BaseException:
    """What reading the input raised, as the error to report once the groups before it are written."""
    if isinstance(exc, MCLIError):
        return exc
    if isinstance(exc, UnicodeDecodeError):
        return UsageError(f"the input is not UTF-8 text ({exc.reason})",
                          hint="convert it first (e.g. `iconv -f latin1 -t utf-8`), then resume")
    if isinstance(exc, OSError):
        return MCLIError(f"cannot read the input: {exc.strerror or exc}")
    return exc


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
