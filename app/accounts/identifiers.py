"""Persistent identifiers of people and institutions: ORCID iDs and ROR ids.

Pure functions (no Flask, no database): each `normalise_*` accepts what people paste (the bare
id or its URL, any case, surrounding spaces) and returns the canonical form, or None when the
value is not a valid identifier — the checksum included.
"""

from __future__ import annotations

import re

_ORCID_RE = re.compile(r"^(\d{4})-?(\d{4})-?(\d{4})-?(\d{3}[\dX])$")
_ORCID_URL = re.compile(r"^(?:https?://)?(?:www\.)?orcid\.org/", re.IGNORECASE)

#: Crockford base32 without i, l, o, u — the alphabet of ROR ids
_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"
_ROR_RE = re.compile(r"^0[0-9a-hjkmnp-tv-z]{6}[0-9]{2}$")
_ROR_URL = re.compile(r"^(?:https?://)?(?:www\.)?ror\.org/", re.IGNORECASE)


def orcid_check_digit(base_digits: str) -> str:
    """ISO 7064 MOD 11-2 check character of the first 15 digits of an ORCID iD."""
    total = 0
    for digit in base_digits:
        total = (total + int(digit)) * 2
    result = (12 - total % 11) % 11
    return "X" if result == 10 else str(result)


def normalise_orcid(value: str | None) -> str | None:
    """ "0000-0002-1825-0097" for any accepted spelling of a valid ORCID iD, else None."""
    text = _ORCID_URL.sub("", (value or "").strip()).upper()
    match = _ORCID_RE.match(text)
    if not match:
        return None
    digits = "".join(match.groups())
    if orcid_check_digit(digits[:15]) != digits[15]:
        return None
    return "-".join(match.groups())


def is_valid_orcid(value: str | None) -> bool:
    return normalise_orcid(value) is not None


def ror_checksum(prefix: str) -> str:
    """The two check digits of a ROR id: ISO 7064 MOD 97-10 of its base32 number (7 chars)."""
    number = 0
    for char in prefix:
        number = number * 32 + _CROCKFORD.index(char)
    return f"{98 - (number * 100) % 97:02d}"


def normalise_ror(value: str | None) -> str | None:
    """ "05a28rw58" for any accepted spelling of a valid ROR id (bare or https://ror.org/…), else None."""
    text = _ROR_URL.sub("", (value or "").strip()).lower()
    if not _ROR_RE.match(text):
        return None
    if ror_checksum(text[:7]) != text[7:]:
        return None
    return text


def is_valid_ror(value: str | None) -> bool:
    return normalise_ror(value) is not None
