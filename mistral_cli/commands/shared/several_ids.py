"""Helpers shared by command modules: acting on several ids and printing what was done."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from mistral_cli.env import Env
from mistral_cli.errors import MCLIError, OutputClosed
from mistral_cli.render.output import Column, OutputFormat, emit_list, emit_object, remember_ids


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
            env.report(exc)
            if worst is None or exc.exit_code > worst.exit_code:
                worst = exc
            continue
        results.append(result)
        env.info(done(item_id, result))
    if worst is not None:
        raise _Reported(worst)
    return results


def act_on_each(env: Env, ids: Iterable[str], action: Callable[[str], dict],
                done: Callable[[str, dict], str], output: OutputFormat,
                columns: Sequence[Column] = (), table: bool = False, title_key: str | None = None) -> None:
    """run_each, then print the bodies of the ids that succeeded, even when others failed.

    One body prints as an object, several as a list; with `-o table` they print only when
    TABLE is true (a delete says enough on stderr, an upload shows what it created).
    """
    succeeded: list[dict] = []

    def act(item_id: str) -> dict:
        body = action(item_id)
        succeeded.append(body)
        return body

    try:
        run_each(env, ids, act, done)
    finally:
        if succeeded and (table or output is not OutputFormat.table):
            emit_results(env, output, succeeded, columns, title_key)
        elif succeeded:
            remember_ids(env, succeeded)  # a delete's bodies say which ids are gone


def emit_results(env: Env, output: OutputFormat, objects: list[dict], columns: Sequence[Column],
                 title_key: str | None = None) -> None:
    """One object as an object (titled by its TITLE_KEY), several as a list (json: one array)."""
    if len(objects) == 1:
        fields = columns if columns and env.stdout_isatty else None
        emit_object(env, output, objects[0], fields, title=objects[0].get(title_key) if title_key else None)
    else:
        emit_list(env, output, objects, columns, body=objects)


class _Reported(MCLIError):
    """An error already printed by run_each; only its exit code is left to give."""

    def __init__(self, original: MCLIError):
        super().__init__("")
        self.exit_code = original.exit_code
        self.already_reported = True


def empty_note(env: Env, what: str) -> None:
    """Say on stderr that nothing is saved, and why when saving is turned off."""
    note = what
    if not saving_enabled(env):
        note += " (saving is turned off: `mcli config set history true` turns it on)"
    env.info(note)


def saving_enabled(env: Env) -> bool:
    """Whether history saving is on; a config problem is not this command's to report."""
    try:
        return env.history_enabled
    except MCLIError:
        return True
