"""Countries: ISO 3166-1 alpha-2 codes from pycountry, plus Kosovo (XK), with names from Babel.

Reference data in code, not a table: a country is its code everywhere in the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import pycountry
from babel import Locale

#: user-assigned code in wide use; pycountry does not have it
EXTRA = {"XK": ("Kosovo", None)}


@dataclass(frozen=True, slots=True)
class Country:
    code: str
    name: str  # English (ISO) name
    numeric: str | None  # ISO 3166-1 numeric, what world maps use; None for XK


@cache
def _all() -> dict[str, Country]:
    found = {
        c.alpha_2: Country(c.alpha_2, getattr(c, "common_name", None) or c.name, c.numeric) for c in pycountry.countries
    }
    for code, (name, numeric) in EXTRA.items():
        found[code] = Country(code, name, numeric)
    return found


def is_valid(code: str | None) -> bool:
    return bool(code) and code.upper() == code and code in _all()


def get(code: str) -> Country:
    """The country with this alpha-2 code. Raises KeyError for an unknown code."""
    return _all()[code]


def all_codes() -> list[str]:
    return sorted(_all())


def name(code: str, locale: str = "en") -> str:
    """The country's name in `locale` (Babel's territory names), falling back to English."""
    try:
        localized = Locale.parse(locale).territories.get(code)
    except (ValueError, TypeError):
        localized = None
    if localized:
        return localized
    country = _all().get(code)
    return country.name if country else code


def choices(locale: str = "en") -> list[tuple[str, str]]:
    """(code, name) pairs sorted by name in `locale`, for select fields."""
    return sorted(((c, name(c, locale)) for c in _all()), key=lambda pair: pair[1].casefold())
