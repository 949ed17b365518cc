"""`mcli api METHOD PATH`: send a raw request to any endpoint and print the JSON reply.

The escape hatch, like `gh api`: fields from `-f KEY=VALUE` (typed) and `-F KEY=@FILE`
become query parameters (GET, DELETE), JSON body fields (POST, PUT, PATCH) on top of
`--body`, or multipart form parts (POST /v1/files, or any path with `--multipart`).
A body with `"stream": true` prints the server-sent events as JSON lines as they arrive;
`--paginate` follows `page`/`page_size` list endpoints to the end. The decoded JSON reply of
an operation whose answer carries ids (api/operations.py) feeds the id cache behind Tab,
through the output layer's remember_ids, as every other command does.
"""

from __future__ import annotations

import io
import mimetypes
from contextlib import ExitStack
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from mistral_cli.api import raw
from mistral_cli.api.operations import OPERATIONS
from mistral_cli.commands.shared.common_options import env_of, epilog
from mistral_cli.errors import UsageError
from mistral_cli.inputs import existing_file, need_stdin, read_json_object, read_text
from mistral_cli.render.output import for_stdout, remember_ids, write_json, write_jsonl

if TYPE_CHECKING:  # pragma: no cover
    from mistral_cli.env import Env

# the requests whose body is a multipart form, as the operation table marks them: POST /v1/files
MULTIPART = ", ".join(operation.describe() for operation in OPERATIONS.values() if operation.multipart)
HELP = (
    "Send a raw request to any API endpoint and print the reply.\n\n"
    "-f KEY=VALUE sets a field: true, false, null, numbers and JSON arrays or objects are typed, "
    "anything else is a string; a.b=VALUE nests; a repeated key (or KEY[]=VALUE) makes a list.\n\n"
    "-F KEY=@FILE sets a field from a file (@- is stdin): its text, or its JSON when it holds an "
    "array or object.\n\n"
    "For GET and DELETE the fields are query parameters; otherwise they are set on top of the "
    f"--body object. {MULTIPART} (or --multipart) sends a multipart form instead: "
    "-F KEY=@PATH[;filename=NAME] becomes a streamed file part, -f fields text parts.\n\n"
    "A body with \"stream\": true prints each server-sent event as one JSON line as it arrives. "
    "A reply that is not JSON is written as it comes (a file's content, for instance)."
)

EXAMPLES = epilog(
    "mcli api GET /v1/models",
    "mcli api get v1/files -f purpose=batch -f page_size=20 --paginate",
    "mcli api POST /v1/chat/completions -f model=mistral-small-latest "
    "-f 'messages=[{\"role\":\"user\",\"content\":\"Hi\"}]' -f temperature=0.2",
    "mcli api POST /v1/chat/completions --body request.json -f stream=true",
    "mcli api POST /v1/chat/completions --body - -f response_format.type=json_object < req.json",
    "mcli api POST /v1/embeddings -f model=mistral-embed -f input=hello -f input=world",
    "mcli api POST /v1/files -F file=@train.jsonl -f purpose=fine-tune",
    "mcli api GET /v1/files/3fa85f64-5717-4562-b3fc-2c963f66afa6/content > data.jsonl",
    "mcli api GET /v1/fine_tuning/jobs --paginate -o jsonl",
    "mcli api DELETE /v1/files/3fa85f64-5717-4562-b3fc-2c963f66afa6",
)


class Method(str, Enum):
    """HTTP methods `mcli api` sends."""

    GET = "GET"
    POST = "POST"
    PUT = "PUT"
    PATCH = "PATCH"
    DELETE = "DELETE"


class ApiFormat(str, Enum):
    """Values of `mcli api -o`."""

    json = "json"
    jsonl = "jsonl"


def register(root: typer.Typer) -> None:
    """Add the `api` command to the root app."""
    root.command("api", help=HELP, epilog=EXAMPLES)(api_command)


def api_command(
    ctx: typer.Context,
    method: Annotated[Method, typer.Argument(case_sensitive=False, show_default=False, metavar="METHOD",
                                             help="GET, POST, PUT, PATCH or DELETE (any case).")],
    path: Annotated[str, typer.Argument(show_default=False, metavar="PATH",
                                        help="Endpoint path such as /v1/models (may carry ?query).")],
    field: Annotated[Optional[list[str]], typer.Option(
        "-f", "--field", metavar="KEY=VALUE", show_default=False,
        help="A typed field (repeatable): query parameter for GET/DELETE, else a body field.")] = None,
    file_field: Annotated[Optional[list[str]], typer.Option(
        "-F", "--field-file", metavar="KEY=@FILE", show_default=False,
        help="A field read from FILE (@- is stdin; repeatable); a file part in a multipart request.")] = None,
    body: Annotated[Optional[Path], typer.Option(
        "--body", "--input", metavar="FILE|-", show_default=False,
        help="A JSON object that forms the base of the body; fields are set on top.")] = None,
    multipart: Annotated[bool, typer.Option(
        "--multipart", help=f"Send a multipart form (automatic for {MULTIPART}).")] = False,
    paginate: Annotated[bool, typer.Option(
        "--paginate", help="GET every page (page/page_size) and print them as one list.")] = False,
    output: Annotated[ApiFormat, typer.Option(
        "-o", "--output", case_sensitive=False, show_default=False,
        help="json (indented, default) or jsonl (list items one per line).")] = ApiFormat.json,
) -> None:
    """Send a raw request to any API endpoint and print the reply."""
    env = env_of(ctx)
    verb = method.value
    target = raw.normalize_path(path, env.server_url)
    fields = [raw.split_field(spec, "-f") for spec in field or []]
    file_specs = [_file_spec(spec) for spec in file_field or []]
    if paginate and verb != "GET":
        raise UsageError("--paginate works with GET only")
    if paginate and not raw.pageable(target):
        raise UsageError(f"--paginate: GET {raw.bare_path(target)} is not a paged list (no page/page_size)")
    if multipart or raw.is_multipart(verb, target):
        _send_multipart(env, verb, target, fields, file_specs, body, output)
    elif verb in raw.QUERY_METHODS:
        _send_query(env, verb, target, fields, file_specs, body, paginate, output)
    else:
        _send_json(env, verb, target, fields, file_specs, body, output)


# -- parsing -----------------------------------------------------------------------------


def _file_spec(spec: str) -> tuple[str, str]:
    """`key=@file` -> (key, file); refuse a value without `@`."""
    key, value = raw.split_field(spec, "-F")
    if not value.startswith("@") or len(value) == 1:
        raise UsageError(f"-F: expected KEY=@FILE, got {spec!r}", hint="use -f for KEY=VALUE")
    return key, value[1:]


def _file_text(env: "Env", name: str) -> str:
    return read_text(env, name, "-F")


def _json_fields(env: "Env", fields: list[tuple[str, str]],
                 file_specs: list[tuple[str, str]]) -> list[tuple[str, Any]]:
    typed = [(key, raw.typed_value(value)) for key, value in fields]
    from_files = []
    for key, name in file_specs:
        text = _file_text(env, name)
        from_files.append((key, raw.json_container(text, text)))
    return typed + from_files


def _query_fields(env: "Env", fields: list[tuple[str, str]],
                  file_specs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    from_files = [(key, _file_text(env, name).rstrip("\r\n")) for key, name in file_specs]
    return [*fields, *from_files]


# -- the three request shapes ------------------------------------------------------------


def _send_query(env: "Env", verb: str, target: str, fields: list[tuple[str, str]],
                file_specs: list[tuple[str, str]], body: Path | None, paginate: bool,
                output: ApiFormat) -> None:
    if body is not None:
        raise UsageError(f"--body: a {verb} request has no body; use -f for query parameters")
    params = _query_fields(env, fields, file_specs)
    if paginate:
        _print_pages(env, target, params, output)
        return
    with raw.send(env.client, verb, target, params=params) as reply:
        print_reply(env, reply, output, remember=bool(raw.id_kind(verb, target)))


def _send_json(env: "Env", verb: str, target: str, fields: list[tuple[str, str]],
               file_specs: list[tuple[str, str]], body: Path | None, output: ApiFormat) -> None:
    base = read_json_object(env, body, "--body") if body is not None else None
    payload = raw.build_body(base, _json_fields(env, fields, file_specs))
    stream = payload.get("stream") is True
    with raw.send(env.client, verb, target, json_body=payload if payload or base is not None else None,
                  stream=stream) as reply:
        print_reply(env, reply, output, remember=bool(raw.id_kind(verb, target)))


def _send_multipart(env: "Env", verb: str, target: str, fields: list[tuple[str, str]],
                    file_specs: list[tuple[str, str]], body: Path | None, output: ApiFormat) -> None:
    if body is not None:
        raise UsageError("--body: a multipart request takes -f and -F fields, not a JSON body")
    data = raw.collect(fields)
    with ExitStack() as stack:
        parts = [_file_part(env, stack, key, name) for key, name in file_specs]

        def files() -> list:
            for _key, (_filename, handle, _mime) in parts:
                handle.seek(0)
            return parts

        with raw.send(env.client, verb, target, files=files if parts else None,
                      data=data or None) as reply:
            print_reply(env, reply, output, remember=bool(raw.id_kind(verb, target)))


def _file_part(env: "Env", stack: ExitStack, key: str, spec: str) -> tuple[str, tuple]:
    """A multipart file part for `-F KEY=@PATH[;filename=NAME]`, opened for streaming."""
    name, _, filename = spec.partition(";filename=")
    if name == "-":
        handle = io.BytesIO(_stdin_bytes(env))
        filename = filename or key
    else:
        path = existing_file(Path(name), "-F")
        handle = stack.enter_context(path.open("rb"))
        filename = filename or path.name
    mime = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    return key, (filename, handle, mime)


def _stdin_bytes(env: "Env") -> bytes:
    """All of stdin as bytes (a multipart part from `@-` is read whole, not streamed)."""
    stdin = need_stdin(env, "-F KEY=@-")
    buffer = getattr(stdin, "buffer", None)
    return buffer.read() if buffer is not None else stdin.read().encode("utf-8")


# -- output ------------------------------------------------------------------------------


def print_reply(env: "Env", reply: raw.Reply, output: ApiFormat, *, remember: bool = False) -> None:
    """Print a reply: JSON indented or as lines, text as is (without control characters on a
    terminal), events and bytes as they come; with REMEMBER, a JSON reply's objects go to
    the id cache."""
    if reply.kind == "json":
        if remember:
            remember_ids(env, list_items(reply.body))
        _print_json(env, reply.body, output)
    elif reply.kind == "text":
        env.stdout.write(for_stdout(env, reply.body))
        env.stdout.flush()
    elif reply.kind == "events":
        for event in reply.events:
            write_jsonl(env, [event])
    elif reply.kind == "bytes":
        _copy_bytes(env, reply.chunks)


def _print_json(env: "Env", body: Any, output: ApiFormat) -> None:
    if output is ApiFormat.json:
        write_json(env, body)
    else:
        write_jsonl(env, list_items(body))


def list_items(body: Any) -> list:
    """The items of a list reply (`data` of an object, or the array), else the body alone."""
    if isinstance(body, dict) and isinstance(body.get("data"), list):
        return body["data"]
    return body if isinstance(body, list) else [body]


def _copy_bytes(env: "Env", chunks: Any) -> None:
    """Copy a binary body to stdout as it is; on a terminal as text without control characters."""
    if env.stdout_isatty:
        _show_bytes(env, chunks)
        return
    env.stdout.flush()
    sink = getattr(env.stdout, "buffer", None)
    for chunk in chunks:
        if sink is None:
            env.stdout.write(chunk.decode("utf-8", "replace"))
        else:
            sink.write(chunk)
    (sink or env.stdout).flush()


def _show_bytes(env: "Env", chunks: Any) -> None:
    """A binary body on a terminal: decoded as UTF-8 (bad bytes replaced), controls removed."""
    import codecs

    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    for chunk in chunks:
        env.stdout.write(for_stdout(env, decoder.decode(chunk)))
    env.stdout.write(for_stdout(env, decoder.decode(b"", final=True)))
    env.stdout.flush()


def _print_pages(env: "Env", target: str, params: list[tuple[str, str]], output: ApiFormat) -> None:
    walked = []
    remember = bool(raw.id_kind("GET", target))
    for body, new in raw.pages(env.client, target, params):
        if remember:
            remember_ids(env, new if _is_list_page(body) else list_items(body))
        if output is ApiFormat.jsonl:
            write_jsonl(env, new if _is_list_page(body) else list_items(body))
        else:
            walked.append((body, new))
    if output is ApiFormat.json:
        write_json(env, raw.combine(walked))


def _is_list_page(body: Any) -> bool:
    return isinstance(body, dict) and isinstance(body.get("data"), list)
