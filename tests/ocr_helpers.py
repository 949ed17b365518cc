"""Small OCR documents and answers the OCR tests build: a PNG, a PDF, pages and bodies."""

from __future__ import annotations

import struct
import zlib


def png_bytes() -> bytes:
    """A valid 1x1 grey PNG."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00\x80")) + chunk(b"IEND", b""))


def pdf_bytes() -> bytes:
    """A minimal one-page PDF with a cross-reference table."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>"]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def page(index: int, markdown: str, images: list | None = None) -> dict:
    return {"index": index, "markdown": markdown, "images": images or [],
            "dimensions": {"dpi": 200, "height": 2200, "width": 1700}}


def ocr_body(*pages: dict) -> dict:
    return {"model": "mistral-ocr-latest", "pages": list(pages),
            "usage_info": {"pages_processed": len(pages), "doc_size_bytes": 2048}}
