import pytest

from app.accounts.identifiers import normalise_orcid, normalise_ror, orcid_check_digit
from app.accounts.services.people import check_password_strength
from app.core.errors import ValidationFailed


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("0000-0002-1825-0097", "0000-0002-1825-0097"),
        ("0000-0002-1694-233x", "0000-0002-1694-233X"),
        ("https://orcid.org/0000-0001-5109-3700", "0000-0001-5109-3700"),
        (" 0000000218250097 ", "0000-0002-1825-0097"),
    ],
)
def test_orcid_accepts_valid_ids_in_any_spelling(raw, canonical):
    assert normalise_orcid(raw) == canonical


@pytest.mark.parametrize("raw", ["0000-0002-1825-0098", "0000-0002-1825-009", "abcd-0002-1825-0097", "", None])
def test_orcid_refuses_bad_checksum_or_format(raw):
    assert normalise_orcid(raw) is None


def test_orcid_check_digit_is_iso_7064_mod_11_2():
    assert orcid_check_digit("000000021825009") == "7"
    assert orcid_check_digit("000000021694233") == "X"


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [("01ggx4157", "01ggx4157"), ("https://ror.org/05A28RW58", "05a28rw58"), ("02feahw73", "02feahw73")],
)
def test_ror_accepts_real_ids(raw, canonical):
    assert normalise_ror(raw) == canonical


@pytest.mark.parametrize("raw", ["01ggx4158", "11ggx4157", "01ggx41", "01ilx4157", "ror"])
def test_ror_refuses_bad_checksum_or_format(raw):
    assert normalise_ror(raw) is None


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("short", "password_too_short"),
        ("aaaaaaaaaaaa", "password_too_simple"),
        ("Password123!", "password_common"),
        ("1234567890", "password_common"),
        ("abcdefghijk", "password_common"),
        ("marie-curie-radium", "password_personal"),
        ("xx-mcurie-xx-77", "password_personal"),
    ],
)
def test_weak_passwords_are_refused_with_a_reason(password, code):
    with pytest.raises(ValidationFailed) as info:
        check_password_strength(password, email="mcurie@example.org", name="Marie Curie")
    assert info.value.code == code
    assert info.value.field == "password"


def test_a_long_unrelated_password_passes():
    check_password_strength("correct-horse-battery-42", email="mcurie@example.org", name="Marie Curie")
