"""Response bodies read within bounds, however the server compressed them.

httpx inflates a whole network chunk at once, and each Content-Encoding layer at once: 64 KiB
of gzip can become 64 MiB, and `gzip, gzip` 64 GiB, before a caller sees a byte. Here the
body is read raw and inflated at most STEP bytes at a time, so what is held is bounded by the
caller's limit whatever the ratio:

    decoded_chunks(response)   the decoded body, piece by piece (downloads: not capped)
    decoded_text(response)     the same as UTF-8 text (event streams)
    read_body(response, ...)   the whole decoded body up to a limit (MAX_BODY for JSON), an
                               APIError past it; or cut at the limit (error bodies)

mcli asks for ACCEPT_ENCODING only; a body in another encoding (br, zstd, ...) is refused
rather than passed on undecoded. A layer ends at the end of its compressed stream: trailing
data is not inflated.
"""

from __future__ import annotations

import codecs
import zlib
from collections.abc import Callable, Iterable, Iterator

import httpx

from mistral_cli.errors import APIError, NetworkError

MiB = 1024 * 1024
MAX_BODY = 64 * MiB  # a JSON answer, decoded
MAX_ERROR_BODY = MiB  # an error answer: only its message is shown
STEP = 64 * 1024  # the most one inflate call may produce
ACCEPT_ENCODING = "gzip, deflate"
MAX_ENCODINGS = 2  # Content-Encoding layers accepted on one body


def read_body(response: httpx.Response, limit: int | None = None, *, what: str = "the answer",
              cut: bool = False) -> bytearray:
    """The decoded body of RESPONSE, at most LIMIT bytes (MAX_BODY by default): past it an
    APIError naming WHAT, or with CUT the first LIMIT bytes."""
    limit = MAX_BODY if limit is None else limit
    body = bytearray()
    for chunk in decoded_chunks(response):
        body += chunk
        if len(body) > limit:
            if cut:
                del body[limit:]
                return body
            raise APIError(f"{what} is larger than {_size(limit)} once decoded; mcli stopped reading it",
                           status=response.status_code)
    return body


def decoded_text(response: httpx.Response) -> Iterator[str]:
    """The decoded body of RESPONSE as UTF-8 text (bad bytes replaced), piece by piece."""
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    for chunk in decoded_chunks(response):
        text = decoder.decode(chunk)
        if text:
            yield text
    tail = decoder.decode(b"", final=True)
    if tail:
        yield tail


def decoded_chunks(response: httpx.Response) -> Iterator[bytes]:
    """The body of RESPONSE with its Content-Encoding undone, no piece over STEP bytes when
    it was compressed."""
    if response.is_stream_consumed:  # preloaded (a test transport): httpx already decoded it
        return iter([response.content])
    chunks: Iterable[bytes] = response.iter_raw()
    for encoding in reversed(_encodings(response)):
        chunks = DECODERS[encoding](chunks)
    return iter(chunks)


def _encodings(response: httpx.Response) -> list[str]:
    """The Content-Encoding layers of RESPONSE, in the order they were applied; a NetworkError
    for one mcli did not ask for, or too many."""
    found = [value.strip().lower() for value in response.headers.get_list("content-encoding", split_commas=True)]
    found = [value for value in found if value and value != "identity"]
    unknown = [value for value in found if value not in DECODERS]
    if unknown:
        raise NetworkError(f"the server sent a body in Content-Encoding {unknown[0][:40]!r}, which mcli "
                           f"did not ask for (it accepts {ACCEPT_ENCODING})")
    if len(found) > MAX_ENCODINGS:
        raise NetworkError(f"the server sent a body compressed {len(found)} times over "
                           f"(Content-Encoding {', '.join(found)[:80]}); mcli did not read it")
    return found


def _inflate(wbits: int, raw_fallback: bool = False) -> Callable[[Iterable[bytes]], Iterator[bytes]]:
    """A decoder: CHUNKS inflated with zlib WBITS, STEP bytes at most per piece. With
    RAW_FALLBACK a stream whose first bytes are not a zlib header is read as raw deflate
    (servers send both as `deflate`, as httpx allows)."""

    def decode(chunks: Iterable[bytes]) -> Iterator[bytes]:
        inflater, fresh = zlib.decompressobj(wbits), raw_fallback
        for data in chunks:
            while True:
                try:
                    piece = inflater.decompress(data, STEP)
                except zlib.error as exc:
                    if not fresh:
                        raise NetworkError(f"the server sent a compressed body that does not inflate ({exc})") from None
                    inflater, fresh = zlib.decompressobj(-zlib.MAX_WBITS), False
                    continue
                fresh = False
                data = inflater.unconsumed_tail
                if piece:
                    yield piece
                if inflater.eof:
                    return
                if not data and len(piece) < STEP:
                    break
        tail = inflater.flush()
        if tail:
            yield tail

    return decode


DECODERS: dict[str, Callable[[Iterable[bytes]], Iterator[bytes]]] = {
    "gzip": _inflate(zlib.MAX_WBITS | 16),
    "x-gzip": _inflate(zlib.MAX_WBITS | 16),
    "deflate": _inflate(zlib.MAX_WBITS, raw_fallback=True),
}


def _size(count: int) -> str:
    """COUNT bytes as `64 MiB` (or `300 bytes`)."""
    return f"{count // MiB} MiB" if count >= MiB and count % MiB == 0 else f"{count} bytes"
