"""The settings of the visits domain (declared once, read through small typed helpers)."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l

from app.core import settings
from app.visits import leadtime
from app.visits.checklist import Deadlines

settings.define(
    "visits.arrival_margin_days",
    int,
    2,
    _l("Days a visitor may arrive before the experiment starts"),
    minimum=0,
    maximum=30,
)
settings.define(
    "visits.departure_margin_days",
    int,
    2,
    _l("Days a visitor may stay after the experiment ends"),
    minimum=0,
    maximum=30,
)
settings.define(
    "visits.holidays",
    list,
    [],
    _l("Facility holidays (ISO dates, comma-separated), not counted as working days for access lead times"),
    item_check=lambda item: date.fromisoformat(str(item).strip()),
)
settings.define(
    "visits.citizenship_retention_days",
    int,
    30,
    _l("Days after a visit when citizenship and emergency contacts are erased"),
    minimum=0,
    maximum=3650,
)
settings.define(
    "visits.safety_review_hazards",
    list,
    ["radioactive", "biological", "toxic"],
    _l("Sample hazards that also need the safety reviewer's sign-off (comma-separated)"),
)
settings.define(
    "visits.registration_days", int, 14, _l("Days before arrival a visit registration is due"), minimum=0, maximum=180
)
settings.define(
    "visits.safety_days", int, 7, _l("Days before an experiment its safety sign-off is due"), minimum=0, maximum=180
)
settings.define(
    "visits.accommodation_days",
    int,
    14,
    _l("Days before arrival an accommodation request is due"),
    minimum=0,
    maximum=180,
)
settings.define(
    "visits.reminder_days",
    list,
    ["14", "7", "2"],
    _l("Days before a checklist deadline when reminders are sent (comma-separated)"),
)
settings.define(
    "visits.invitation_days", int, 14, _l("Days an invitation to take part in an experiment stays valid"), minimum=1
)


def margins() -> tuple[int, int]:
    return settings.get_int("visits.arrival_margin_days"), settings.get_int("visits.departure_margin_days")


def holidays() -> frozenset[date]:
    return leadtime.parse_holidays(settings.get("visits.holidays") or [])


def review_hazards() -> frozenset[str]:
    return frozenset(str(h).strip() for h in settings.get("visits.safety_review_hazards") or [])


def deadlines() -> Deadlines:
    return Deadlines(
        registration=settings.get_int("visits.registration_days"),
        safety=settings.get_int("visits.safety_days"),
        accommodation=settings.get_int("visits.accommodation_days"),
    )


def reminder_days() -> list[int]:
    out = set()
    for value in settings.get("visits.reminder_days") or []:
        try:
            out.add(int(str(value).strip()))
        except ValueError:
            continue
    return sorted(out)


def retention_days() -> int:
    return settings.get_int("visits.citizenship_retention_days")
