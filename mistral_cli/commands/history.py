"""`mcli history`: list, show and delete the conversations saved locally by chat, agents and fim.

The commands read whatever the history database holds even when saving is turned off
(`history = false` in the config), and never create the database just to read it.
An id may be given in full, as a unique prefix, or as `latest` (or `-`) for the most recent.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from mistral_cli.commands.shared.boundary import McliTyper
from mistral_cli.commands.shared.common_options import OutputOpt, YesOpt, env_of, epilog, number_option
from mistral_cli.commands.shared.several_ids import empty_note, run_each
from mistral_cli.env import Env
from mistral_cli.errors import NotFoundError, UsageError
from mistral_cli.inputs import confirm
from mistral_cli.numbers import Bound
from mistral_cli.render.output import Column, OutputFormat, emit_list, for_stdout, write_json, write_jsonl

if TYPE_CHECKING:  # pragma: no cover
    from mistral_cli.store.conversations import Conversation, ConversationStore, StoredMessage

app = McliTyper(help="Browse and delete locally saved conversations.", no_args_is_help=True,
                epilog=epilog("mcli history list", "mcli history show latest", "mcli history delete latest --yes"))

LATEST = ("latest", "-")
MIN_PREFIX = 4
DEFAULT_LIMIT = 30
ROLE_STYLES = {"user": "bold green", "assistant": "bold blue", "tool": "bold magenta", "system": "bold yellow"}
INCOMPLETE_NOTE = "[incomplete: this answer was cut short]"

LIST_COLUMNS = (
    Column("ID", "id", "id", priority=0),
    Column("KIND", "kind", priority=5),
    Column("MODEL", "model", "id", priority=2),  # an id: whole, or left out (and named), never cut
    Column("MESSAGES", "message_count", priority=4),
    Column("UPDATED", "updated_at", "time", priority=3),
    Column("TITLE", "title"),
)


def register(root: typer.Typer) -> None:
    """Add the `history` group to the root app."""
    root.add_typer(app, name="history")


# -- shared helpers -----------------------------------------------------------------------


@contextmanager
def existing_store(env: Env) -> Iterator["ConversationStore | None"]:
    """The history database, or None when there is none yet; closed on exit."""
    from mistral_cli.store.conversations import open_existing_store

    store = open_existing_store(env)
    try:
        yield store
    finally:
        if store is not None:
            store.close()


def find_conversation(store: "ConversationStore | None", ref: str) -> "Conversation":
    """The conversation REF names: a full id, a unique prefix, or `latest`/`-`; NotFoundError if none."""
    conv = None
    if store is not None:
        conv = store.latest() if ref in LATEST else store.get(ref) or _by_prefix(store, ref)
    if conv is None:
        what = "no saved conversations yet" if ref in LATEST else f"no conversation {ref!r} in the history"
        raise NotFoundError(what, hint="`mcli history list` shows the saved conversations")
    return conv


def _by_prefix(store: "ConversationStore", prefix: str) -> "Conversation | None":
    if len(prefix) < MIN_PREFIX:
        return None
    ids = store.match(prefix)
    if len(ids) > 1:
        raise UsageError(f"{prefix!r} matches {len(ids)} conversations ({', '.join(ids[:5])}): "
                         "give more characters of the id")
    return store.get(ids[0]) if ids else None


# -- list ---------------------------------------------------------------------------------


@app.command("list", epilog=epilog("mcli history list", "mcli history list --limit 5 -o json",
                                   "mcli history list -o text | head -1"))
def list_(
    ctx: typer.Context,
    limit: Annotated[int, number_option(Bound("--limit", 0, None, integer=True), "-L",
                                        help="At most this many, newest first; 0: all")] = DEFAULT_LIMIT,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """List saved conversations, most recently updated first."""
    env = env_of(ctx)
    with existing_store(env) as store:
        items = (conv.to_dict() for conv in (store.list(limit) if store else ()))
        first = next(items, None)
        if first is None and output in (OutputFormat.table, OutputFormat.text):
            empty_note(env, "no saved conversations yet")
            return
        emit_list(env, output, itertools.chain([first] if first else [], items), LIST_COLUMNS)


# -- show ---------------------------------------------------------------------------------


@app.command("show", epilog=epilog("mcli history show 3f2a9c1d07be", "mcli history show latest -o json",
                                   "mcli history show latest -o text   # the last answer only"))
def show(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(metavar="ID", help="Conversation id, a unique prefix of it, or `latest`.")],
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Show a saved conversation's messages."""
    env = env_of(ctx)
    with existing_store(env) as store:
        conv = find_conversation(store, ref)
        records = store.records(conv.id)
    if output is OutputFormat.json:
        write_json(env, {**conv.to_dict(), "messages": [r.message for r in records],
                         "timing": [r.timing._asdict() if r.timing else None for r in records]})
    elif output is OutputFormat.jsonl:
        write_jsonl(env, (r.message for r in records))
    elif output is OutputFormat.text:
        write_text_answer(env, records)
    elif not records:
        env.info(f"conversation {conv.id} has no messages")
    elif env.stdout_isatty:
        print_terminal(env, conv, records)
    else:
        print_plain(env, records)


def write_text_answer(env: Env, records: list["StoredMessage"]) -> None:
    """Print the text of the last assistant message: the answer, for `$(...)` (without control
    characters on a terminal)."""
    from mistral_cli.bodies.content import words

    answers = [r.message for r in records if r.message.get("role") == "assistant"]
    if not answers:
        env.info("no answer in this conversation")
        return
    env.stdout.write(for_stdout(env, words(answers[-1].get("content")).rstrip("\n")) + "\n")
    env.stdout.flush()


def message_header(message: dict) -> str:
    """`user`, `assistant`, or `tool (name)`: who wrote a message."""
    role = str(message.get("role") or "?")
    name = message.get("name")
    return f"{role} ({name})" if role == "tool" and name else role


def run_lines(message: dict) -> list[str]:
    """`run: exit status 0 · 0.01 s` for a tool result --tool-exec produced (none otherwise)."""
    from mistral_cli.generation.messages import RUN_KEY

    run = message.get(RUN_KEY)
    if not isinstance(run, dict):
        return []
    if not run.get("ran"):
        return ["run: not run (declined)" if run.get("declined") else "run: not run"]
    facts = [f"exit status {run.get('exit_status')}", f"{run.get('seconds')} s"]
    facts += [fact for flag, fact in (("timed_out", "timed out"), ("cut", "output cut")) if run.get(flag)]
    return ["run: " + " · ".join(facts)]


def print_plain(env: Env, records: list["StoredMessage"]) -> None:
    """Each message as a `role: content` block, blocks separated by a blank line (off a terminal)."""
    from mistral_cli.bodies.content import display_text, tool_call_text

    blocks = []
    for record in records:
        message = record.message
        lines = [f"{message_header(message)}: {display_text(message.get('content'))}".rstrip()]
        lines += [f"tool call: {tool_call_text(call)}" for call in message.get("tool_calls") or []]
        lines += run_lines(message)
        if record.incomplete:
            lines.append(INCOMPLETE_NOTE)
        if timing_text(record):
            lines.append(timing_text(record))
        blocks.append("\n".join(lines))
    env.stdout.write("\n\n".join(blocks) + "\n")
    env.stdout.flush()


def print_terminal(env: Env, conv: "Conversation", records: list["StoredMessage"]) -> None:
    """Each message under a coloured role rule; answers rendered as Markdown (on a terminal).
    What the server sent (answers, the model, tool calls) is shown without control characters."""
    from rich.markdown import Markdown
    from rich.text import Text

    from mistral_cli.bodies.content import display_text, tool_call_text
    from mistral_cli.render.safe_text import safe_text

    console = env.console
    about = " · ".join(filter(None, (conv.id, conv.kind, conv.agent_id, conv.model, conv.updated_at)))
    console.print(Text(safe_text(about), style="dim"))
    for record in records:
        message = record.message
        role = message.get("role")
        header = Text(safe_text(message_header(message)), style=ROLE_STYLES.get(role, "bold"))
        console.rule(header, align="left")
        text = safe_text(display_text(message.get("content")))
        if text.strip():
            console.print(Markdown(text) if role == "assistant" else Text(text))
        for call in message.get("tool_calls") or []:
            console.print(Text(safe_text(f"→ tool call: {tool_call_text(call)}"), style="cyan"))
        for line in run_lines(message):
            console.print(Text(safe_text(line), style="dim"))
        if record.incomplete:
            console.print(Text(INCOMPLETE_NOTE, style="yellow"))
        if timing_text(record):
            console.print(Text(timing_text(record), style="dim"))


def timing_text(record: "StoredMessage") -> str:
    """`streamed: first token 0.21 s · 48.5 tokens/s` for a streamed answer, else ''."""
    from mistral_cli.render.stream import timing_parts

    parts = timing_parts(record.timing)
    return "streamed: " + " · ".join(parts) if parts else ""


# -- delete -------------------------------------------------------------------------------


@app.command("delete", epilog=epilog("mcli history delete 3f2a9c1d07be", "mcli history delete latest --yes",
                                     "mcli history delete --all --yes"))
def delete(
    ctx: typer.Context,
    refs: Annotated[Optional[list[str]], typer.Argument(
        metavar="ID...", help="Conversation ids (or unique prefixes, or `latest`).", show_default=False)] = None,
    everything: Annotated[bool, typer.Option("--all", help="Delete every saved conversation.")] = False,
    yes: YesOpt = False,
) -> None:
    """Delete saved conversations (token usage totals are kept)."""
    env = env_of(ctx)
    if everything and refs:
        raise UsageError("give conversation ids or --all, not both")
    if not everything and not refs:
        raise UsageError("give the ids of the conversations to delete, or --all",
                         hint="`mcli history list` shows the saved conversations")
    if everything:
        delete_all(env, yes)
    else:
        delete_some(env, refs or [], yes)


def delete_all(env: Env, yes: bool) -> None:
    """Delete every conversation, after confirmation."""
    with existing_store(env) as store:
        count = store.count() if store else 0
        if not count:
            env.info("no saved conversations: nothing to delete")
            return
        confirm(env, f"Delete all {count} saved conversation(s)?", yes)
        env.info(f"deleted {store.delete_all()} conversation(s)")


def delete_some(env: Env, refs: list[str], yes: bool) -> None:
    """Delete the conversations REFS name, after confirmation; report each, exit with the worst code."""
    confirm(env, f"Delete {len(refs)} conversation(s): {', '.join(refs)}?", yes)
    with existing_store(env) as store:
        def remove(ref: str) -> str:
            conv = find_conversation(store, ref)
            store.delete(conv.id)
            return conv.id

        run_each(env, refs, remove, lambda ref, cid: f"deleted {cid}")
