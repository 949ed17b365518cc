"""`mcli ocr DOCUMENT`: POST /v1/ocr on a local PDF or image, a URL, or an uploaded file.

The API takes a document only by URL (`document_url`) or as an image (`image_url`): a local
image goes inline as a base64 `data:` URL, any other local file is uploaded with purpose
`ocr` and sent by its signed URL (generation/attachments.py does both, for chat too), and
`file:ID` names a file uploaded earlier.
"""

from __future__ import annotations

import re
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional
from urllib.parse import urlsplit

import typer

from mistral_cli.api.operations import describe
from mistral_cli.bodies.shape import need_list, need_object
from mistral_cli.commands.shared.common_options import BodyOpt, FieldOpt, OutputOpt, env_of, epilog, number_option
from mistral_cli.commands.shared.spending import EstimateOpt, MaxCostOpt, start_ocr_run
from mistral_cli.errors import MCLIError, UnexpectedResponse, UsageError
from mistral_cli.generation import attachments
from mistral_cli.inputs import (DOCUMENT_LIMIT, DOCUMENT_SUFFIXES, check_upload, check_uuid, existing_file, is_stdin,
                                request_base, stdin_as_file)
from mistral_cli.numbers import Bound
from mistral_cli.render.output import OutputFormat, for_stdout, write_json, write_jsonl

if TYPE_CHECKING:  # pragma: no cover
    from mistral_cli.env import Env

REQUEST_FIELDS = frozenset({"model", "id", "document", "pages", "include_image_base64",
                            "image_limit", "image_min_size"})  # OCRRequest
DOCUMENT_CHUNK_TYPES = ("document_url",)  # DocumentURLChunk.type
OCR_ACCEPTS = "OCR reads PDF, Word (.docx) and PowerPoint (.pptx) files and images, of at most 50 MB"
IMAGE_CHUNK_TYPES = ("image_url",)  # ImageURLChunk.type
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".avif", ".bmp", ".tif", ".tiff")
MAX_PAGE = 99_999  # a sanity bound on page numbers (the spec sets none), so `0-10**9` cannot eat memory
PAGE_PART = re.compile(r"([0-9]+)(?:-([0-9]+))?", re.ASCII)
OCR = "ocr.ocr"  # the operation
OCR_REQUEST = describe(OCR)
PAGE_SEPARATOR = "\n\n<!-- page {index} -->\n\n"
STDIN = "-"  # the source of a document read from standard input


def register(root: typer.Typer) -> None:
    """Add the `ocr` command to the root app."""
    root.command("ocr", epilog=epilog(
        "mcli ocr report.pdf > report.md",
        "mcli ocr scan.png",
        "mcli ocr https://arxiv.org/pdf/2201.04234 --pages 0,2-4",
        "mcli ocr file:3fa85f64-5717-4562-b3fc-2c963f66afa6 -o json",
        "mcli ocr report.pdf --output-dir report/ --image-limit 10 --delete-upload",
        "mcli ocr report.pdf -F table_format=markdown -F include_blocks=true -o json"))(ocr)


def ocr(
    ctx: typer.Context,
    document: Annotated[str, typer.Argument(
        metavar="DOCUMENT", show_default=False,
        help="A local PDF or image ('-': standard input), an http(s) URL, or file:ID of an uploaded file.")],
    model: Annotated[Optional[str], typer.Option(
        "--model", "-m", show_default=False,
        help="Model; default: mistral-ocr-latest, or the profile's model.ocr.")] = None,
    pages: Annotated[Optional[str], typer.Option(
        "--pages", metavar="LIST", show_default=False,
        help="Pages to read, from 0: numbers and ranges, such as 0,2-4.")] = None,
    include_images: Annotated[Optional[bool], typer.Option(
        "--include-images/--no-images", show_default=False,
        help="Return extracted images as base64 (on by default with --output-dir).")] = None,
    image_limit: Annotated[Optional[int], number_option(
        Bound("--image-limit", 0, None, integer=True), show_default=False, help="Most images to extract.")] = None,
    image_min_size: Annotated[Optional[int], number_option(
        Bound("--image-min-size", 0, None, integer=True), show_default=False,
        help="Smallest height and width, in pixels, of an image to extract.")] = None,
    request_id: Annotated[Optional[str], typer.Option(
        "--id", show_default=False, help="An id for the request (sent as `id`).")] = None,
    output_dir: Annotated[Optional[Path], typer.Option(
        "--output-dir", "-d", metavar="DIR", show_default=False,
        help="Write one Markdown file per page and the extracted images into DIR.")] = None,
    force: Annotated[bool, typer.Option(
        "--force", "-f", help="With --output-dir: overwrite files already there.")] = False,
    document_name: Annotated[Optional[str], typer.Option(
        "--document-name", metavar="NAME", show_default=False,
        help="The document's name (sent as document_name; default: its file or URL name).")] = None,
    delete_upload: Annotated[bool, typer.Option(
        "--delete-upload", help="Delete the uploaded copy of a local document afterwards.")] = False,
    body: BodyOpt = None,
    body_fields: FieldOpt = None,
    max_cost: MaxCostOpt = None,
    estimate: EstimateOpt = False,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Read a document's text as Markdown, page by page (and its images)."""
    env = env_of(ctx)
    base = request_base(env, body, body_fields, REQUEST_FIELDS, "ocr")
    if "document" in base:
        raise UsageError("--body/-F: the document is the DOCUMENT argument, not a field")
    given = {"model": env.model("model.ocr", model, base.get("model")), "id": request_id,
             "pages": parse_pages(pages), "image_limit": image_limit,
             "image_min_size": image_min_size,
             "include_image_base64": True if include_images is None and output_dir else include_images}
    fields = {**base, **{key: value for key, value in given.items() if value is not None}}
    with ExitStack() as stack:
        if is_stdin(document):  # a document is sniffed, then uploaded with its length: a file
            path = stack.enter_context(stdin_as_file(env, "DOCUMENT"))
            source = plan_document(str(path))._replace(source=STDIN)  # named `-` in resume hints
        else:
            source = plan_document(document)
        if start_ocr_run(env, max_cost, estimate, fields.get("model"), source.kind, source.path, fields.get("pages"),
                         output):
            return
        _ocr(env, source, fields, document_name, output_dir, force, delete_upload, output)


def _ocr(env: "Env", source: attachments.Attachment, fields: dict, document_name: str | None,
         output_dir: Path | None, force: bool, delete_upload: bool, output: OutputFormat) -> None:
    """Send SOURCE for OCR (uploading a local document first) and show the answer."""
    if document_name is not None and source.kind == "image":
        raise UsageError("--document-name names a document; an image is sent without a name")
    if output_dir is not None:
        from mistral_cli.commands.ocr.output_dir import refuse_earlier_output

        refuse_earlier_output(output_dir, force)
    from mistral_cli.store.kept_answers import KeptAnswers

    kept = KeptAnswers(env, "ocr", {**fields, "document_name": document_name})
    request = document_key(source)
    body = kept.take(request)
    if body is None:
        body = _send(env, source, fields, document_name, delete_upload)
        pages_of(body)  # a malformed answer is never kept: the next run asks again
        kept.keep(request, body)  # before writing: a kill while writing (SIGKILL too) loses nothing
    kept.report(env)
    try:
        show(env, body, output, output_dir, force)
    except UnexpectedResponse:
        kept.forget(request)
        raise
    except BaseException as exc:  # the answer came but could not be written: it stays kept
        if kept.keep(request, body):
            _say_kept(env, exc)
        raise
    kept.forget(request)


def _send(env: "Env", source: attachments.Attachment, fields: dict, document_name: str | None,
          delete_upload: bool) -> dict:
    """Send SOURCE for OCR (uploading a local document first); the answer's body."""
    from mistral_cli.api.operations import call
    from mistral_cli.batchrun.resume import refused

    chunk, uploaded = to_chunk(env, source, delete_upload)
    if document_name is not None:
        chunk["document_name"] = document_name
    needed = True  # whether the command run again needs the upload (no sure answer came)
    try:
        body = call(env.client, OCR, json_body={"document": chunk, **{k: v for k, v in fields.items() if v is not None}})
        needed = False
        return body
    except KeyboardInterrupt:
        _say_interrupted(env, source)
        raise
    except MCLIError as exc:
        needed = not refused(exc)
        if needed:
            again = (f"the OCR request may have been processed and billed; it cannot be looked up on "
                     f"the server, so the command sends it again{_again(env, source)}")
            exc.hint = f"{exc.hint}; {again}" if exc.hint else again
        raise
    finally:
        if uploaded and delete_upload:
            _delete_upload(env, uploaded, needed)


def _delete_upload(env: "Env", file_id: str, needed: bool) -> None:
    """--delete-upload: delete FILE_ID, unless the command run again NEEDED it (then say so)."""
    from mistral_cli.api.operations import call

    if needed:
        env.info(f"kept the uploaded copy (file {file_id}) for the same command, which reuses it "
                 "instead of uploading again, then deletes it")
        return
    call(env.client, "files.delete", file_id)
    env.info(f"deleted the uploaded copy (file {file_id})")


def _say_interrupted(env: "Env", source: attachments.Attachment) -> None:
    """After Ctrl-C or SIGTERM during the OCR request: what may have happened, and the command."""
    env.info(f"interrupted: the OCR request for {source.name} may have reached the server and been "
             "billed; an OCR answer cannot be looked up on the server, so the command sends it again "
             f"(billed again if the first was processed){_again(env, source)}")


def _again(env: "Env", source: attachments.Attachment) -> str:
    """`: COMMAND`, the command that runs this one again (`, given the same standard input:
    COMMAND` for SOURCE `-`)."""
    from mistral_cli.batchrun.resume import this_command

    given = ", given the same standard input" if source.source == STDIN else ""
    return f"{given}: {this_command(env)}"


def document_key(source: attachments.Attachment) -> dict:
    """What identifies SOURCE's document for a kept answer: its bytes' SHA-256 for a local
    file (whatever its name), else its URL or file id."""
    if source.path is None:
        return {"kind": source.kind, "source": source.source}
    from mistral_cli.batchrun.fingerprint import file_digest

    try:
        digest, size = file_digest(source.path)
    except OSError as exc:
        raise UsageError(f"DOCUMENT: cannot read {source.path}: {exc.strerror}") from None
    return {"kind": source.kind, "sha256": digest, "size": size}


def _say_kept(env: "Env", exc: BaseException) -> None:
    """Say that the answer EXC kept from being written is kept for the same command."""
    line = "the answer is kept (it was paid for): the same command writes it without a new request"
    if isinstance(exc, MCLIError):
        exc.details.append(line)
    else:
        env.info(line)


# -- the --pages list ------------------------------------------------------------------------

def parse_pages(text: str | None) -> list[int] | None:
    """'0,2-4' as [0, 2, 3, 4] (duplicates dropped, order kept); the error names the bad part."""
    if text is None:
        return None
    found: dict[int, None] = {}
    for part in text.split(","):
        found.update(dict.fromkeys(page_range(part.strip())))
    return list(found)


def page_range(part: str) -> range:
    """One --pages part: N or FIRST-LAST."""
    match = PAGE_PART.fullmatch(part)
    if match is None:
        raise UsageError(f"--pages: {part!r} is not a page number or range "
                         "(expected numbers from 0 and ranges such as 0,2-4)")
    first = int(match.group(1))
    last = int(match.group(2)) if match.group(2) is not None else first
    if last > MAX_PAGE:
        raise UsageError(f"--pages: {part!r} goes past page {MAX_PAGE}")
    if last < first:
        raise UsageError(f"--pages: {part!r} ends before it starts")
    return range(first, last + 1)


# -- the document ------------------------------------------------------------------------------

def plan_document(value: str) -> attachments.Attachment:
    """DOCUMENT checked locally: file:ID, a URL, or an existing local file (no request)."""
    if value.startswith("file:"):
        check_uuid(value[5:], "file id in DOCUMENT")
        return attachments.Attachment(value, "file")
    if attachments.is_url(value):
        image = urlsplit(value).path.lower().endswith(IMAGE_SUFFIXES)
        return attachments.Attachment(value, "image" if image else "document")
    path = existing_file(Path(value).expanduser(), "DOCUMENT")
    mime = attachments.sniff(attachments.read_head(path, "DOCUMENT"))
    kind = "image" if mime and mime.startswith("image/") else "document"
    check_upload(path, "DOCUMENT", OCR_ACCEPTS, limit=DOCUMENT_LIMIT,
                 suffixes=() if mime else DOCUMENT_SUFFIXES)
    return attachments.Attachment(value, kind, path, mime)


def to_chunk(env: "Env", source: attachments.Attachment,
             delete_upload: bool = False) -> tuple[dict, str | None]:
    """The OCRRequest document for SOURCE, and the id of a file uploaded for it (or None)."""
    from mistral_cli.api.files import signed_url

    if source.kind == "file":
        url = signed_url(env.client, source.source[5:])
        return {"type": DOCUMENT_CHUNK_TYPES[0], "document_url": url}, None
    if source.kind == "image":
        url = source.source if source.path is None else attachments.data_url(source)
        return {"type": IMAGE_CHUNK_TYPES[0], "image_url": url}, None
    if source.path is None:
        return {"type": DOCUMENT_CHUNK_TYPES[0], "document_url": source.source,
                "document_name": source.name}, None
    file_id = upload_once(env, source, delete_upload)
    url = signed_url(env.client, file_id)
    return {"type": DOCUMENT_CHUNK_TYPES[0], "document_url": url, "document_name": source.name}, file_id


def upload_once(env: "Env", source: attachments.Attachment, delete_upload: bool) -> str:
    """The id of the file holding SOURCE's bytes (purpose ocr): an earlier upload still on the
    server, or one whose answer was lost, else uploaded now (batchrun/ocr_upload.py)."""
    from mistral_cli.batchrun import ocr_upload

    assert source.path is not None
    file_id, how = ocr_upload.upload_once(env, source.path, source.name, source.source == STDIN,
                                          lambda name: attachments.send_document(env, source, name))
    fate = ("deleted after use (--delete-upload)" if delete_upload
            else f"it stays in your account until `mcli files delete {file_id}`")
    done = {"uploaded": "uploaded", "reused": "reusing the earlier upload of",
            "found": "found the upload of"}[how]
    env.info(f"{done} {source.name} as file {file_id} (purpose ocr; {fate})")
    return file_id


# -- output ------------------------------------------------------------------------------------

def pages_of(body: object) -> list[dict]:
    """The OCRResponse BODY's pages; `unexpected response` when it has not that shape."""
    body = need_object(body, OCR_REQUEST)
    return [need_object(page, OCR_REQUEST, f"pages[{position}]")
            for position, page in enumerate(need_list(body.get("pages"), OCR_REQUEST, "pages"))]


def show(env: "Env", body: dict, output: OutputFormat, output_dir: Path | None, force: bool = False) -> None:
    """Print the OCRResponse: its body (json), a line per page (jsonl), or the Markdown."""
    pages = pages_of(body)
    if output_dir is not None:
        from mistral_cli.commands.ocr.output_dir import write_pages

        written = write_pages(env, output_dir, pages, force)
        if output is OutputFormat.json:
            write_json(env, body)
        else:
            env.stdout.write("".join(f"{path}\n" for path in written))
            env.stdout.flush()
    elif output is OutputFormat.json:
        write_json(env, body)
    elif output is OutputFormat.jsonl:
        write_jsonl(env, pages)
    elif output is OutputFormat.table and env.stdout_isatty:
        render_pages(env, pages)
    else:
        env.stdout.write(for_stdout(env, markdown(pages)) + "\n")
        env.stdout.flush()
    usage = body.get("usage_info") if isinstance(body.get("usage_info"), dict) else {}
    if env.stderr_isatty and usage.get("pages_processed") is not None:
        env.info(f"pages processed: {usage['pages_processed']}")


def markdown(pages: list[dict]) -> str:
    """Every page's Markdown; when there are several, each after a `<!-- page N -->` line."""
    if len(pages) == 1:
        return str(pages[0].get("markdown") or "")
    return "".join(_with_marker(page, position) for position, page in enumerate(pages))


def _with_marker(page: dict, position: int) -> str:
    """PAGE's Markdown after its `<!-- page N -->` line."""
    marker = PAGE_SEPARATOR.format(index=page.get("index"))
    return (marker.lstrip("\n") if position == 0 else marker) + str(page.get("markdown") or "")


def render_pages(env: "Env", pages: list[dict]) -> None:
    """The pages as rendered Markdown on a terminal, a rule naming each page (the server's
    text without its control characters, so no escape sequence gets through)."""
    from rich.markdown import Markdown
    from rich.rule import Rule

    from mistral_cli.render.safe_text import safe_markup, safe_text

    for page in pages:
        if len(pages) > 1:
            env.console.print(Rule(safe_markup(f"page {page.get('index')}"), style="dim"))
        env.console.print(Markdown(safe_text(page.get("markdown"))))
