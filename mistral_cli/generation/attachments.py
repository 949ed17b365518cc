"""-a/--attach and --doc: images as `data:` URLs, documents as signed URLs of uploaded files.

Local files are checked (existence, readability, type from their first bytes) before any
request. A local document is uploaded with purpose `ocr` and stays in the account; the saved
conversation keeps its file id in the chunk (`mcli_file_id`, stripped before sending), so a
later turn asks for a fresh signed URL instead of reusing an expired one.
"""

from __future__ import annotations

import base64
from pathlib import Path, PurePosixPath
from typing import Any, NamedTuple, TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from mistral_cli.errors import UsageError
from mistral_cli.inputs import DOCUMENT_LIMIT, DOCUMENT_SUFFIXES, check_upload, existing_file

if TYPE_CHECKING:  # pragma: no cover
    from mistral_cli.env import Env
    from mistral_cli.http.client import HTTPClient

FILE_ID_KEY = "mcli_file_id"
IMAGE_SIGNATURES = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"),
                    (b"GIF87a", "image/gif"), (b"GIF89a", "image/gif"))
PDF_SIGNATURE = b"%PDF-"
DOCUMENTS_ACCEPTED = "a document is a PDF, Word (.docx) or PowerPoint (.pptx) file of at most 50 MB"
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".gif", ".webp"})
URL_SCHEMES = ("http://", "https://")


class Attachment(NamedTuple):
    """One thing to attach: an image or a document, a local file or a URL."""

    source: str
    kind: str  # "image" | "document"
    path: Path | None = None
    mime: str | None = None

    @property
    def name(self) -> str:
        """The file name shown to the model for a document."""
        if self.path is not None:
            return self.path.name
        return unquote(urlsplit(self.source).path.rsplit("/", 1)[-1]) or self.source


def sniff(head: bytes) -> str | None:
    """The MIME type of an image or PDF from its first bytes, or None."""
    for signature, mime in IMAGE_SIGNATURES:
        if head.startswith(signature):
            return mime
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(PDF_SIGNATURE):
        return "application/pdf"
    return None


def is_url(value: str) -> bool:
    """Whether VALUE is an http(s) URL rather than a local path."""
    return value.lower().startswith(URL_SCHEMES)


def plan(attach: list[str], docs: list[str]) -> list[Attachment]:
    """Check every -a/--attach and --doc value locally; return them in order (no request)."""
    return [classify(value, "-a/--attach") for value in attach] + \
           [classify(value, "--doc", document=True) for value in docs]


def classify(value: str, option: str, document: bool = False) -> Attachment:
    """One attachment: a URL by its name, a local file by its content."""
    if is_url(value):
        return Attachment(value, "document" if document else url_kind(value, option))
    path = existing_file(Path(value).expanduser(), option)
    mime = sniff(read_head(path, option))
    if document or mime == "application/pdf":  # uploaded as a document: the document limits apply
        check_upload(path, option, DOCUMENTS_ACCEPTED, limit=DOCUMENT_LIMIT,
                     suffixes=() if mime else DOCUMENT_SUFFIXES)
    if document:
        return Attachment(value, "document", path, mime)
    if mime is None:
        raise UsageError(f"{option}: {value} is neither an image (PNG, JPEG, GIF, WebP) nor a PDF",
                         hint="attach other documents with --doc; pipe text files on stdin")
    return Attachment(value, "document" if mime == "application/pdf" else "image", path, mime)


def url_kind(url: str, option: str) -> str:
    """An -a/--attach URL's kind by its name's suffix: a PDF, an image, or (no suffix) an image;
    a suffix mcli does not know is refused, as a local file of that type would be."""
    suffix = PurePosixPath(unquote(urlsplit(url).path)).suffix.lower()
    if suffix == ".pdf":
        return "document"
    if suffix in IMAGE_SUFFIXES or not suffix:
        return "image"
    raise UsageError(f"{option}: {url} is neither an image (PNG, JPEG, GIF, WebP) nor a PDF by its name",
                     hint="attach other documents with --doc")


def read_head(path: Path, option: str) -> bytes:
    """The first bytes of PATH, for sniffing."""
    try:
        with path.open("rb") as handle:
            return handle.read(16)
    except OSError as exc:
        raise UsageError(f"{option}: cannot read {path}: {exc.strerror}") from None


# -- turning attachments into content chunks (uploads happen here) -------------------------------

class DocumentLinks:
    """Signed URLs of uploaded documents, fetched once per file id in this process."""

    def __init__(self, client: "HTTPClient"):
        self._client = client
        self._urls: dict[str, str] = {}

    def remember(self, file_id: str, url: str) -> None:
        """Keep a URL just obtained for FILE_ID."""
        self._urls[file_id] = url

    def url(self, file_id: str) -> str:
        """A signed URL for FILE_ID (asked for once, then reused)."""
        if file_id not in self._urls:
            from mistral_cli.api.files import signed_url

            self._urls[file_id] = signed_url(self._client, file_id)
        return self._urls[file_id]

    def for_api(self, messages: list[dict]) -> list[dict]:
        """MESSAGES as the API takes them: uploaded documents get a fresh URL, our key removed."""
        return [self._message_for_api(m) if _has_uploads(m) else m for m in messages]

    def _message_for_api(self, message: dict) -> dict:
        content = [self._chunk_for_api(chunk) for chunk in message["content"]]
        return {**message, "content": content}

    def _chunk_for_api(self, chunk: Any) -> Any:
        if not isinstance(chunk, dict) or FILE_ID_KEY not in chunk:
            return chunk
        sent = {k: v for k, v in chunk.items() if k != FILE_ID_KEY}
        sent["document_url"] = self.url(chunk[FILE_ID_KEY])
        return sent


def _has_uploads(message: dict) -> bool:
    content = message.get("content")
    return isinstance(content, list) and any(
        isinstance(chunk, dict) and FILE_ID_KEY in chunk for chunk in content)


def to_chunks(env: "Env", attachments: list[Attachment], links: DocumentLinks) -> list[dict]:
    """Content chunks for ATTACHMENTS, uploading local documents (chunks as saved)."""
    return [to_chunk(env, attachment, links) for attachment in attachments]


def to_chunk(env: "Env", attachment: Attachment, links: DocumentLinks) -> dict:
    """One content chunk: image_url or document_url."""
    if attachment.kind == "image":
        url = attachment.source if attachment.path is None else data_url(attachment)
        return {"type": "image_url", "image_url": url}
    if attachment.path is None:
        return {"type": "document_url", "document_url": attachment.source,
                "document_name": attachment.name}
    file_id, url = upload_document(env, attachment)
    links.remember(file_id, url)
    return {"type": "document_url", "document_url": url, "document_name": attachment.name,
            FILE_ID_KEY: file_id}


def data_url(attachment: Attachment) -> str:
    """A local image as a base64 `data:` URL."""
    assert attachment.path is not None
    encoded = base64.b64encode(attachment.path.read_bytes()).decode("ascii")
    return f"data:{attachment.mime};base64,{encoded}"


def upload_document(env: "Env", attachment: Attachment, deleted_after: bool = False) -> tuple[str, str]:
    """Upload a local document (purpose ocr); return its file id and a signed URL. The note
    says where the copy goes: kept in the account, or DELETED_AFTER use (--delete-upload)."""
    from mistral_cli.api.files import signed_url
    from mistral_cli.batchrun.adopt import answer_id

    file_id = answer_id(send_document(env, attachment), "files.upload")
    fate = ("deleted after use (--delete-upload)" if deleted_after
            else f"it stays in your account until `mcli files delete {file_id}`")
    env.info(f"uploaded {attachment.name} as file {file_id} (purpose ocr; {fate})")
    return file_id, signed_url(env.client, file_id)


def send_document(env: "Env", attachment: Attachment, name: str | None = None) -> dict:
    """Upload a local document (purpose ocr, under NAME or its own name) with a progress bar;
    the UploadFileOut."""
    from mistral_cli.api import files
    from mistral_cli.render.progress import progress_bar

    assert attachment.path is not None
    size = attachment.path.stat().st_size
    with progress_bar(env, f"uploading {attachment.name}", size) as on_progress:
        return files.upload_file(env.client, attachment.path, purpose="ocr", name=name, on_progress=on_progress)
