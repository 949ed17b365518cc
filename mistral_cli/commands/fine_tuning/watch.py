"""`mcli fine-tuning watch`: the fine-tuning adapter of the watch engine (commands/shared/watching.py).

Off a terminal one tab-separated line per new event, status change or checkpoint; on a
terminal a live view (status, elapsed time, events, checkpoint metrics, a loss chart);
`-o text` the fine-tuned model at the end. The engine does the polling, the other output
formats, the messages and the exit codes (0 on SUCCESS, 5 on FAILED, FAILED_VALIDATION or
CANCELLED, 130 on Ctrl-C).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mistral_cli.commands.shared import watching
from mistral_cli.errors import JobFailedError
from mistral_cli.render.output import OutputFormat

if TYPE_CHECKING:  # pragma: no cover
    from mistral_cli.bodies.fine_tuning import FineTuningJob
    from mistral_cli.env import Env

DEFAULT_INTERVAL = watching.DEFAULT_INTERVAL


class Tracker:
    """What has been shown of a job so far; turns each new state into a list of changes."""

    def __init__(self) -> None:
        self.status: str | None = None
        self.events: set[tuple] = set()
        self.steps: set[Any] = set()

    def changes(self, job: "FineTuningJob") -> list[dict]:
        """The new events, status and checkpoints of JOB since the last call, oldest first."""
        found: list[dict] = []
        for event in job.sorted_events():
            if event.key() not in self.events:
                self.events.add(event.key())
                found.append({"type": "event", **event.model_dump(mode="json")})
        if job.status != self.status:
            self.status = job.status
            found.append({"type": "status", "status": job.status, "modified_at": job.modified_at})
        for point in job.sorted_checkpoints():
            if point.step_number not in self.steps:
                self.steps.add(point.step_number)
                found.append({"type": "checkpoint", **point.model_dump(mode="json")})
        return sorted(found, key=_when)


def _when(change: dict) -> tuple:
    """When CHANGE happened; within one second, in the order of a job's life (bodies/fine_tuning.py
    `phase`: RUNNING before a checkpoint, a checkpoint before SUCCESS)."""
    from mistral_cli.bodies.fine_tuning import phase

    moment = change.get("created_at") or change.get("modified_at") or 0
    status = change.get("status") if change["type"] == "status" else (change.get("data") or {}).get("status")
    return (moment if isinstance(moment, (int, float)) else 0, phase(status), change["type"] != "event")


def change_lines(changes: list[dict], when: float) -> list[str]:
    """The changes as tab-separated lines (a status already told by its event is left out)."""
    from mistral_cli.bodies.fine_tuning import Checkpoint, Event, FineTuningJob
    from mistral_cli.render.job_view import checkpoint_line, event_line, status_line

    told = {c.get("data", {}).get("status") for c in changes if c["type"] == "event" and c.get("data")}
    lines: list[str] = []
    for change in changes:
        if change["type"] == "event":
            lines.append(event_line(Event.model_validate(change)))
        elif change["type"] == "checkpoint":
            lines.append(checkpoint_line(Checkpoint.model_validate(change)))
        elif change["status"] not in told:
            lines.append(status_line(FineTuningJob(status=change["status"]), change.get("modified_at") or when))
    return lines


class FineTuningPanel:
    """On a terminal: one Rich Live panel redrawn at each poll."""

    def __init__(self, env: "Env", job_id: str):
        from rich.live import Live

        self.env = env
        self.job_id = job_id
        self.text = ""
        self.last: tuple[Any, dict] | None = None
        self.live = Live(console=env.console, auto_refresh=False, transient=False)
        self.live.start()

    def show(self, job: "FineTuningJob", body: dict) -> None:
        """Redraw with JOB's latest state."""
        self.text = ""
        self.last = (job, body)
        self._draw()

    def note(self, text: str) -> None:
        """Show a passing failure under the view; the watch goes on."""
        self.text = text
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
        if self.text:
            parts.append(Text(safe_text(self.text), style="yellow"))
        self.live.update(Group(*parts), refresh=True)

    def close(self) -> None:
        """Leave the last view on the screen, the cursor at the start of a fresh line."""
        self.live.stop()
        if not self.env.console.is_terminal:  # Rich ends the last line only on a terminal it drives
            self.env.console.file.write("\n")
            self.env.console.file.flush()


def _elapsed(job: "FineTuningJob") -> str:
    """Time since the job was created, as h:mm:ss or m:ss."""
    from mistral_cli.times import clock_text

    if job.created_at is None:
        return ""
    return clock_text(watching.CLOCK.now() - job.created_at)


class FineTuningAdapter(watching.JobAdapter):
    """Fine-tuning jobs for the watch engine."""

    kind = "fine-tuning"
    get_operation = "fine_tuning.get"
    view_on_stderr = False  # its live view (loss chart) draws on stdout

    def __init__(self) -> None:
        self.tracker = Tracker()

    def parse(self, body: dict) -> "FineTuningJob":
        """The typed job."""
        from mistral_cli.api.operations import describe
        from mistral_cli.bodies.fine_tuning import FineTuningJob

        return FineTuningJob.parse(body, describe("fine_tuning.get"))

    def progress(self, job: "FineTuningJob") -> tuple[int, int] | None:
        """No count: the steps a job will take are not known in advance."""
        return None

    def change_lines(self, job: "FineTuningJob", body: dict) -> list[str]:
        """New events, status and checkpoints as lines."""
        return change_lines(self.tracker.changes(job), watching.CLOCK.now())

    def terminal_view(self, env: "Env", job_id: str) -> FineTuningPanel:
        """The live panel."""
        return FineTuningPanel(env, job_id)

    def final_text(self, job: "FineTuningJob") -> str:
        """The fine-tuned model (the job id when there is none)."""
        return job.fine_tuned_model or job.id

    def ended(self, env: "Env", job: "FineTuningJob") -> None:
        """Say the job ended and its model."""
        env.info(f"job {job.id} ended {job.status}" +
                 (f": fine-tuned model {job.fine_tuned_model}" if job.fine_tuned_model else ""))

    def failure(self, job: "FineTuningJob") -> JobFailedError:
        """The failure with what the last event says about it."""
        return JobFailedError(f"fine-tuning job {job.id} ended {job.status}", details=_failure(job))


def watch(env: "Env", job_id: str, *, interval: float = DEFAULT_INTERVAL,
          output: OutputFormat = OutputFormat.table) -> None:
    """Follow JOB_ID until it ends; print its changes; raise JobFailedError if it failed."""
    watching.watch(env, FineTuningAdapter(), job_id, interval=interval, output=output)


def _failure(job: "FineTuningJob") -> list[str]:
    """What the job's last event says about its failure, if anything."""
    events = job.sorted_events()
    data = (events[-1].data or {}) if events else {}
    reason = data.get("error") or data.get("message") or data.get("reason")
    return [str(reason)] if reason else []
