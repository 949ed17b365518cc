"""`mcli fine-tuning watch`: follow a job until it ends.

On a terminal a live view (status, elapsed time, events, checkpoint metrics, a loss chart);
elsewhere one tab-separated line per new event, status change or checkpoint; `-o jsonl` one
JSON object per change. Polls with a growing interval (api/poll.py); a network error, 429
or 5xx is reported and the watch goes on. Ctrl-C stops watching (not the job), says how
to resume and exits 130. Exit 0 on SUCCESS, 5 on FAILED, FAILED_VALIDATION or CANCELLED.

`sleep` and `now` are module attributes so tests can drive the clock.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from mistral_cli.api import fine_tuning as api
from mistral_cli.api.poll import poll
from mistral_cli.errors import JobFailedError
from mistral_cli.render.output import OutputFormat, dumps, write_json, write_lines, write_lines_raw

if TYPE_CHECKING:  # pragma: no cover
    from mistral_cli.env import Env
    from mistral_cli.models.fine_tuning import FineTuningJob

sleep = time.sleep
now = time.time

DEFAULT_INTERVAL = 5.0
MAX_INTERVAL = 60.0


class Tracker:
    """What has been shown of a job so far; turns each new state into a list of changes."""

    def __init__(self, job_id: str):
        self.job_id = job_id
        self.status: str | None = None
        self.events: set[tuple] = set()
        self.steps: set[Any] = set()

    def changes(self, job: "FineTuningJob") -> list[dict]:
        """The new events, status and checkpoints of JOB since the last call, oldest first."""
        found: list[dict] = []
        for event in job.sorted_events():
            if event.key() not in self.events:
                self.events.add(event.key())
                found.append({"type": "event", "job_id": self.job_id, **event.model_dump(mode="json")})
        if job.status != self.status:
            self.status = job.status
            found.append({"type": "status", "job_id": self.job_id, "status": job.status,
                          "modified_at": job.modified_at})
        for point in job.sorted_checkpoints():
            if point.step_number not in self.steps:
                self.steps.add(point.step_number)
                found.append({"type": "checkpoint", "job_id": self.job_id, **point.model_dump(mode="json")})
        return sorted(found, key=_when)


def _when(change: dict) -> tuple:
    """When CHANGE happened; at the same second a checkpoint comes before the event after it."""
    moment = change.get("created_at") or change.get("modified_at") or 0
    return (moment, {"checkpoint": 0, "event": 1}.get(change["type"], 2))


def change_line(change: dict, when: float) -> str | None:
    """One change as a tab-separated line (a status already told by its event gives None)."""
    from mistral_cli.models.fine_tuning import Checkpoint, Event, FineTuningJob
    from mistral_cli.render.job_view import checkpoint_line, event_line, status_line

    kind = change["type"]
    if kind == "event":
        return event_line(Event.model_validate(change))
    if kind == "checkpoint":
        return checkpoint_line(Checkpoint.model_validate(change))
    return status_line(FineTuningJob(status=change["status"]), change.get("modified_at") or when)


class LineView:
    """Off a terminal (or -o jsonl): one line per change on stdout, failures on stderr."""

    def __init__(self, env: "Env", output: OutputFormat):
        self.env = env
        self.jsonl = output is OutputFormat.jsonl
        self.quiet = output in (OutputFormat.json, OutputFormat.text)

    def show(self, job: "FineTuningJob", body: dict, changes: list[dict]) -> None:
        """Print CHANGES (nothing for -o json and text, which print the end only)."""
        if self.quiet:
            return
        if self.jsonl:
            write_lines_raw(self.env, (dumps(change) for change in changes))
            return
        told = {c.get("data", {}).get("status") for c in changes if c["type"] == "event" and c.get("data")}
        lines = [change_line(c, now()) for c in changes
                 if not (c["type"] == "status" and c["status"] in told)]
        write_lines_raw(self.env, (line for line in lines if line))

    def error(self, exc: Exception, delay: float) -> None:
        """A passing failure: say it on stderr; the watch goes on."""
        self.env.info(f"mcli: warning: {getattr(exc, 'message', exc)} (trying again in {delay:.0f} s)")

    def close(self) -> None:
        """Nothing to tidy."""


class LiveView:
    """On a terminal: one Rich Live panel redrawn at each poll."""

    def __init__(self, env: "Env", job_id: str):
        from rich.live import Live

        self.env = env
        self.job_id = job_id
        self.note = ""
        self.last: tuple[Any, dict] | None = None
        self.live = Live(console=env.console, auto_refresh=False, transient=False)
        self.live.start()

    def show(self, job: "FineTuningJob", body: dict, changes: list[dict]) -> None:
        """Redraw with JOB's latest state."""
        self.note = ""
        self.last = (job, body)
        self._draw()

    def error(self, exc: Exception, delay: float) -> None:
        """Show a passing failure under the view; the watch goes on."""
        self.note = f"last poll failed: {getattr(exc, 'message', exc)} (trying again in {delay:.0f} s)"
        self._draw()

    def _draw(self) -> None:
        from rich.console import Group
        from rich.text import Text

        from mistral_cli.render.job_view import SHOWN_EVENTS, job_renderable
        from mistral_cli.render.safe_text import safe_text

        parts: list[Any] = []
        if self.last is not None:
            job, body = self.last
            elapsed = _elapsed(job)
            header = f"{job.id}  {job.status}" + (f"  {elapsed}" if elapsed else "")
            parts.append(job_renderable(job, body, width=self.env.console.width, header=header,
                                        events=SHOWN_EVENTS))
        else:
            parts.append(Text(f"waiting for job {self.job_id}..."))
        if self.note:
            parts.append(Text(safe_text(self.note), style="yellow"))
        self.live.update(Group(*parts), refresh=True)

    def close(self) -> None:
        """Leave the last view on the screen (once; a second call does nothing)."""
        self.live.stop()


def _elapsed(job: "FineTuningJob") -> str:
    """Time since the job was created, as 1h02m03s."""
    if job.created_at is None:
        return ""
    seconds = max(0, int(now() - job.created_at))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"


def watch(env: "Env", job_id: str, *, interval: float = DEFAULT_INTERVAL,
          output: OutputFormat = OutputFormat.table) -> None:
    """Follow JOB_ID until it ends; print its changes; raise JobFailedError if it failed."""
    from mistral_cli.models.fine_tuning import FineTuningJob

    live = output is OutputFormat.table and env.stdout_isatty
    view: LineView | LiveView = LiveView(env, job_id) if live else LineView(env, output)
    tracker = Tracker(job_id)
    job, body = FineTuningJob(id=job_id), {}
    try:
        for body in poll(lambda: api.get_job(env.client, job_id),
                         done=lambda state: FineTuningJob.parse(state).is_final,
                         interval=interval, max_interval=max(interval, MAX_INTERVAL),
                         on_error=view.error, sleep=lambda seconds: sleep(seconds)):
            job = FineTuningJob.parse(body)
            view.show(job, body, tracker.changes(job))
    except KeyboardInterrupt:
        view.close()
        env.info(f"stopped watching; job {job_id} goes on. Resume with: mcli fine-tuning watch {job_id}")
        raise
    finally:
        view.close()  # also when the job cannot be read (404, 401): the terminal is left tidy
    _finish(env, job, body, output)


def _finish(env: "Env", job: "FineTuningJob", body: dict, output: OutputFormat) -> None:
    """Print the end (-o json: the last body; -o text: the model) and exit by the status."""
    if output is OutputFormat.json:
        write_json(env, body)
    elif output is OutputFormat.text:
        write_lines(env, [job.fine_tuned_model or job.id])
    if job.failed:
        raise JobFailedError(f"fine-tuning job {job.id} ended {job.status}", details=_failure(job))
    env.info(f"job {job.id} ended {job.status}" +
             (f": fine-tuned model {job.fine_tuned_model}" if job.fine_tuned_model else ""))


def _failure(job: "FineTuningJob") -> list[str]:
    """What the job's last event says about its failure, if anything."""
    events = job.sorted_events()
    data = (events[-1].data or {}) if events else {}
    reason = data.get("error") or data.get("message") or data.get("reason")
    return [str(reason)] if reason else []
