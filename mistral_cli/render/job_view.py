"""How a fine-tuning job looks: its fields, events, checkpoints and loss chart, as Rich
renderables on a terminal and as tab-separated lines elsewhere (`get` and `watch` share them).

Takes typed jobs (bodies/fine_tuning.py); imported only by the commands that show one.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from mistral_cli.render import human
from mistral_cli.render.chart import line_chart
from mistral_cli.render.output import Column, dumps, tsv_cell
from mistral_cli.render.safe_text import safe_markup
from mistral_cli.times import iso

if TYPE_CHECKING:  # pragma: no cover
    from rich.console import RenderableType

    from mistral_cli.bodies.fine_tuning import Checkpoint, Event, FineTuningJob

METRICS = ("train_loss", "valid_loss", "valid_mean_token_accuracy")
SHOWN_EVENTS = 8
SHOWN_CHECKPOINTS = 6


def _hyperparameters(job: dict) -> str:
    params = job.get("hyperparameters") or {}
    return " ".join(f"{key}={value}" for key, value in params.items() if value is not None)


JOB_FIELDS = (
    Column("ID", "id", "id"),
    Column("STATUS", "status", "status"),
    Column("TYPE", "job_type"),
    Column("MODEL", "model"),
    Column("FINE-TUNED MODEL", "fine_tuned_model"),
    Column("SUFFIX", "suffix"),
    Column("TRAINED TOKENS", "trained_tokens"),
    Column("HYPERPARAMETERS", _hyperparameters),
    Column("TRAINING FILES", "training_files", "list"),
    Column("VALIDATION FILES", "validation_files", "list"),
    Column("AUTO START", "auto_start"),
    Column("CREATED", "created_at", "time"),
    Column("MODIFIED", "modified_at", "time"),
)


def metrics_text(metrics: Any) -> str:
    """A checkpoint's metrics as `name value` pairs (those that are set)."""
    values = metrics.model_dump() if hasattr(metrics, "model_dump") else dict(metrics or {})
    return "  ".join(f"{name} {values[name]:.4g}" for name in METRICS
                     if isinstance(values.get(name), (int, float)))


def event_line(event: "Event") -> str:
    """One event as tab-separated `time  event  name  data`."""
    return "\t".join((iso(event.created_at), "event", event.name, dumps(event.data) if event.data else ""))


def checkpoint_line(checkpoint: "Checkpoint") -> str:
    """One checkpoint as tab-separated `time  checkpoint  step N  metrics`."""
    return "\t".join((iso(checkpoint.created_at), "checkpoint", f"step {checkpoint.step_number}",
                      metrics_text(checkpoint.metrics)))


def status_line(job: "FineTuningJob", when: float) -> str:
    """A status change as tab-separated `time  status  STATUS`."""
    return "\t".join((iso(when), "status", job.status))


def detail_lines(job: "FineTuningJob", body: dict) -> Iterable[str]:
    """`get` off a terminal: key/value lines, then one line per event and per checkpoint."""
    for col in JOB_FIELDS:
        yield f"{col.header.lower()}\t{tsv_cell(col.raw(body))}"
    yield from (event_line(event) for event in job.sorted_events())
    yield from (checkpoint_line(point) for point in job.sorted_checkpoints())


def loss_series(job: "FineTuningJob") -> list[tuple[str, list[tuple[float, float]]]]:
    """(name, [(step, loss), ...]) for the training and validation loss."""
    points = job.sorted_checkpoints()
    return [(name, [(float(c.step_number or 0), float(getattr(c.metrics, key)))
                    for c in points if isinstance(getattr(c.metrics, key), (int, float))])
            for name, key in (("train loss", "train_loss"), ("valid loss", "valid_loss"))]


def job_renderable(job: "FineTuningJob", body: dict, *, width: int = 80,
                   header: str | None = None, events: int | None = None) -> "RenderableType":
    """A job for a terminal: its fields panel (titled HEADER, plain text), events, checkpoints
    and loss chart."""
    from rich.console import Group
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column(overflow="fold")
    for col in JOB_FIELDS:
        if col.raw(body) not in (None, "", []):
            grid.add_row(col.header, col.human(body))
    title = safe_markup(header or job.id)
    parts: list[Any] = [Panel(grid, title=title, expand=False, title_align="left")]
    if job.events:
        parts.append(_events_table(job.sorted_events()[-(events or len(job.events)):]))
    if job.checkpoints:
        parts.append(_checkpoints_table(job.sorted_checkpoints()[-SHOWN_CHECKPOINTS:]))
    chart = line_chart(loss_series(job), width=max(20, min(width, 100) - 12), height=8)
    if chart:
        parts.append(Panel(Text("\n".join(chart)), title="loss", expand=False, title_align="left"))
    return Group(*parts)


def _events_table(events: list["Event"]) -> Any:
    from rich import box
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD, title="events", title_justify="left", show_edge=False)
    for header in ("TIME", "EVENT", "DATA"):
        table.add_column(header, overflow="fold")
    for event in events:
        data = event.data or {}
        shown = human.status(data["status"]) if set(data) == {"status"} else human.format_value(data or None, "text")
        table.add_row(human.format_value(event.created_at, "time"), human.format_value(event.name, "text"),
                      shown)
    return table


def _checkpoints_table(points: list["Checkpoint"]) -> Any:
    from rich import box
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD, title="checkpoints", title_justify="left", show_edge=False)
    for header in ("STEP", "TRAIN LOSS", "VALID LOSS", "VALID TOKEN ACC.", "TIME"):
        table.add_column(header, justify="right")
    for point in points:
        values = [getattr(point.metrics, name) for name in METRICS]
        table.add_row(str(point.step_number), *(f"{v:.4f}" if isinstance(v, (int, float)) else "" for v in values),
                      human.format_value(point.created_at, "time"))
    return table
