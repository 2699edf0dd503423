"""PDFs (and not-PDFs) made in the tests with pypdf: no binary fixtures in the repository."""

from __future__ import annotations

import io

from pypdf import PdfWriter

PNG_BYTES = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)


def make_pdf(pages: int = 1, *, password: str | None = None, padding: int = 0) -> bytes:
    """A valid PDF of `pages` blank A4 pages (optionally encrypted, optionally padded in size)."""
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    if padding:
        writer.add_metadata({"/Padding": "x" * padding})
    if password:
        writer.encrypt(password)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def malformed_pdf() -> bytes:
    """A PDF header and the first half of a real PDF: the header looks right, nothing parses."""
    data = make_pdf(2)
    return data[: len(data) // 2]
