"""Progress bars for transfers and long work: Rich on a styled stderr, nothing elsewhere.
Their text (a file name, a job's status) is shown as plain text, never read as markup."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from mistral_cli.render.safe_text import safe_text

if TYPE_CHECKING:  # pragma: no cover
    from mistral_cli.env import Env


class Bar:
    """A transfer bar's handle: call it with (done, total); `above()` wraps what is printed to
    the same terminal while it shows (stdout's lines), so they never share a line with it."""

    def __init__(self, progress: Any = None, task: Any = None, total: int | None = None):
        self._progress, self._task, self._total = progress, task, total

    def __call__(self, done: int, new_total: Any) -> None:
        if self._progress is not None:
            self._progress.update(self._task, completed=done, total=new_total or self._total)

    @contextmanager
    def above(self) -> Iterator[None]:
        """Take the bar off the screen while the block prints; it comes back below."""
        if self._progress is None:
            yield
            return
        self._progress.stop()  # transient: its line is erased, the cursor left at its start
        try:
            yield
        finally:
            self._progress.start()


@contextmanager
def progress_bar(env: Env, description: str, total: int | None) -> Iterator[Bar]:
    """A Rich progress bar on a styled stderr; a bar that shows nothing otherwise."""
    if not env.stderr_styled:
        yield Bar()
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    with Progress(description_column(), BarColumn(), DownloadColumn(binary_units=True),
                  speed_column(), TimeRemainingColumn(), console=env.err_console,
                  transient=True) as progress:
        yield Bar(progress, progress.add_task(safe_text(description), total=total), total)


def speed_column() -> Any:
    """A transfer's speed in the units of every other size (render/human.py)."""
    from rich.progress import ProgressColumn
    from rich.text import Text

    from mistral_cli.render.human import size

    class SpeedColumn(ProgressColumn):
        def render(self, task: Any) -> Text:
            speed = task.finished_speed or task.speed
            return Text("?" if speed is None else f"{size(int(speed))}/s", style="progress.data.speed")

    return SpeedColumn()


DESCRIPTION_WIDTH = 32  # a bar's text is cut with … beyond this, so the bar fits 80 columns


def description_column() -> Any:
    """The column of a bar's text (plain, one line, cut with … past DESCRIPTION_WIDTH)."""
    from rich.progress import TextColumn
    from rich.table import Column

    return TextColumn("{task.description}", markup=False,
                      table_column=Column(max_width=DESCRIPTION_WIDTH, no_wrap=True, overflow="ellipsis"))


class CountBar:
    """A live bar of items done out of a total, with a free text after it, and notes above it."""

    def __init__(self, progress: Any, task: Any):
        self._progress = progress
        self._task = task

    def update(self, done: int, total: int | None, detail: str) -> None:
        """Show DONE of TOTAL (None: not known yet) and DETAIL."""
        self._progress.update(self._task, completed=done, total=total or None, detail=safe_text(detail))

    def note(self, text: str) -> None:
        """Print a line above the bar."""
        self._progress.console.print(safe_text(text), markup=False, highlight=False)


@contextmanager
def count_bar(env: Env, description: str) -> Iterator[CountBar]:
    """A Rich bar of counted items (requests, steps) on stderr; it stays when done."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(description_column(), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), TextColumn("{task.fields[detail]}", markup=False), console=env.err_console) as progress:
        yield CountBar(progress, progress.add_task(safe_text(description), total=None, detail=""))
