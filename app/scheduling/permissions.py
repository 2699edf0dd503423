"""Named permission predicates of the scheduling domain.

Staff (user office, admin) book instrument blocks directly and run the solver; directors and
instrument scientists see the free windows of the calendar.
"""

from __future__ import annotations

from typing import Any

from app.accounts.permissions import is_admin, is_director, is_staff
from app.facility.permissions import is_instrument_scientist


def can_book_blocks(actor: Any) -> bool:
    """Book maintenance, in-house research or a rapid-access slot on any instrument."""
    return is_staff(actor)


def can_view_free_windows(actor: Any) -> bool:
    return is_staff(actor) or is_director(actor) or is_instrument_scientist(actor)


def can_view_schedule(actor: Any) -> bool:
    """The awards of a cycle with their sessions: staff, directors, instrument scientists."""
    return can_view_free_windows(actor)


def can_solve_schedule(actor: Any) -> bool:
    return is_staff(actor)


def is_pi_of_award(actor: Any, award: Any) -> bool:
    if actor is None or getattr(actor, "id", None) is None or award is None:
        return False
    pi = award.proposal.pi
    return pi is not None and pi.user_id == actor.id


def can_book_rapid_access(actor: Any, award: Any) -> bool:
    """The PI of a rapid-access award books its sessions in a rapid-access slot; staff on their behalf."""
    return is_pi_of_award(actor, award) or is_staff(actor)


# --- calendars, feeds, the schedule API ----------------------------------------------------


def _is_person(actor: Any) -> bool:
    return actor is not None and getattr(actor, "is_authenticated", False) and getattr(actor, "id", None) is not None


def can_view_calendars(actor: Any) -> bool:
    """Timelines, the facility overview, running now, my experiments: every logged-in person
    (what each of them sees is filtered by `can_view_planned` and the proprietary rule)."""
    return _is_person(actor)


def can_view_planned(actor: Any, instrument: Any) -> bool:
    """Planned (draft) experiments of `instrument`: staff, directors, its instrument scientists."""
    return (
        is_staff(actor) or is_director(actor) or (instrument is not None and is_instrument_scientist(actor, instrument))
    )


def can_view_current(actor: Any, instrument: Any) -> bool:
    """Who is on `instrument` now, team and ORCID ids (beamline and data-catalogue systems use
    a token of one of these): staff, directors, its instrument scientists."""
    return can_view_planned(actor, instrument)


def can_manage_feeds(actor: Any) -> bool:
    """Make and revoke one's own iCal feeds."""
    return _is_person(actor)


def can_revoke_feed(actor: Any, feed: Any) -> bool:
    """The feed's owner, or an admin (e.g. a URL that leaked)."""
    return _is_person(actor) and (feed.user_id == actor.id or is_admin(actor))


# --- the schedule workflow (issue 7) ------------------------------------------------------


def can_plan_schedule(actor: Any) -> bool:
    """Solve a cycle from the web, see and compare its drafts: staff and instrument scientists."""
    return is_staff(actor) or is_instrument_scientist(actor)


def can_edit_draft(actor: Any, instrument: Any) -> bool:
    """Move, swap, pin, unpin, remove or add planned experiments on `instrument`: staff, and the
    instrument's own scientists."""
    return is_staff(actor) or is_instrument_scientist(actor, instrument)


def can_publish_schedule(actor: Any) -> bool:
    """Publish a cycle's planned experiments, change or cancel a published one: staff only."""
    return is_staff(actor)


def can_cancel_experiment(actor: Any) -> bool:
    return is_staff(actor)


def is_local_contact(actor: Any, experiment: Any) -> bool:
    return (
        actor is not None
        and getattr(actor, "id", None) is not None
        and experiment is not None
        and experiment.local_contact_id == actor.id
    )


def can_record_delivery(actor: Any, experiment: Any) -> bool:
    """Delivered shifts and lost time of an experiment that ended: its local contact, or staff."""
    return is_local_contact(actor, experiment) or is_staff(actor)
