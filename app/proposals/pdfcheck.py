"""The science case check: a PDF by content, within the size and page limits.

Pure: bytes and limits in, a `CheckedPdf` or a `ValidationFailed` on field "science_case"
out. The file name and the browser's content type are never trusted: the first bytes must be
a PDF header and pypdf must parse the document and every page up to the limit.
"""

from __future__ import annotations

import hashlib
import io
import logging
from dataclasses import dataclass

from pypdf import PdfReader

from app.core.errors import ValidationFailed

FIELD = "science_case"
#: Acrobat accepts the header anywhere in the first 1024 bytes; so do we, and no further.
HEADER_WINDOW = 1024
#: recognisable non-PDF files, so the message can say what was sent instead
_OTHER_KINDS: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF8", "GIF"),
    (b"PK\x03\x04", "ZIP/Office"),
    (b"\xd0\xcf\x11\xe0", "Office"),
    (b"{\\rtf", "RTF"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
)


@dataclass(frozen=True, slots=True)
class PdfLimits:
    max_bytes: int
    max_pages: int


@dataclass(frozen=True, slots=True)
class CheckedPdf:
    data: bytes
    sha256: str
    pages: int

    @property
    def size(self) -> int:
        return len(self.data)


def _refuse(code: str, **params) -> ValidationFailed:
    return ValidationFailed(code, field=FIELD, **params)


def sniff_kind(data: bytes) -> str | None:
    """The name of a recognisable non-PDF format, or None."""
    for magic, name in _OTHER_KINDS:
        if data.startswith(magic):
            return name
    return None


def megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}"


def check_pdf(data: bytes, limits: PdfLimits) -> CheckedPdf:
    """Accept `data` as a science case, or say precisely why not.

    Raises: ValidationFailed on field "science_case" with code pdf_empty, pdf_too_large,
    pdf_wrong_type, pdf_not_pdf, pdf_malformed, pdf_encrypted, pdf_no_pages or
    pdf_too_many_pages.
    """
    if not data:
        raise _refuse("pdf_empty")
    if len(data) > limits.max_bytes:
        raise _refuse("pdf_too_large", size_mb=megabytes(len(data)), maximum_mb=megabytes(limits.max_bytes))
    if b"%PDF-" not in data[:HEADER_WINDOW]:
        kind = sniff_kind(data)
        if kind:
            raise _refuse("pdf_wrong_type", kind=kind)
        raise _refuse("pdf_not_pdf")
    pages = _count_pages(data, limits.max_pages)
    return CheckedPdf(data=data, sha256=hashlib.sha256(data).hexdigest(), pages=pages)


def _count_pages(data: bytes, max_pages: int) -> int:
    pypdf_log = logging.getLogger("pypdf")
    level = pypdf_log.level
    pypdf_log.setLevel(logging.ERROR)  # malformed uploads are expected here, not log noise
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise _refuse("pdf_encrypted")
        count = len(reader.pages)
        if count == 0:
            raise _refuse("pdf_no_pages")
        if count > max_pages:
            raise _refuse("pdf_too_many_pages", pages=count, maximum=max_pages)
        for page in reader.pages:  # every page must parse, not just the page count
            _ = page.mediabox
            page.get_contents()
        return count
    except ValidationFailed:
        raise
    except Exception as exc:  # a parser on untrusted bytes can fail in any way: it is "malformed"
        raise _refuse("pdf_malformed") from exc
    finally:
        pypdf_log.setLevel(level)
