"""Following a batch job until it ends: a progress bar on a terminal, a line or a JSON object
per change elsewhere, and the exit code of its final state.

CLOCK (sleep and now) is the one seam tests replace, so a watch runs on a clock they control.
Ctrl-C stops watching, not the job: it says how to resume and exits 130.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mistral_cli.api import batch as api
from mistral_cli.api.poll import job_problem, poll
from mistral_cli.errors import JobFailedError, MCLIError
from mistral_cli.render.output import OutputFormat, write_json, write_jsonl, write_lines_raw
from mistral_cli.render.progress import count_bar

if TYPE_CHECKING:  # pragma: no cover
    from mistral_cli.env import Env
    from mistral_cli.models.batch import BatchJob

MAX_INTERVAL = 60.0


@dataclass
class Clock:
    """How a watch waits and reads the time (tests swap both)."""

    sleep: Callable[[float], None] = time.sleep
    now: Callable[[], float] = time.monotonic


CLOCK = Clock()


def resume_hint(job_id: str) -> str:
    """The line that says how to follow JOB_ID again."""
    return f"stopped watching; the job keeps running. Resume with: mcli batch watch {job_id}"


def watch_job(env: "Env", job_id: str, output: OutputFormat, interval: float,
              on_end: Callable[[Any], None] | None = None) -> "BatchJob":
    """Poll JOB_ID until it ends, showing each change; hand the final body to ON_END; return
    the final job, or raise JobFailedError when it ended FAILED, TIMEOUT_EXCEEDED or CANCELLED."""
    from mistral_cli.models.batch import BatchJob

    def fetch() -> tuple[dict, BatchJob]:
        body = api.get_job(env.client, job_id)
        return body, BatchJob.of(body)

    view = make_view(env, output, job_id)
    body: Any = None
    try:
        with view:
            for body, job in poll(fetch, done=lambda state: state[1].is_final, interval=interval,
                                  max_interval=max(interval, MAX_INTERVAL), on_error=view.error,
                                  sleep=CLOCK.sleep, check=lambda state: job_problem(state[0])):
                view.show(body, job)
    except KeyboardInterrupt:
        env.info(resume_hint(job_id))
        raise
    view.finish(body)
    if on_end is not None:
        on_end(body)
    return final(env, BatchJob.of(body))


def final(env: "Env", job: "BatchJob") -> "BatchJob":
    """JOB when it succeeded (noting failed requests), else a JobFailedError (exit 5)."""
    if job.failed:
        details = [f"{error.message or 'no message'}" + (f" (x{error.count})" if error.count else "")
                   for error in job.errors[:20]]
        raise JobFailedError(f"batch job {job.id} ended {job.status_text}: {job.succeeded_requests} "
                             f"of {job.total_requests} request(s) succeeded", details=details)
    if job.failed_requests:
        env.info(f"{job.failed_requests} of {job.total_requests} request(s) failed; their errors: "
                 f"mcli batch results {job.id}")
    return job


def summary(job: "BatchJob") -> str:
    """One line for a state: `RUNNING 4/10 (3 succeeded, 1 failed)`."""
    return (f"{job.status_text} {job.done}/{job.total_requests} "
            f"({job.succeeded_requests} succeeded, {job.failed_requests} failed)")


# -- views -------------------------------------------------------------------------------


@dataclass
class View:
    """What a watch shows: the base one prints a line per change on stdout."""

    env: "Env"
    last: Any = None

    def __enter__(self) -> "View":
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def key(self, body: Any, job: "BatchJob") -> Any:
        """What must differ from the last state shown for a state to be shown."""
        return job.progress()

    def show(self, body: Any, job: "BatchJob") -> None:
        """Show the state if it changed."""
        key = self.key(body, job)
        if key != self.last:
            self.last = key
            self.changed(body, job)

    def changed(self, body: Any, job: "BatchJob") -> None:
        """Show a new state."""
        write_lines_raw(self.env, [summary(job)])

    def error(self, exc: Exception, delay: float) -> None:
        """Report a passing failure (the watch goes on)."""
        message = exc.message if isinstance(exc, MCLIError) else str(exc)
        self.env.info(f"warning: {message}; still watching, next try in {delay:g} s")

    def finish(self, body: Any) -> None:
        """The job ended with BODY."""


class JsonlView(View):
    """-o jsonl: the job's body, one line per change."""

    def key(self, body: Any, job: "BatchJob") -> Any:
        return body

    def changed(self, body: Any, job: "BatchJob") -> None:
        write_jsonl(self.env, [body])


class JsonView(View):
    """-o json: the final body only."""

    def changed(self, body: Any, job: "BatchJob") -> None:
        return None

    def finish(self, body: Any) -> None:
        write_json(self.env, body)


@dataclass
class BarView(View):
    """On a terminal: a bar of succeeded+failed out of the total, with an ETA, on stderr."""

    job_id: str = ""
    bar: Any = None
    status: str | None = None
    eta: "Eta" = field(default_factory=lambda: Eta())

    def __enter__(self) -> "BarView":
        self._context = count_bar(self.env, f"batch {self.job_id[:8]}")
        self.bar = self._context.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._context.__exit__(*exc)

    def changed(self, body: Any, job: "BatchJob") -> None:
        if job.status_text != self.status:
            self.status = job.status_text
            self.bar.note(f"batch job {self.job_id}: {job.status_text}")
        detail = f"{job.status_text}  {job.succeeded_requests} ok, {job.failed_requests} failed"
        remaining = self.eta.seconds(job.done, job.total_requests) if job.status_text == "RUNNING" else None
        if remaining is not None:
            detail += f"  ETA {clock_text(remaining)}"
        self.bar.update(job.done, job.total_requests, detail)

    def error(self, exc: Exception, delay: float) -> None:
        message = exc.message if isinstance(exc, MCLIError) else str(exc)
        self.bar.note(f"warning: {message}; still watching, next try in {delay:g} s")


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


def clock_text(seconds: float) -> str:
    """SECONDS as h:mm:ss or m:ss."""
    whole = int(round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def make_view(env: "Env", output: OutputFormat, job_id: str = "") -> View:
    """The view for OUTPUT: jsonl and json as asked; else a bar on a terminal, lines elsewhere."""
    if output is OutputFormat.jsonl:
        return JsonlView(env)
    if output is OutputFormat.json:
        return JsonView(env)
    if env.stdout_isatty and env.stderr_styled:
        return BarView(env, job_id=job_id)
    return View(env)
