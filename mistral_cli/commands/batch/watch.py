"""`mcli batch watch`: the batch adapter of the watch engine (commands/shared/watching.py).

Off a terminal one line per change (`RUNNING 4/10 (3 succeeded, 1 failed)`); on a terminal
a bar of answered requests out of the total, with an ETA, on stderr; `-o text` the job id at
the end (for `mcli batch results`). The engine does the polling, the other output formats,
the messages and the exit codes (0 on SUCCESS, 5 on FAILED, TIMEOUT_EXCEEDED or CANCELLED,
130 on Ctrl-C).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mistral_cli.commands.shared import watching
from mistral_cli.errors import JobFailedError
from mistral_cli.render.output import OutputFormat
from mistral_cli.render.progress import count_bar
from mistral_cli.times import clock_text

if TYPE_CHECKING:  # pragma: no cover
    from mistral_cli.bodies.batch import BatchJob
    from mistral_cli.env import Env


def summary(job: "BatchJob") -> str:
    """One line for a state: `RUNNING 4/10 (3 succeeded, 1 failed)`."""
    return (f"{job.status_text} {job.done}/{job.total_requests} "
            f"({job.succeeded_requests} succeeded, {job.failed_requests} failed)")


class BarView:
    """On a terminal: a bar of succeeded+failed out of the total, with an ETA, on stderr."""

    def __init__(self, env: "Env", job_id: str):
        self.job_id = job_id
        self.status: str | None = None
        self.eta = watching.Eta()
        self._context = count_bar(env, f"batch {job_id[:8]}")
        self.bar = self._context.__enter__()

    def show(self, job: "BatchJob", body: dict) -> None:
        """Move the bar; a new status is noted above it."""
        if job.status_text != self.status:
            self.status = job.status_text
            self.bar.note(f"batch job {self.job_id}: {job.status_text}")
        detail = f"{job.status_text}  {job.succeeded_requests} ok, {job.failed_requests} failed"
        remaining = self.eta.seconds(job.done, job.total_requests) if job.status_text == "RUNNING" else None
        if remaining is not None:
            detail += f"  ETA {clock_text(remaining)}"
        self.bar.update(job.done, job.total_requests, detail)

    def note(self, text: str) -> None:
        """A passing failure above the bar."""
        self.bar.note(text)

    def close(self) -> None:
        """Leave the bar as it is."""
        self._context.__exit__(None, None, None)


class BatchAdapter(watching.JobAdapter):
    """Batch jobs for the watch engine."""

    kind = "batch"
    get_operation = "batch.get"
    view_on_stderr = True  # its terminal view is a bar on stderr (or lines, when stderr is not styled)

    def __init__(self) -> None:
        self.last: Any = None

    def parse(self, body: dict) -> "BatchJob":
        """The typed job."""
        from mistral_cli.api.operations import describe
        from mistral_cli.bodies.batch import BatchJob

        return BatchJob.parse(body, describe("batch.get"))

    def progress(self, job: "BatchJob") -> tuple[int, int] | None:
        """Requests answered out of the total."""
        return job.done, job.total_requests

    def change_lines(self, job: "BatchJob", body: dict) -> list[str]:
        """A summary line when the status or a count changed."""
        if job.progress() == self.last:
            return []
        self.last = job.progress()
        return [summary(job)]

    def terminal_view(self, env: "Env", job_id: str) -> Any:
        """A bar on a styled stderr; plain lines otherwise."""
        if env.stderr_styled:
            return BarView(env, job_id)
        return LinesOnTerminal(env, self)

    def final_text(self, job: "BatchJob") -> str:
        """The job id (for `mcli batch results`)."""
        return job.id

    def ended(self, env: "Env", job: "BatchJob") -> None:
        """Note the failed requests of a job that succeeded."""
        if job.failed_requests:
            env.info(f"{job.failed_requests} of {job.total_requests} request(s) failed; their errors: "
                     f"mcli batch results {job.id}")

    def failure(self, job: "BatchJob") -> JobFailedError:
        """The failure with the job's first errors."""
        details = [f"{error.message or 'no message'}" + (f" (x{error.count})" if error.count else "")
                   for error in job.errors[:20]]
        return JobFailedError(f"batch job {job.id} ended {job.status_text}: {job.succeeded_requests} "
                              f"of {job.total_requests} request(s) succeeded", details=details)


class LinesOnTerminal:
    """A terminal whose stderr is not styled: the summary lines, as off a terminal."""

    def __init__(self, env: "Env", adapter: BatchAdapter):
        self.view = watching.StreamView(env, adapter, OutputFormat.table)
        self.env = env

    def show(self, job: "BatchJob", body: dict) -> None:
        """A line per change."""
        self.view.show(job, body)

    def note(self, text: str) -> None:
        """A passing failure on stderr."""
        self.env.info(text)

    def close(self) -> None:
        """Nothing to tidy."""


def watch_job(env: "Env", job_id: str, output: OutputFormat, interval: float,
              on_end: Callable[[Any], None] | None = None, quiet: bool = False,
              back_off: bool = False) -> "BatchJob":
    """Poll JOB_ID until it ends, showing each change (QUIET: on stderr only); hand the final
    body to ON_END; return the final job, or raise JobFailedError when it ended FAILED,
    TIMEOUT_EXCEEDED or CANCELLED."""
    return watching.watch(env, BatchAdapter(), job_id, interval=interval, output=output, on_end=on_end,
                          quiet=quiet, back_off=back_off)


def replay(env: "Env", body: dict, output: OutputFormat) -> "BatchJob":
    """Show a job that already ended as its watch did at the end (no request)."""
    return watching.replay(env, BatchAdapter(), body, output)
