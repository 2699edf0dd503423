"""Rows for the ranking and allocation exports and the API, and small reads the pages share.
No reviewer names anywhere here: marks are listed without who gave them."""

from __future__ import annotations

from typing import Any

from app.core import settings
from app.extensions import db
from app.facility import queries as facility_queries
from app.proposals.models import MemberRole, ProposalMember
from app.reviews import queries, shares
from app.reviews.models import CallReview, ReviewerProfile
from app.reviews.services.decisions import Meeting
from app.reviews.services.review import COUNTRY_TOLERANCE, NON_MEMBER_MAX

__all__ = [
    "ALLOCATION_COLUMNS",
    "RANKING_COLUMNS",
    "allocation_rows",
    "capacity_summary",
    "fair_return",
    "find_profile",
    "pi_history",
    "ranking_rows",
]

RANKING_COLUMNS = [
    "final_rank",
    "reference",
    "title",
    "reviews",
    "mean",
    "normalised_mean",
    "spread",
    "marks",
    "final_grade",
    "requested_shifts",
    "recommended_shifts",
]
ALLOCATION_COLUMNS = [
    "reference",
    "instrument",
    "shifts",
    "basis",
    "long_term",
    "cycles",
    "local_contact",
    "outcome",
    "withdrawn_at",
]


def find_profile(user_id: int) -> ReviewerProfile | None:
    return db.session.get(ReviewerProfile, user_id)


def pi_history(proposal) -> list:
    return queries.pi_history(proposal)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def ranking_rows(meeting: Meeting) -> list[dict[str, Any]]:
    return [
        {
            "final_rank": row.decision.final_rank,
            "reference": row.proposal.reference,
            "title": row.proposal.title,
            "reviews": row.reviews,
            "mean": _round(row.mean),
            "normalised_mean": _round(row.normalised_mean),
            "spread": _round(row.spread),
            "marks": " ".join(str(g) + ("*" if unnormalised else "") for g, unnormalised in row.marks),
            "final_grade": row.decision.final_grade,
            "requested_shifts": sum(row.requested.values()),
            "recommended_shifts": sum(v for v in row.recommended.values() if v is not None)
            if any(v is not None for v in row.recommended.values())
            else None,
        }
        for row in meeting.rows
    ]


def allocation_rows(call_id: int) -> list[dict[str, Any]]:
    decisions = {d.proposal_id: d for d in queries.decisions_of_call(call_id)}
    rows = []
    for award in queries.awards_of_call(call_id, live_only=False):
        decision = decisions.get(award.proposal_id)
        rows.append(
            {
                "reference": award.proposal.reference,
                "instrument": award.instrument.code,
                "shifts": award.shifts,
                "basis": award.basis,
                "long_term": award.long_term,
                "cycles": award.cycles,
                "local_contact": award.local_contact.name if award.local_contact else "",
                "outcome": decision.outcome.value if decision else "",
                "withdrawn_at": award.withdrawn_at.isoformat() if award.withdrawn_at else "",
            }
        )
    return rows


def capacity_summary(review: CallReview) -> list[dict[str, Any]]:
    """Per instrument with awards: capacity, awarded shifts, what is left."""
    awards = queries.awards_of_call(review.call_id)
    instruments = {a.instrument_id: a.instrument for a in awards}
    out = []
    for instrument_id, instrument in sorted(instruments.items(), key=lambda item: item[1].code):
        capacity = facility_queries.instrument_capacity(review.call.cycle, instrument).value
        awarded = sum(a.shifts for a in awards if a.instrument_id == instrument_id)
        out.append({"instrument": instrument, "capacity": capacity, "awarded": awarded, "left": capacity - awarded})
    return out


def fair_return(review: CallReview) -> shares.Shares:
    """Country shares of the call's live awards (by snapshot) against the contributions of the
    cycle's year, with the warnings the settings ask for."""
    from sqlalchemy import select

    awards = queries.awards_of_call(review.call_id)
    shifts: dict[int, int] = {}
    for award in awards:
        shifts[award.proposal_id] = shifts.get(award.proposal_id, 0) + award.shifts
    members: dict[int, list[ProposalMember]] = {}
    if shifts:
        for member in db.session.scalars(select(ProposalMember).where(ProposalMember.proposal_id.in_(list(shifts)))):
            members.setdefault(member.proposal_id, []).append(member)
    teams = [
        shares.AwardedTeam(
            total,
            [m.country_code for m in members.get(pid, [])],
            next((m.country_code for m in members.get(pid, []) if m.role == MemberRole.PI), None),
        )
        for pid, total in shifts.items()
    ]
    year = review.call.cycle.starts_on.year
    contributions = {c.country: float(c.share) for c in facility_queries.list_contributions(year)}
    return shares.shares(
        teams,
        contributions,
        tolerance=settings.get_float(COUNTRY_TOLERANCE.key),
        non_member_max=settings.get_float(NON_MEMBER_MAX.key),
    )
