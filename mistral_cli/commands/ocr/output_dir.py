"""`mcli ocr --output-dir`: one Markdown file per page and the extracted images beside them,
decoded from base64, with the Markdown's image links rewritten to the files written.

File names come from values mcli checked, never from the server's strings: `page-002.md`
from the page's index (an integer from 0 to MAX_INDEX, else its position in the answer),
`page-002-img-0.png` from the image's position on its page and a suffix from a short list
of image types (the type read from the image's first bytes, else the declared one). Every
name is planned before anything is written: two pages that would share a name (a repeated
index) make the answer an error, since mcli cannot tell which one is that page; an existing
file stops the run before anything is written, unless --force. Each file is written through
safe_files (temporary file renamed when complete, no symlink followed).
"""

from __future__ import annotations

import base64
import binascii
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from mistral_cli.api.operations import describe
from mistral_cli.bodies.shape import need_list
from mistral_cli.errors import MCLIError, UnexpectedResponse, UsageError
from mistral_cli.generation.attachments import sniff
from mistral_cli.safe_files import refuse_existing, write_bytes

if TYPE_CHECKING:  # pragma: no cover
    from mistral_cli.env import Env

OCR_REQUEST = describe("ocr.ocr")
MAX_INDEX = 99_999  # as ocr.MAX_PAGE: a page index past it is not trusted as a name
IMAGE_SUFFIXES = {"image/png": ".png", "image/jpeg": ".jpeg", "image/gif": ".gif", "image/webp": ".webp",
                  "image/avif": ".avif", "image/bmp": ".bmp", "image/tiff": ".tiff"}
EARLIER_OUTPUT = re.compile(r"page-[0-9]{3,}(\.md|-img-[0-9]+(\.[a-z]+)?)", re.ASCII)


class OutFile(NamedTuple):
    """One file to write: its name (built by mcli) and its bytes."""

    name: str
    data: bytes


def refuse_earlier_output(directory: Path, force: bool) -> None:
    """Before the request is paid for: refuse a DIRECTORY that is not a folder, or that already
    holds OCR output (page-NNN files), unless FORCE."""
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"--output-dir: {directory} exists and is not a folder")
    if force or not directory.is_dir():
        return
    earlier = sorted(entry.name for entry in directory.iterdir() if EARLIER_OUTPUT.fullmatch(entry.name))
    if earlier:
        raise UsageError(f"--output-dir: {directory} already holds OCR output ({earlier[0]}); "
                         "use --force to overwrite it, or choose another folder")


def write_pages(env: "Env", directory: Path, pages: list[dict], force: bool = False) -> list[Path]:
    """Write every page (and its images) into DIRECTORY; return the Markdown files written."""
    files, page_names = plan_files(env, pages)
    for out in files:
        refuse_existing(directory, out.name, force)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--output-dir: cannot create {directory}: {exc.strerror}") from None
    for out in files:
        write_bytes(directory, out.name, out.data, force=force)
    env.info(f"wrote {len(page_names)} page(s) and {len(files) - len(page_names)} image(s) to {directory}")
    return [directory / name for name in page_names]


def plan_files(env: "Env", pages: list[dict]) -> tuple[list[OutFile], list[str]]:
    """Every file to write (images before their page) and the pages' file names, in order."""
    files: list[OutFile] = []
    page_names: list[str] = []
    taken: dict[str, int] = {}
    for position, page in enumerate(pages):
        stem = page_stem(page, position)
        if stem in taken:
            raise _repeated(stem, taken[stem], position)
        taken[stem] = position
        text = str(page.get("markdown") or "")
        images = need_list(page.get("images"), OCR_REQUEST, f"pages[{position}].images")
        for number, image in enumerate(images):
            out = plan_image(env, stem, number, image)
            if out is not None:
                files.append(out)
                text = relink(text, image, out.name)
        page_names.append(f"{stem}.md")
        files.append(OutFile(page_names[-1], (text + ("" if text.endswith("\n") else "\n")).encode("utf-8")))
    return files, page_names


def page_stem(page: dict, position: int) -> str:
    """'page-002' from the page's index (its position in the answer if it has no usable one)."""
    index = page.get("index")
    usable = isinstance(index, int) and not isinstance(index, bool) and 0 <= index <= MAX_INDEX
    return f"page-{index if usable else position:03d}"


class RepeatedPage(UnexpectedResponse):
    """Two pages of one answer that would share a file name: a malformed answer (never kept)."""

    def __init__(self, stem: str, first: int, second: int):
        MCLIError.__init__(self, f"unexpected response from {OCR_REQUEST}: pages[{first}] and pages[{second}] "
                           f"would both be {stem}.md (a repeated page index); nothing was written",
                           hint="-o json prints the answer as the server sent it")
        self.request, self.where, self.what = OCR_REQUEST, f"pages[{second}]", "a repeated page index"


def _repeated(stem: str, first: int, second: int) -> MCLIError:
    """The error for two pages of one answer that would share a file name."""
    return RepeatedPage(stem, first, second)


def plan_image(env: "Env", stem: str, number: int, image: Any) -> OutFile | None:
    """Image NUMBER of a page decoded, named STEM-img-NUMBER.SUFFIX; None if it has no data."""
    if not isinstance(image, dict) or not isinstance(image.get("image_base64"), str):
        return None
    data, declared = decode(image["image_base64"])
    if data is None:
        env.warn(f"image {number} on {stem} is not valid base64; skipped")
        return None
    suffix = IMAGE_SUFFIXES.get(sniff(data[:16]) or "") or IMAGE_SUFFIXES.get(declared or "", "")
    return OutFile(f"{stem}-img-{number}{suffix}", data)


def relink(text: str, image: dict, name: str) -> str:
    """TEXT with Markdown links to the image's id pointed at NAME, the file written."""
    image_id = image.get("id")
    if not isinstance(image_id, str) or not image_id:
        return text
    return text.replace(f"]({image_id})", f"]({name})")


def decode(value: str) -> tuple[bytes | None, str | None]:
    """A base64 string or `data:MIME;base64,...` URL as its bytes and declared MIME type."""
    mime = None
    if value.startswith("data:"):
        header, _, value = value.partition(",")
        mime = header[5:].split(";", 1)[0].lower() or None
    try:
        return base64.b64decode(value, validate=True), mime
    except (binascii.Error, ValueError):
        return None, mime
