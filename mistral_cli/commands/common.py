"""Helpers shared by command modules: acting on several ids, progress bars."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from mistral_cli.env import Env
from mistral_cli.errors import MCLIError, OutputClosed


def run_each(env: Env, ids: Iterable[str], action: Callable[[str], Any],
             done: Callable[[str, Any], str]) -> list[Any]:
    """Run ACTION on every id, report each on stderr, raise the worst error at the end."""
    results: list[Any] = []
    worst: MCLIError | None = None
    for item_id in ids:
        try:
            result = action(item_id)
        except OutputClosed:
            raise  # the reader went away: stop, do not go on with the other ids
        except MCLIError as exc:
            from mistral_cli.app import report

            report(env, exc)
            if worst is None or exc.exit_code > worst.exit_code:
                worst = exc
            continue
        results.append(result)
        env.info(done(item_id, result))
    if worst is not None:
        raise _Reported(worst)
    return results


class _Reported(MCLIError):
    """An error already printed by run_each; only its exit code is left to give."""

    def __init__(self, original: MCLIError):
        super().__init__("")
        self.exit_code = original.exit_code
        self.already_reported = True


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
