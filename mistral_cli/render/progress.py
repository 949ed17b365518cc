"""Progress bars for transfers and long work: Rich on a styled stderr, nothing elsewhere."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from mistral_cli.env import Env


@contextmanager
def progress_bar(env: Env, description: str, total: int | None) -> Iterator[Callable[[int, Any], None]]:
    """A Rich progress bar on a styled stderr; a no-op callback otherwise."""
    if not env.stderr_styled:
        yield lambda _done, _total: None
        return
    from rich.progress import (BarColumn, DownloadColumn, Progress, TextColumn,
                               TimeRemainingColumn, TransferSpeedColumn)

    with Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                  TransferSpeedColumn(), TimeRemainingColumn(), console=env.err_console,
                  transient=True) as progress:
        task = progress.add_task(description, total=total)

        def update(done: int, new_total: Any) -> None:
            progress.update(task, completed=done, total=new_total or total)

        yield update
