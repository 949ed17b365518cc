"""`mcli models`: the six model operations (list, get, delete, update, archive, unarchive)."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Optional

import typer

from mistral_cli.api.operations import call, describe, fetch_object
from mistral_cli.bodies.shape import need_listing
from mistral_cli.commands.shared.boundary import McliTyper
from mistral_cli.commands.shared.common_options import OutputOpt, YesOpt, env_of, epilog
from mistral_cli.commands.shared.several_ids import act_on_each
from mistral_cli.errors import UsageError
from mistral_cli.inputs import confirm
from mistral_cli.render.output import Column, OutputFormat, emit_list, emit_object
from mistral_cli.render.safe_text import safe_markup

app = McliTyper(help="List, inspect, rename, archive and delete models.", no_args_is_help=True,
                epilog=epilog("mcli models list --type fine-tuned",
                              "mcli models get mistral-small-latest -o json",
                              "mcli models delete ft:open-mistral-7b:587a6b29:20240514:7e773925 --yes"))

# One vocabulary for the table and --capability: the short word of each flag the API sends, in
# the order a user looks for them (a cut cell loses the last); the API's own names still work.
# The API as it answers today adds flags the spec does not have (ocr, classification, ...).
SHORT_CAPABILITIES = {"completion_chat": "chat", "function_calling": "tools", "vision": "vision",
                      "completion_fim": "fim", "fine_tuning": "fine-tuning", "ocr": "ocr",
                      "classification": "classify", "moderation": "moderation", "audio": "audio"}
CAPABILITIES = ("completion_chat", "function_calling", "vision", "completion_fim", "fine_tuning")  # the spec's
# The API has no flag for what embedding, OCR and moderation models serve (all their flags are
# false): a model with no true flag is known by its id.
BY_ID = (("embed", "embeddings"), ("ocr", "ocr"), ("moderation", "moderation"))
WORDS = (*SHORT_CAPABILITIES.values(), "embeddings")


def _capabilities(model: dict) -> list[str]:
    """MODEL's capabilities as words: its true flags, else what its id says it serves."""
    flags = _flags(model)
    words = [word for name, word in SHORT_CAPABILITIES.items() if flags.get(name) is True]
    words += [str(name) for name, value in flags.items() if value is True and name not in SHORT_CAPABILITIES]
    if not words:
        model_id = str(model.get("id") or "")
        words = [word for part, word in BY_ID if part in model_id][:1]
    return words


def _flags(model: dict) -> dict:
    """MODEL's capabilities object ({} when the server sent something else)."""
    flags = model.get("capabilities")
    return flags if isinstance(flags, dict) else {}


def _true_flags(model: dict) -> str:
    """The API's names of MODEL's true flags, comma-joined: the raw value (TSV)."""
    return ",".join(str(name) for name, value in _flags(model).items() if value is True)


CAPABILITIES_COLUMN = Column("CAPABILITIES", _true_flags, "list",
                             view=lambda model: safe_markup(", ".join(_capabilities(model))))
LIST_COLUMNS = (
    Column("ID", "id", "id", priority=0),
    Column("TYPE", "type", priority=6),  # an `ft:` id says it already
    Column("OWNER", "owned_by", priority=5),
    Column("CONTEXT", "max_context_length", priority=3),
    CAPABILITIES_COLUMN,
    Column("CREATED", "created", "time", priority=4),
)
# `models get` on a terminal: the list's columns, then what only one model's view has room for
# (a field the model does not have is left out: a base model has no root, job or archived).
DETAIL_FIELDS = (
    *LIST_COLUMNS[:3],
    Column("NAME", "name"),
    Column("DESCRIPTION", "description"),
    Column("ALIASES", "aliases", "list"),
    *LIST_COLUMNS[3:],
    Column("TEMPERATURE", "default_model_temperature"),
    Column("DEPRECATION", "deprecation", "time"),
    Column("ROOT", "root"),
    Column("JOB", "job", "id"),
    Column("ARCHIVED", "archived", "bool"),
)


def detail_fields(model: dict) -> list[Column]:
    """DETAIL_FIELDS that MODEL has a value for (ID and CAPABILITIES always)."""
    return [col for col in DETAIL_FIELDS
            if col.raw(model) not in (None, [], "") or col.header in ("ID", "CAPABILITIES")]


class ModelType(str, Enum):
    """Values of `models list --type`."""

    base = "base"
    fine_tuned = "fine-tuned"


def register(root: typer.Typer) -> None:
    """Add the `models` group to the root app."""
    root.add_typer(app, name="models")


def _capability_filter(names: list[str]) -> list[str]:
    """NAMES as the table's words (an API flag name is taken for its word)."""
    words = [SHORT_CAPABILITIES.get(name, name) for name in names]
    unknown = [name for name, word in zip(names, words) if word not in WORDS]
    if unknown:
        raise UsageError(f"--capability: unknown capability {', '.join(unknown)!s} "
                         f"(choose from {', '.join(WORDS)})")
    return words


def filter_models(models: list[dict], model_type: str | None, capabilities: list[str]) -> list[dict]:
    """Keep the models of MODEL_TYPE that have every one of CAPABILITIES (the table's words)."""
    return [m for m in models
            if (model_type is None or m.get("type", "base") == model_type)
            and set(capabilities) <= set(_capabilities(m))]


@app.command("list", epilog=epilog("mcli models list", "mcli models list --type fine-tuned -o json",
                                   "mcli models list --capability vision -o text"))
def list_(
    ctx: typer.Context,
    output: OutputOpt = OutputFormat.table,
    model_type: Annotated[Optional[ModelType], typer.Option("--type", help="Only base or fine-tuned models.")] = None,
    capability: Annotated[Optional[list[str]], typer.Option(
        "--capability", help=f"Only models with this capability (repeatable), as the table says it: {', '.join(WORDS)}.")] = None,
) -> None:
    """List the models available to your key."""
    env = env_of(ctx)
    wanted = _capability_filter(capability or [])
    body = call(env.client, "models.list")
    models = filter_models(need_listing(body, describe("models.list")), model_type.value if model_type else None, wanted)
    emit_list(env, output, models, LIST_COLUMNS, body={**body, "data": models})


@app.command("get", epilog=epilog("mcli models get mistral-small-latest", "mcli models get ft:open-mistral-7b:587a6b29:20240514:7e773925 -o json"))
def get(ctx: typer.Context, model_id: Annotated[str, typer.Argument(help="Model id.")],
        output: OutputOpt = OutputFormat.table) -> None:
    """Show one model."""
    env = env_of(ctx)
    body = fetch_object(env.client, "models.get", model_id)
    emit_object(env, output, body, detail_fields(body) if env.stdout_isatty else None, title=model_id)


@app.command("delete", epilog=epilog("mcli models delete ft:open-mistral-7b:587a6b29:20240514:7e773925 --yes"))
def delete(ctx: typer.Context, model_ids: Annotated[list[str], typer.Argument(help="Fine-tuned model ids.")],
           yes: YesOpt = False, output: OutputOpt = OutputFormat.table) -> None:
    """Delete fine-tuned models."""
    env = env_of(ctx)
    confirm(env, f"Delete {len(model_ids)} model(s): {', '.join(model_ids)}?", yes)
    act_on_each(env, model_ids, lambda model_id: fetch_object(env.client, "models.delete", model_id),
                lambda model_id, _body: f"deleted {model_id}", output)


@app.command("update", epilog=epilog('mcli models update ft:open-mistral-7b:587a6b29:20240514:7e773925 --name "support bot v2"'))
def update(
    ctx: typer.Context,
    model_id: Annotated[str, typer.Argument(help="Fine-tuned model id.")],
    name: Annotated[Optional[str], typer.Option("--name", help="New name.")] = None,
    description: Annotated[Optional[str], typer.Option("--description", help="New description.")] = None,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Rename a fine-tuned model or change its description."""
    env = env_of(ctx)
    fields = {k: v for k, v in (("name", name), ("description", description)) if v is not None}
    if not fields:
        raise UsageError("nothing to update: give --name and/or --description")
    body = fetch_object(env.client, "models.update", model_id, json_body=fields)
    emit_object(env, output, body, title=model_id)


@app.command("archive", epilog=epilog("mcli models archive ft:open-mistral-7b:587a6b29:20240514:7e773925"))
def archive(ctx: typer.Context, model_id: Annotated[str, typer.Argument(help="Fine-tuned model id.")],
            output: OutputOpt = OutputFormat.table) -> None:
    """Archive a fine-tuned model."""
    env = env_of(ctx)
    body = fetch_object(env.client, "models.archive", model_id)
    emit_object(env, output, body, title=model_id)


@app.command("unarchive", epilog=epilog("mcli models unarchive ft:open-mistral-7b:587a6b29:20240514:7e773925"))
def unarchive(ctx: typer.Context, model_id: Annotated[str, typer.Argument(help="Fine-tuned model id.")],
              output: OutputOpt = OutputFormat.table) -> None:
    """Unarchive a fine-tuned model."""
    env = env_of(ctx)
    body = fetch_object(env.client, "models.unarchive", model_id)
    emit_object(env, output, body, title=model_id)
