"""`mcli ocr --output-dir`: one Markdown file per page and the extracted images beside them,
decoded from base64, with the Markdown's image links rewritten to the files written."""

from __future__ import annotations

import base64
import binascii
import mimetypes
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mistral_cli.commands.files import safe_basename
from mistral_cli.errors import UsageError

if TYPE_CHECKING:  # pragma: no cover
    from mistral_cli.env import Env


def write_pages(env: "Env", directory: Path, pages: list[dict]) -> list[Path]:
    """Write every page (and its images) into DIRECTORY; return the Markdown files written."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--output-dir: cannot create {directory}: {exc.strerror}") from None
    written: list[Path] = []
    images = 0
    for position, page in enumerate(pages):
        stem = page_stem(page, position)
        text = str(page.get("markdown") or "")
        for image in page.get("images") or []:
            name = write_image(env, directory, stem, image)
            if name is not None:
                text = text.replace(f"]({image['id']})", f"]({name})")
                images += 1
        path = directory / f"{stem}.md"
        path.write_text(text + ("" if text.endswith("\n") else "\n"), encoding="utf-8")
        written.append(path)
    env.info(f"wrote {len(written)} page(s) and {images} image(s) to {directory}")
    return written


def page_stem(page: dict, position: int) -> str:
    """'page-002' from the page's index (its position in the answer if it has none)."""
    index = page.get("index")
    return f"page-{index if isinstance(index, int) and index >= 0 else position:03d}"


def write_image(env: "Env", directory: Path, stem: str, image: Any) -> str | None:
    """Decode one OCRImageObject into DIRECTORY; return its file name, or None if it has no data."""
    if not isinstance(image, dict) or not isinstance(image.get("image_base64"), str):
        return None
    image_id = safe_basename(image.get("id")) or "image"
    data, mime = decode(image["image_base64"])
    if data is None:
        env.info(f"warning: image {image_id} on {stem} is not valid base64; skipped")
        return None
    name = f"{stem}-{image_id}"
    if "." not in image_id and mime:
        name += mimetypes.guess_extension(mime) or ""
    (directory / name).write_bytes(data)
    return name


def decode(value: str) -> tuple[bytes | None, str | None]:
    """A base64 string or `data:MIME;base64,...` URL as its bytes and MIME type."""
    mime = None
    if value.startswith("data:"):
        header, _, value = value.partition(",")
        mime = header[5:].split(";", 1)[0] or None
    try:
        return base64.b64decode(value, validate=True), mime
    except (binascii.Error, ValueError):
        return None, mime
