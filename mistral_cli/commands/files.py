"""`mcli files`: the six file operations (upload, list, get, delete, url, download)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from mistral_cli.api import files as api
from mistral_cli.api.operations import call, describe, fetch_object
from mistral_cli.bodies.shape import need_object
from mistral_cli.commands.shared.boundary import McliTyper
from mistral_cli.commands.shared.common_options import (
    AllPagesOpt,
    OpenChoice,
    OutputOpt,
    PageOpt,
    PageSizeOpt,
    YesOpt,
    env_of,
    epilog,
    number_option,
    warn_unknown_value,
)
from mistral_cli.commands.shared.listing import show_list
from mistral_cli.commands.shared.several_ids import act_on_each
from mistral_cli.errors import UsageError
from mistral_cli.inputs import check_uuid, confirm, existing_file
from mistral_cli.numbers import Bound
from mistral_cli.render.human import byte_count
from mistral_cli.render.output import Column, OutputFormat, emit_object, write_lines
from mistral_cli.render.progress import progress_bar
from mistral_cli.safe_files import refuse_existing

if TYPE_CHECKING:  # pragma: no cover
    from mistral_cli.env import Env

app = McliTyper(help="Upload, list, download and delete files.", no_args_is_help=True,
                epilog=epilog("mcli files upload train.jsonl --purpose fine-tune", "mcli files list --all",
                              "mcli files download 3fa85f64-5717-4562-b3fc-2c963f66afa6 -o data.jsonl"))

UPLOAD_LIMIT = 512 * 1024 * 1024  # the spec's documented limit; the server enforces it
EXAMPLE_ID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
NAME_MAX = 255  # bytes in one file name on common file systems

LIST_COLUMNS = (
    Column("ID", "id", "id", priority=0),
    Column("NAME", "filename"),
    Column("PURPOSE", "purpose", priority=3),
    Column("TYPE", "sample_type", priority=5),
    Column("SIZE", "bytes", "size", priority=2),
    Column("CREATED", "created_at", "time", priority=4),
)
DETAIL_FIELDS = (
    Column("ID", "id", "id"),
    Column("NAME", "filename"),
    Column("PURPOSE", "purpose"),
    Column("SAMPLE TYPE", "sample_type"),
    Column("SOURCE", "source"),
    Column("SIZE", "bytes", "size"),
    Column("LINES", "num_lines"),
    Column("CREATED", "created_at", "time"),
)


class Purpose(str, Enum):
    """The spec's FilePurpose."""

    fine_tune = "fine-tune"
    batch = "batch"
    ocr = "ocr"


PURPOSES = tuple(p.value for p in Purpose)


class SampleType(str, Enum):
    """The spec's SampleType."""

    pretrain = "pretrain"
    instruct = "instruct"
    batch_request = "batch_request"
    batch_result = "batch_result"
    batch_error = "batch_error"


class Source(str, Enum):
    """The spec's Source."""

    upload = "upload"
    repository = "repository"
    mistral = "mistral"


FileIdArg = Annotated[str, typer.Argument(help="File id (a UUID).", show_default=False)]


def register(root: typer.Typer) -> None:
    """Add the `files` group to the root app."""
    root.add_typer(app, name="files")


# -- upload ------------------------------------------------------------------------------


@app.command("upload", epilog=epilog(
    "mcli files upload train.jsonl --purpose fine-tune",
    "id=$(mcli files upload requests.jsonl --purpose batch -o text)",
    "mcli files upload data.jsonl --name training-v2.jsonl -o json",
    "mcli files upload part1.jsonl part2.jsonl part3.jsonl"))
def upload(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(help="Files to upload.", show_default=False)],
    purpose: Annotated[Optional[str], typer.Option(
        "--purpose", metavar="PURPOSE", parser=OpenChoice(PURPOSES), show_default=False,
        help=f"What the file is for: {', '.join(PURPOSES)}; another (audio) is sent with a warning. "
             "Default: none is sent, and the API files it as fine-tune.")] = None,
    name: Annotated[Optional[str], typer.Option(
        "--name", help="File name to store instead of the local one (one PATH only).")] = None,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Upload files (streamed; one request per file)."""
    env = env_of(ctx)
    warn_unknown_value(env, "--purpose", purpose, PURPOSES)
    if name is not None and len(paths) > 1:
        raise UsageError("--name needs exactly one PATH (got several)")
    if name is not None and not name.strip():
        raise UsageError("--name must not be empty")
    for path in paths:
        existing_file(path, "files upload")
    act_on_each(env, [str(path) for path in paths],
                lambda item: logged_upload(env, Path(item), purpose, name),
                lambda item, body: f"uploaded {item} as {body.get('id')}", output, LIST_COLUMNS,
                table=True, title_key="filename")


def logged_upload(env: "Env", path: Path, purpose: str | None, name: str | None) -> dict:
    """Upload PATH and log its bytes' file id (batchrun/reuse.py): a later command sending the
    same bytes for the same purpose reuses the file (no purpose: the API's fine-tune)."""
    from mistral_cli.batchrun.reuse import remember_upload

    body = upload_one(env, path, purpose, name)
    remember_upload(env, path, purpose or "fine-tune", body)
    return body


def upload_one(env: "Env", path: Path, purpose: str | None, name: str | None = None) -> dict:
    """Upload PATH with a progress bar (warning past the documented size limit); the body."""
    size = path.stat().st_size
    if size > UPLOAD_LIMIT:
        from mistral_cli.render.human import size as human_size

        env.warn(f"{path} is {human_size(size)}, over the API's documented "
                 f"{human_size(UPLOAD_LIMIT)} limit; sending it anyway (the server decides)")
    with progress_bar(env, f"uploading {name or path.name}", size) as on_progress:
        return need_object(api.upload_file(env.client, path, purpose=purpose, name=name,
                                              on_progress=on_progress), describe("files.upload"))


# -- list --------------------------------------------------------------------------------


@app.command("list", epilog=epilog(
    "mcli files list",
    "mcli files list --purpose batch --sample-type batch_result",
    "mcli files list --source upload --source repository --search train",
    "mcli files list --all -o json",
    "mcli files list --page 2 --page-size 20 -o text"))
def list_(
    ctx: typer.Context,
    purpose: Annotated[Optional[str], typer.Option(
        "--purpose", metavar="PURPOSE", parser=OpenChoice(PURPOSES), show_default=False,
        help=f"Only files with this purpose: {', '.join(PURPOSES)} (another is sent with a warning).")] = None,
    sample_type: Annotated[Optional[list[SampleType]], typer.Option(
        "--sample-type", metavar="TYPE",
        help=f"Only files of this sample type (repeatable): {', '.join(t.value for t in SampleType)}.")] = None,
    source: Annotated[Optional[list[Source]], typer.Option(
        "--source", metavar="SOURCE",
        help=f"Only files from this source (repeatable): {', '.join(s.value for s in Source)}.")] = None,
    search: Annotated[Optional[str], typer.Option("--search", help="Only files whose name matches.")] = None,
    page: PageOpt = None,
    page_size: PageSizeOpt = None,
    all_pages: AllPagesOpt = False,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """List your organisation's files."""
    env = env_of(ctx)
    warn_unknown_value(env, "--purpose", purpose, PURPOSES)
    filters: dict[str, Any] = {"purpose": purpose, "search": search,
                               "sample_type": [s.value for s in sample_type or ()],
                               "source": [s.value for s in source or ()]}
    show_list(env, "files.list", filters, page=page, page_size=page_size, all_pages=all_pages,
              output=output, columns=LIST_COLUMNS)


# -- get, delete, url --------------------------------------------------------------------


@app.command("get", epilog=epilog(f"mcli files get {EXAMPLE_ID}",
                                  f"mcli files get {EXAMPLE_ID} -o json"))
def get(ctx: typer.Context, file_id: FileIdArg, output: OutputOpt = OutputFormat.table) -> None:
    """Show one file's details."""
    env = env_of(ctx)
    check_uuid(file_id, "file id")
    body = fetch_object(env.client, "files.retrieve", file_id)
    fields = DETAIL_FIELDS if env.stdout_isatty else None
    emit_object(env, output, body, fields, title=body.get("filename"))


@app.command("delete", epilog=epilog(f"mcli files delete {EXAMPLE_ID}",
                                     "mcli files list --purpose batch -o text | xargs mcli files delete --yes"))
def delete(ctx: typer.Context,
           file_ids: Annotated[list[str], typer.Argument(help="File ids (UUIDs).", show_default=False)],
           yes: YesOpt = False, output: OutputOpt = OutputFormat.table) -> None:
    """Delete files (asks first on a terminal)."""
    env = env_of(ctx)
    for file_id in file_ids:
        check_uuid(file_id, "file id")
    confirm(env, f"Delete {len(file_ids)} file(s): {', '.join(file_ids)}?", yes)
    act_on_each(env, file_ids, lambda file_id: fetch_object(env.client, "files.delete", file_id),
                lambda file_id, _body: f"deleted {file_id}", output)


@app.command("url", epilog=epilog(f"mcli files url {EXAMPLE_ID}",
                                  f"curl -o data.jsonl \"$(mcli files url {EXAMPLE_ID} --expiry 1)\""))
def url(ctx: typer.Context, file_id: FileIdArg,
        expiry: Annotated[Optional[int], number_option(
            Bound("--expiry", 1, None, integer=True), metavar="HOURS",
            help="Hours before the URL stops working (server default 24)", show_default=False)] = None,
        output: OutputOpt = OutputFormat.table) -> None:
    """Print a signed URL to download a file without a key."""
    env = env_of(ctx)
    check_uuid(file_id, "file id")
    body = fetch_object(env.client, "files.url", file_id, params={"expiry": expiry} if expiry is not None else None)
    if output in (OutputFormat.table, OutputFormat.text):
        write_lines(env, [body.get("url")])
    else:
        emit_object(env, output, body)


# -- download ----------------------------------------------------------------------------


@app.command("download", epilog=epilog(
    f"mcli files download {EXAMPLE_ID}",
    f"mcli files download {EXAMPLE_ID} -o results.jsonl --force",
    f"mcli files download {EXAMPLE_ID} -o - | head"))
def download(
    ctx: typer.Context,
    file_id: FileIdArg,
    output: Annotated[Optional[str], typer.Option(
        "-o", "--output", metavar="PATH|-", show_default=False,
        help="Where to save: a file, a folder, or - for stdout (default: the file's name).")] = None,
    force: Annotated[bool, typer.Option("--force", "-f", help="Overwrite an existing file.")] = False,
) -> None:
    """Download a file's content (to its own name, a path, or stdout)."""
    env = env_of(ctx)
    check_uuid(file_id, "file id")
    refuse_format_name(output)
    if output == "-":
        _download_to_stdout(env, file_id)
        return
    dest, size = _destination(env, file_id, output)
    refuse_existing(dest.parent, dest.name, force)
    with progress_bar(env, f"downloading {dest.name}", size) as on_progress:
        written = api.download_file(env.client, file_id, dest, force=force, on_progress=on_progress)
    env.info(f"saved {dest} ({byte_count(written, env.stderr_isatty)})")


def refuse_format_name(output: str | None) -> None:
    """Refuse `-o json` and the like: here -o names the file (as in curl), and a bare output
    format name is almost always a slip; `./json` still writes a file of that name."""
    if output in {fmt.value for fmt in OutputFormat}:
        raise UsageError(f"-o {output}: a download's -o names the file to write, not an output format",
                         hint=f"to write a file named {output!r}, give -o ./{output}")


def _download_to_stdout(env: "Env", file_id: str) -> None:
    handle = getattr(env.stdout, "buffer", None)
    if handle is None:
        raise UsageError("-o -: standard output does not accept bytes here")
    env.stdout.flush()
    with progress_bar(env, "downloading", None) as on_progress:
        api.download_file_to(env.client, file_id, handle, on_progress=on_progress)
    handle.flush()


def _destination(env: "Env", file_id: str, output: str | None) -> tuple[Path, int | None]:
    """The path to write and the expected size (known when the file's details were fetched)."""
    if output is not None and not Path(output).is_dir():
        return Path(output), None
    details = call(env.client, "files.retrieve", file_id)
    name = local_name(details.get("filename")) or file_id
    size = details.get("bytes") if isinstance(details.get("bytes"), int) else None
    return Path(output or ".") / name, size


def local_name(name: Any) -> str | None:
    """The server's file NAME made a plain name for a local folder: its last path part,
    printable characters only, no leading dot (no hidden file, no `..`), at most 255 bytes;
    None when nothing usable is left (the caller then uses the file id)."""
    if not isinstance(name, str):
        return None
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip().lstrip(".").strip()
    return base if base and len(base.encode("utf-8")) <= NAME_MAX else None
