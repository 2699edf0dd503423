"""Named permission predicates of the facility domain.

Admins alone edit the facility's own settings; staff (user office, admin) edit everything
else here; directors read all of it; instrument scientists read the calendar and capacity;
every logged-in person sees the instruments and cycles.
"""

from __future__ import annotations

from typing import Any

from app.accounts.models import Role
from app.accounts.permissions import is_admin, is_director, is_staff


def _is_person(actor: Any) -> bool:
    return actor is not None and getattr(actor, "is_authenticated", False) and getattr(actor, "id", None) is not None


def can_edit_facility_settings(actor: Any) -> bool:
    return is_admin(actor)


def can_manage_facility(actor: Any) -> bool:
    """Contributions, instruments, cycles, operating modes, the calendar, capacity overrides."""
    return is_staff(actor)


def can_view_facility_setup(actor: Any) -> bool:
    """The facility's settings and member contributions."""
    return is_staff(actor) or is_director(actor)


def can_view_instruments(actor: Any) -> bool:
    return _is_person(actor)


def can_view_cycles(actor: Any) -> bool:
    return _is_person(actor)


def is_instrument_scientist(actor: Any, instrument: Any = None) -> bool:
    """Instrument scientist of `instrument`, or of any instrument when none is given."""
    if not _is_person(actor):
        return False
    scope = None if instrument is None else getattr(instrument, "id", instrument)
    return actor.has_role(Role.INSTRUMENT_SCIENTIST, scope)


def can_view_calendar(actor: Any) -> bool:
    return is_staff(actor) or is_director(actor) or is_instrument_scientist(actor)


def can_view_capacity(actor: Any) -> bool:
    """Capacity is an internal planning number: staff, directors and instrument scientists."""
    return can_view_calendar(actor)
