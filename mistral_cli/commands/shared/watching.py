"""The one watch engine: follow a job until it ends, whatever its kind.

A kind of job is an ADAPTER (fine-tuning and batch today; see the `Adapter` protocol; what
every kind shares, reading the job and classing its status, is `JobAdapter`'s): it
fetches the job, classifies its status (running / succeeded / failed), gives its progress
(done, total) when it has one, the lines that tell what changed, the terminal view and the
final text value. The engine owns the rest, the same for every kind:

- one `--interval` rule (inputs.py): at least MIN_INTERVAL, at most MAX_INTERVAL seconds, checked where
  the option is parsed (before anything is sent), growing up to POLL_CAP while nothing changes;
- one output contract: on a terminal a live view; off a terminal one line per change on
  stdout; `-o jsonl` the whole job body each time it changes; `-o json` the final body;
  `-o text` the final value only (the fine-tuned model, the batch job id);
- one warning prefix for a passing failure, one Ctrl-C message with the resume command
  (exit 130), exit 0 on success and 5 on a failed or cancelled end.

CLOCK (sleep and now) is the one seam tests replace.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from mistral_cli.api.poll import DEFAULT_INTERVAL, POLL_CAP, poll
from mistral_cli.errors import JobFailedError, MCLIError
from mistral_cli.render.output import OutputFormat, dumps, write_json, write_lines, write_lines_raw

if TYPE_CHECKING:  # pragma: no cover
    from mistral_cli.env import Env

RUNNING, SUCCEEDED, FAILED = "running", "succeeded", "failed"

@dataclass
class Clock:
    """How a watch waits and reads the time (tests swap both)."""

    sleep: Callable[[float], None] = time.sleep
    now: Callable[[], float] = time.time


CLOCK = Clock()


class TerminalView(Protocol):
    """A live view on a terminal, drawn by an adapter."""

    def show(self, job: Any, body: dict) -> None:
        """Draw the latest state."""

    def note(self, text: str) -> None:
        """Show a passing failure under the view."""

    def close(self) -> None:
        """Stop drawing; leave the last state on the screen, the cursor on a fresh line."""


class Adapter(Protocol):
    """What the engine needs to know about one kind of job."""

    kind: str  # the command group: `mcli {kind} watch JOB_ID` resumes
    view_on_stderr: bool  # its terminal view draws on stderr (a quiet watch may use it)

    def fetch(self, env: "Env", job_id: str) -> Any:
        """The job's body as the server has it now."""

    def parse(self, body: dict) -> Any:
        """The typed job of a body (already checked to be an object with an id and status)."""

    def state(self, job: Any) -> str:
        """RUNNING, SUCCEEDED or FAILED."""

    def progress(self, job: Any) -> tuple[int, int] | None:
        """(done, total) for a bar with an ETA, or None when the kind has no count."""

    def change_lines(self, job: Any, body: dict) -> list[str]:
        """The lines that tell what changed since the last call (off a terminal)."""

    def terminal_view(self, env: "Env", job_id: str) -> TerminalView:
        """The live view for a terminal."""

    def final_text(self, job: Any) -> str:
        """The one value `-o text` prints at the end."""

    def ended(self, env: "Env", job: Any) -> None:
        """Say on stderr how a job that succeeded ended."""

    def failure(self, job: Any) -> JobFailedError:
        """The error (exit 5) for a job that ended badly."""


class JobAdapter:
    """What every kind of job's adapter shares: the job is read by its tag's GET operation
    (GET_OPERATION, in api/operations.py) and classed by its typed model's `is_final` and `failed`."""

    kind: str
    get_operation: str  # the operation that reads one job: `batch.get`, `fine_tuning.get`

    def fetch(self, env: "Env", job_id: str) -> Any:
        """The job's body as the server has it now."""
        from mistral_cli.api.operations import call

        return call(env.client, self.get_operation, job_id)

    def state(self, job: Any) -> str:
        """RUNNING until the job is final; then FAILED or SUCCEEDED."""
        if not job.is_final:
            return RUNNING
        return FAILED if job.failed else SUCCEEDED


def resume_hint(kind: str, job_id: str) -> str:
    """The Ctrl-C message: watching stopped, the job did not; how to follow it again."""
    return f"stopped watching; job {job_id} goes on. Resume with: mcli {kind} watch {job_id}"


def cancel_note(adapter: Adapter, job_id: str, body: Any) -> str:
    """What a cancel did, from the body it answered: requested, or nothing as the job had ended."""
    status = body.get("status") if isinstance(body, dict) else None
    try:
        ended = isinstance(status, str) and adapter.state(adapter.parse(body)) != RUNNING
    except MCLIError:  # a body that is not a job: say what was asked, not what happened
        ended = False
    if ended:
        return f"{adapter.kind} job {job_id} had already ended ({status}): nothing to cancel"
    return f"cancel requested for {job_id}" + (f" ({status})" if isinstance(status, str) else "")


def warning_text(exc: Exception, delay: float) -> str:
    """The one wording of a passing failure (the watch goes on)."""
    message = exc.message if isinstance(exc, MCLIError) else str(exc)
    return f"mcli: warning: {message}; still watching, next try in {delay:g} s"


# -- views -------------------------------------------------------------------------------


class StreamView:
    """Off a terminal: lines per change (table), bodies per change (jsonl), or nothing (json, text)."""

    def __init__(self, env: "Env", adapter: Adapter, output: OutputFormat):
        self.env, self.adapter, self.output = env, adapter, output
        self.last: Any = None

    def show(self, job: Any, body: dict) -> None:
        """Print what changed, in the shape of the output format."""
        if self.output is OutputFormat.jsonl:
            if body != self.last:
                self.last = body
                write_lines_raw(self.env, [dumps(body)])
        elif self.output is OutputFormat.table:
            write_lines_raw(self.env, self.adapter.change_lines(job, body))

    def error(self, exc: Exception, delay: float) -> None:
        """A passing failure on stderr."""
        self.env.info(warning_text(exc, delay))

    def close(self) -> None:
        """Nothing to tidy."""


class LiveView:
    """On a terminal: the adapter's view, with passing failures noted under it."""

    def __init__(self, env: "Env", adapter: Adapter, job_id: str):
        self.view = adapter.terminal_view(env, job_id)
        self.closed = False

    def show(self, job: Any, body: dict) -> None:
        """Redraw with the latest state."""
        self.view.show(job, body)

    def error(self, exc: Exception, delay: float) -> None:
        """A passing failure under the view."""
        self.view.note(warning_text(exc, delay))

    def close(self) -> None:
        """Stop the view once (a second call does nothing)."""
        if not self.closed:
            self.closed = True
            self.view.close()


class QuietView:
    """A quiet watch without a styled stderr: what changed, on stderr; stdout is left alone."""

    def __init__(self, env: "Env", adapter: Adapter):
        self.env, self.adapter = env, adapter

    def show(self, job: Any, body: dict) -> None:
        """What changed, on stderr."""
        for line in self.adapter.change_lines(job, body):
            self.env.info(line)

    def error(self, exc: Exception, delay: float) -> None:
        """A passing failure on stderr."""
        self.env.info(warning_text(exc, delay))

    def close(self) -> None:
        """Nothing to tidy."""


def make_view(env: "Env", adapter: Adapter, output: OutputFormat, job_id: str,
              quiet: bool = False) -> StreamView | LiveView | QuietView:
    """A live view for a table on a terminal, else the stream view of OUTPUT; QUIET (stdout
    is for what comes after the watch): the adapter's view if it draws on a styled stderr,
    else the changes on stderr."""
    if quiet:
        if env.stderr_styled and adapter.view_on_stderr:
            return LiveView(env, adapter, job_id)
        return QuietView(env, adapter)
    if output is OutputFormat.table and env.stdout_isatty:
        return LiveView(env, adapter, job_id)
    return StreamView(env, adapter, output)


@dataclass
class Eta:
    """Time left, from the pace since the first state it was asked about (on CLOCK)."""

    start: tuple[float, int] | None = None

    def seconds(self, done: int, total: int) -> float | None:
        """Seconds until TOTAL at the pace seen so far (None before any pace is known)."""
        now = CLOCK.now()
        if self.start is None:
            self.start = (now, done)
            return None
        began, done_then = self.start
        if done <= done_then or total <= done:
            return None
        return (now - began) / (done - done_then) * (total - done)


# -- the loop ----------------------------------------------------------------------------


def watch(env: "Env", adapter: Adapter, job_id: str, *, interval: float = DEFAULT_INTERVAL,
          output: OutputFormat = OutputFormat.table, on_end: Callable[[dict], None] | None = None,
          quiet: bool = False, back_off: bool = False) -> Any:
    """Follow JOB_ID until it ends, showing each change; hand the final body to ON_END; return
    the final job, or raise JobFailedError (exit 5) when it ended badly. QUIET: nothing on
    stdout, the end included (the caller prints what the job made). BACK_OFF: see api/poll.py."""
    view = make_view(env, adapter, output, job_id, quiet)
    body: dict = {}
    try:
        for body in poll(lambda: adapter.fetch(env, job_id),
                         done=lambda state: adapter.state(adapter.parse(state)) != RUNNING,
                         interval=interval, max_interval=max(interval, POLL_CAP),
                         on_error=view.error, sleep=lambda seconds: CLOCK.sleep(seconds),
                         back_off=back_off):
            view.show(adapter.parse(body), body)
    except KeyboardInterrupt:
        view.close()
        env.info(resume_hint(adapter.kind, job_id))
        raise
    finally:
        view.close()  # also when the job cannot be read (404, 401): the terminal is left tidy
    if on_end is not None:
        on_end(body)
    return finish(env, adapter, body, output, quiet)


def finish(env: "Env", adapter: Adapter, body: dict, output: OutputFormat, quiet: bool = False) -> Any:
    """Print the end (-o json: the final body; -o text: the final value; QUIET: nothing) and
    return the job, or raise its failure."""
    job = adapter.parse(body)
    if quiet:
        pass
    elif output is OutputFormat.json:
        write_json(env, body)
    elif output is OutputFormat.text:
        write_lines(env, [adapter.final_text(job)])
    if adapter.state(job) == FAILED:
        raise adapter.failure(job)
    if not quiet:  # a quiet watch's caller reports the end itself
        adapter.ended(env, job)
    return job


def replay(env: "Env", adapter: Adapter, body: dict, output: OutputFormat) -> Any:
    """Show a job that already ended as its watch did (no request); return it or raise."""
    view = make_view(env, adapter, output, adapter.parse(body).id)
    try:
        view.show(adapter.parse(body), body)
    finally:
        view.close()
    return finish(env, adapter, body, output)
