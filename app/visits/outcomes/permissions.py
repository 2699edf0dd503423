"""Named permission predicates of experiment reports and publications.

Reports: the proposal's team (PI and co-proposers) writes; staff, directors, the local contact
and the instrument's scientists read. Publications: facts anyone logged in may read; the team
of a linked proposal and staff add them; staff or whoever added one removes it.
"""

from __future__ import annotations

from typing import Any

from app.accounts.models import Role
from app.accounts.permissions import is_director, is_staff
from app.proposals.permissions import can_view_proposal, is_team_member


def _is_person(actor: Any) -> bool:
    return actor is not None and getattr(actor, "is_authenticated", False) and getattr(actor, "id", None) is not None


def can_write_report(actor: Any, experiment: Any) -> bool:
    """The PI and co-proposers of the experiment's proposal."""
    return is_team_member(actor, experiment.award.proposal)


def can_read_report(actor: Any, experiment: Any) -> bool:
    if can_write_report(actor, experiment) or is_staff(actor) or is_director(actor):
        return True
    if not _is_person(actor):
        return False
    if experiment.local_contact_id == actor.id:
        return True
    return actor.has_role(Role.INSTRUMENT_SCIENTIST, experiment.booking.instrument_id)


def can_list_reports(actor: Any) -> bool:
    """Every ended experiment and its report state (overdue ones first): staff and directors."""
    return is_staff(actor) or is_director(actor)


def can_read_publications(actor: Any) -> bool:
    return _is_person(actor)


def can_add_publication(actor: Any, proposal: Any) -> bool:
    return is_team_member(actor, proposal) or is_staff(actor)


def can_view_proposal_publications(actor: Any, proposal: Any) -> bool:
    return can_view_proposal(actor, proposal)


def can_remove_publication(actor: Any, publication: Any) -> bool:
    return is_staff(actor) or (_is_person(actor) and publication.created_by_id == actor.id)
