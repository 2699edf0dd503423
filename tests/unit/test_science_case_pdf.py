"""The science case check: by content, size, pages; and content-addressed storage."""

import hashlib

import pytest

from app.core.errors import NotFound, ValidationFailed
from app.proposals import storage
from app.proposals.pdfcheck import PdfLimits, check_pdf
from tests.pdfs import PNG_BYTES, make_pdf, malformed_pdf

LIMITS = PdfLimits(max_bytes=200_000, max_pages=3)


def refused(data: bytes, limits: PdfLimits = LIMITS) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as info:
        check_pdf(data, limits)
    assert info.value.field == "science_case"
    return info.value


def test_a_valid_pdf_is_accepted_with_its_hash_and_pages():
    data = make_pdf(3)
    checked = check_pdf(data, LIMITS)
    assert checked.pages == 3
    assert checked.sha256 == hashlib.sha256(data).hexdigest()
    assert checked.size == len(data)


def test_empty_file():
    assert refused(b"").code == "pdf_empty"


def test_png_renamed_pdf_is_named_as_png():
    error = refused(PNG_BYTES)
    assert error.code == "pdf_wrong_type"
    assert error.params["kind"] == "PNG"


def test_word_document_is_refused_as_office():
    assert refused(b"PK\x03\x04" + b"\x00" * 100).params["kind"] == "ZIP/Office"


def test_text_with_a_pdf_extension_is_not_a_pdf():
    assert refused(b"Dear panel, our science case is as follows...").code == "pdf_not_pdf"


def test_pdf_header_after_the_first_kilobyte_does_not_count():
    assert refused(b" " * 1100 + make_pdf(1)).code == "pdf_not_pdf"


def test_malformed_pdf():
    assert refused(malformed_pdf()).code == "pdf_malformed"


def test_header_only_pdf_is_malformed():
    assert refused(b"%PDF-1.7\n" + b"garbage " * 50).code == "pdf_malformed"


def test_over_the_page_limit():
    error = refused(make_pdf(4))
    assert error.code == "pdf_too_many_pages"
    assert error.params == {"field": "science_case", "pages": 4, "maximum": 3}


def test_at_the_page_limit_is_fine():
    assert check_pdf(make_pdf(3), LIMITS).pages == 3


def test_oversized_file_is_refused_before_parsing():
    error = refused(make_pdf(1, padding=5000), PdfLimits(max_bytes=4000, max_pages=3))
    assert error.code == "pdf_too_large"
    assert error.params["maximum_mb"] == "0.0"


def test_password_protected_pdf():
    assert refused(make_pdf(1, password="secret")).code == "pdf_encrypted"


def test_storage_is_content_addressed_and_byte_identical(tmp_path):
    data = make_pdf(2)
    checked = check_pdf(data, LIMITS)
    key = storage.store(tmp_path, checked.sha256, checked.data)
    assert key == f"science-case/{checked.sha256[:2]}/{checked.sha256}.pdf"
    assert storage.store(tmp_path, checked.sha256, checked.data) == key  # once
    with storage.open_file(tmp_path, key) as handle:
        assert handle.read() == data
    assert not list(tmp_path.rglob(".upload-*"))


@pytest.mark.parametrize("key", ["../etc/passwd", "science-case/ab/../../x.pdf", "", "science-case/zz/" + "a" * 64])
def test_storage_refuses_foreign_keys(tmp_path, key):
    with pytest.raises(NotFound):
        storage.open_file(tmp_path, key)


def test_storage_missing_file_is_not_found(tmp_path):
    with pytest.raises(NotFound):
        storage.open_file(tmp_path, storage.key_for("a" * 64))
