"""Reads of the proposals domain: open calls, my proposals, a call's proposals for staff
(filters, search, pages, exports), previous collaborators. List queries load what a page
shows in a fixed number of statements, whatever the page size."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.orm import selectinload

from app.accounts.models import User
from app.accounts.queries import Page, paginate
from app.core.db import utcnow
from app.extensions import db
from app.proposals.models import (
    AccessRoute,
    BeamtimeRequest,
    Call,
    CallInstrument,
    MemberRole,
    Proposal,
    ProposalMember,
)
from app.proposals.status import ProposalStatus


def list_open_calls(now: datetime | None = None) -> list[Call]:
    """Calls open now ([opens_at, closes_at)), soonest deadline first."""
    now = now or utcnow()
    return list(
        db.session.scalars(
            select(Call)
            .where(Call.opens_at <= now, Call.closes_at > now)
            .options(selectinload(Call.instruments).joinedload(CallInstrument.instrument))
            .order_by(Call.closes_at, Call.id)
        )
    )


def list_calls() -> list[Call]:
    return list(db.session.scalars(select(Call).order_by(Call.opens_at.desc(), Call.id.desc())))


def list_my_proposals(user_id: int) -> list[Proposal]:
    return list(
        db.session.scalars(
            select(Proposal)
            .join(ProposalMember, ProposalMember.proposal_id == Proposal.id)
            .where(ProposalMember.user_id == user_id)
            .options(selectinload(Proposal.members))
            .order_by(Proposal.updated_at.desc(), Proposal.id.desc())
        )
    )


def previous_collaborators(user_id: int, *, limit: int = 20) -> list[User]:
    """People who were on a team with this person, most frequent first (invitation suggestions)."""
    mine = select(ProposalMember.proposal_id).where(ProposalMember.user_id == user_id)
    counts = (
        select(ProposalMember.user_id, func.count().label("n"))
        .where(ProposalMember.proposal_id.in_(mine), ProposalMember.user_id != user_id)
        .group_by(ProposalMember.user_id)
        .subquery()
    )
    return list(
        db.session.scalars(
            select(User)
            .join(counts, counts.c.user_id == User.id)
            .where(User.active.is_(True))
            .order_by(counts.c.n.desc(), User.name)
            .limit(limit)
        )
    )


@dataclass(frozen=True, slots=True)
class ProposalFilters:
    """Filters of a proposal list. `call_id` None: every call; `member_id`: only the proposals
    this person is on the team of (their own list)."""

    call_id: int | None
    instrument_id: int | None = None
    country: str | None = None
    status: str | None = None
    route: str | None = None
    text: str = ""
    include_drafts: bool = False
    member_id: int | None = None


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


def call_proposals_query(filters: ProposalFilters) -> Select:
    query = select(Proposal).join(Call, Call.id == Proposal.call_id)
    if filters.call_id is not None:
        query = query.where(Proposal.call_id == filters.call_id)
    if filters.member_id is not None:
        query = query.where(
            exists().where(ProposalMember.proposal_id == Proposal.id, ProposalMember.user_id == filters.member_id)
        )
    if not filters.include_drafts:
        query = query.where(Proposal.status != ProposalStatus.DRAFT)
    if filters.status:
        query = query.where(Proposal.status == filters.status)
    if filters.route:
        query = query.where(Call.route == filters.route)
    if filters.instrument_id:
        query = query.where(
            exists().where(
                BeamtimeRequest.proposal_id == Proposal.id, BeamtimeRequest.instrument_id == filters.instrument_id
            )
        )
    if filters.country:
        # a proposal "is from" every country on its team's snapshot
        query = query.where(
            exists().where(ProposalMember.proposal_id == Proposal.id, ProposalMember.country_code == filters.country)
        )
    if filters.text.strip():
        pattern = _like(filters.text.strip())
        pi_name = (
            select(User.name)
            .join(ProposalMember, ProposalMember.user_id == User.id)
            .where(ProposalMember.proposal_id == Proposal.id, ProposalMember.role == MemberRole.PI)
            .scalar_subquery()
        )
        query = query.where(
            or_(
                func.lower(Proposal.title).like(pattern, escape="\\"),
                func.lower(func.coalesce(Proposal.reference, "")).like(pattern, escape="\\"),
                func.lower(func.coalesce(pi_name, "")).like(pattern, escape="\\"),
            )
        )
    return query.options(
        selectinload(Proposal.members).joinedload(ProposalMember.user),
        selectinload(Proposal.requests).joinedload(BeamtimeRequest.instrument),
    ).order_by(Proposal.reference.is_(None), Proposal.reference, Proposal.id)


def list_call_proposals(filters: ProposalFilters, *, page: int = 1, per_page: int = 50) -> Page[Proposal]:
    return paginate(call_proposals_query(filters), page, per_page)


EXPORT_COLUMNS = (
    "reference",
    "status",
    "route",
    "title",
    "subject_area",
    "pi",
    "pi_institution",
    "pi_country",
    "team_size",
    "team_countries",
    "instruments",
    "shifts",
    "submitted_at",
)


def export_rows(filters: ProposalFilters, *, batch: int = 500) -> Iterator[dict[str, Any]]:
    """One plain row per proposal for CSV/XLSX, read in batches (a few statements per batch)."""
    query = call_proposals_query(filters)
    offset = 0
    while True:
        chunk = list(db.session.scalars(query.limit(batch).offset(offset)))
        if not chunk:
            return
        for p in chunk:
            pi = p.pi
            yield {
                "reference": p.reference or "",
                "status": p.status.value,
                "route": p.call.route.value if isinstance(p.call.route, AccessRoute) else p.call.route,
                "title": p.title,
                "subject_area": p.subject_area.value if p.subject_area else "",
                "pi": pi.user.name if pi else "",
                "pi_institution": (pi.institution_name or "") if pi else "",
                "pi_country": (pi.country_code or "") if pi else "",
                "team_size": len(p.members),
                "team_countries": " ".join(sorted({m.country_code for m in p.members if m.country_code})),
                "instruments": " ".join(r.instrument.code for r in p.requests),
                "shifts": p.total_shifts,
                "submitted_at": p.submitted_at.isoformat() if p.submitted_at else "",
            }
        offset += batch


def count_by_status(call_id: int) -> dict[str, int]:
    rows = db.session.execute(
        select(Proposal.status, func.count()).where(Proposal.call_id == call_id).group_by(Proposal.status)
    ).all()
    return {status.value if hasattr(status, "value") else status: n for status, n in rows}


def count_submitted_by_call() -> dict[int, int]:
    """Call id → how many proposals were handed in (drafts not counted), in one statement."""
    rows = db.session.execute(
        select(Proposal.call_id, func.count()).where(Proposal.status != ProposalStatus.DRAFT).group_by(Proposal.call_id)
    ).all()
    return {call_id: n for call_id, n in rows}


def offered_instruments(call_id: int) -> list[CallInstrument]:
    return list(
        db.session.scalars(
            select(CallInstrument).where(CallInstrument.call_id == call_id).order_by(CallInstrument.position)
        )
    )


__all__ = [
    "EXPORT_COLUMNS",
    "ProposalFilters",
    "call_proposals_query",
    "count_by_status",
    "count_submitted_by_call",
    "export_rows",
    "list_call_proposals",
    "list_calls",
    "list_my_proposals",
    "list_open_calls",
    "offered_instruments",
    "previous_collaborators",
]
