"""Demo outcomes: experiment reports (some submitted, some overdue) for the experiments that
have ended, and publications for accepted proposals of past cycles.

Idempotent and robust: with no experiments yet (the schedule not seeded), no report is made;
with no accepted proposal, no publication. DOIs use the 10.5555 test prefix.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from app.core.transaction import transactional
from app.extensions import db
from app.facility.models import Booking, BookingStatus
from app.proposals.models import Proposal
from app.proposals.status import ProposalStatus
from app.scheduling.models import Experiment
from app.visits.outcomes import queries, services
from app.visits.outcomes.models import Publication

JOURNALS = ("J. Synchrotron Rad.", "Phys. Rev. B", "Nat. Commun.", "J. Appl. Cryst.", "ACS Catal.", "Chem. Mater.")
TOPICS = ("Operando", "In situ", "Time-resolved", "High-pressure", "Nanoscale", "Element-specific")
OBJECTS = ("catalysts", "battery cathodes", "perovskite films", "protein crystals", "magnetic multilayers", "alloys")


@transactional
def seed(*, actor: Any, now: datetime | None = None, progress=None) -> int:
    """Reports for ended experiments (about 60 % submitted, the rest due or overdue) and one or
    two publications for about a third of the accepted proposals. Returns rows created."""
    now = now or datetime.now(UTC)
    rng = random.Random(9)
    created = 0
    ended = db.session.scalars(
        select(Experiment)
        .join(Booking, Booking.id == Experiment.booking_id)
        .where(Booking.status != BookingStatus.CANCELLED, Booking.ends_at <= now)
        .order_by(Experiment.booking_id)
    ).all()
    for experiment in ended:
        # decided by the experiment alone, so a second run makes the same choice
        if (
            queries.find_report(experiment.booking_id) is not None
            or random.Random(experiment.booking_id).random() > 0.6
        ):
            continue  # kept, or left unwritten (due, then overdue)
        members = experiment.award.proposal.members
        if not members:
            continue
        author = members[0].user
        services.save_report(
            experiment.booking_id,
            "<p>All planned measurements were taken; data reduction is under way.</p>",
            submit=True,
            actor=author,
            now=max(now, experiment.booking.ends_at),
        )
        created += 1
    if db.session.scalar(select(Publication.id).where(Publication.doi.like("10.5555/demo.%")).limit(1)):
        return created
    accepted = db.session.scalars(
        select(Proposal)
        .where(Proposal.status.in_((ProposalStatus.ACCEPTED, ProposalStatus.SCHEDULED, ProposalStatus.COMPLETED)))
        .order_by(Proposal.id)
    ).all()
    number = 0
    for proposal in accepted:
        if rng.random() > 0.35 or not proposal.requests:
            continue
        for _ in range(rng.choice((1, 1, 2))):
            number += 1
            year = (proposal.submitted_at or now).year + rng.choice((1, 1, 2))
            services.add_publication(
                proposal.id,
                doi=f"10.5555/demo.{number:05d}",
                title=f"{rng.choice(TOPICS)} study of {rng.choice(OBJECTS)}",
                year=min(year, now.year),
                journal=rng.choice(JOURNALS),
                actor=actor,
                now=now,
            )
            created += 1
    if progress is not None:
        progress.print(f"demo outcomes: {created} report(s) and publication(s)")
    return created
