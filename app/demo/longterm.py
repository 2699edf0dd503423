"""The demo's long-term programmes: a long-term call on the older past cycle (requests over two
or three cycles), with a handful of submitted proposals by large international teams, reviewed
and allocated like the standard call of that cycle (app/demo/reviews.py: technical reviews, the
real assignment, grades, final ranks, `run_allocation`, sign-off and release, dated in the past,
no mail). The allocation commits each long-term award's shifts on the following cycles
(`CapacityCommitment`, "allocation <call id>: <reference>/<instrument>"), so the schedules of the
newer past cycle and of the coming one have experiments of these programmes
(app/scheduling/adapters.py reads them).

The long-term call comes after the standard call's allocation and meets the cycle's capacity as
that left it, so the standard call is decided exactly as without it; its programme instruments
are those where the demo's in-house commitment leaves room to schedule both calls (not MX1,
which the standard call fills; microfocus MX2 takes the crystallography programmes).

Deterministic (its own seeded generator) and idempotent (nothing is done once the older past
cycle has a long-term call; nothing before the panels and the standard call's review exist).
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select

from app.core.transaction import unit_of_work
from app.extensions import db
from app.facility import queries as facility_queries
from app.proposals import services
from app.proposals.models import AccessRoute, Call, ReferenceCounter, SubjectArea
from app.proposals.status import ProposalStatus
from app.reviews.models import CallReview, Decision, Outcome, Panel

SEED = 6262
PROPOSALS = 10
MAX_CYCLES = 3
#: the programme instruments (see the module docstring)
INSTRUMENTS = ("MX2", "BIOSAXS", "SAXS", "XAS", "QEXAFS", "PXRD", "HRPD", "TOMO", "NANO", "XPS", "HP", "ARPES")
#: the programmes: title, subject area (its panel) and the instruments it asks for, in order
PROGRAMMES = [
    ("Operando diffraction of solid-state batteries over their cycle life", SubjectArea.MATERIALS, ("PXRD", "XAS")),
    ("Structural genomics of antibiotic-resistance enzymes", SubjectArea.BIOLOGY, ("MX2", "BIOSAXS")),
    ("Ageing of copper-zinc catalysts in methanol synthesis", SubjectArea.CHEMISTRY, ("QEXAFS", "HRPD")),
    ("Corrosion of archaeological iron after excavation", SubjectArea.CULTURAL_HERITAGE, ("NANO", "XAS")),
    ("Mineral carbonation of basalt for CO2 storage", SubjectArea.EARTH_ENVIRONMENT, ("TOMO", "PXRD")),
    ("Phase diagram of quantum materials under pressure", SubjectArea.CONDENSED_MATTER, ("HP", "ARPES")),
    ("Fragment screening against coronavirus proteases", SubjectArea.MEDICINE, ("MX2",)),
    ("A time-resolved SAXS sample environment for users", SubjectArea.METHODS, ("SAXS",)),
    ("Fatigue cracks in aero-engine alloys under cyclic load", SubjectArea.ENGINEERING, ("TOMO", "HRPD")),
    ("Bone regeneration around biodegradable magnesium implants", SubjectArea.MEDICINE, ("TOMO", "SAXS")),
    ("Electrolyser membranes under dynamic operation", SubjectArea.CHEMISTRY, ("XPS", "SAXS")),
    ("Self-assembly of membrane proteins in lipid nanodiscs", SubjectArea.BIOLOGY, ("BIOSAXS", "MX2")),
]
KIND_ARGS = {
    "variants": ["", ": a long-term programme", " (user consortium)", ": a multi-cycle study"],
    # consortia: bigger teams than the standard call's, nearly all international
    "sizes": {4: 20, 5: 30, 6: 25, 7: 25},
    "international_share": 0.9,
    "cycles": {2: 40, 3: 60},
}


def seed(*, actor: Any, today: date | None = None, upload_dir: str | None = None, progress=None) -> int:
    """Create the long-term call of the older past cycle, its proposals, their review and
    released decisions; returns the proposals made."""
    from app.demo import proposals as demo_proposals
    from app.demo import reviews as demo_reviews
    from app.demo.facility import demo_cycles

    today = today or date.today()
    now = datetime.combine(today, time(0), tzinfo=UTC)
    with unit_of_work():
        cycle = facility_queries.get_cycle_by_name(demo_cycles(today)[0][0])
        if cycle is None:
            return 0
        calls = {c.route: c for c in db.session.scalars(select(Call).where(Call.cycle_id == cycle.id))}
        standard = calls.get(AccessRoute.STANDARD)
        if AccessRoute.LONG_TERM in calls or standard is None:
            return 0
        review = db.session.get(CallReview, standard.id)
        panels = list(db.session.scalars(select(Panel).order_by(Panel.id)))
        if review is None or review.allocated_at is None or not panels:
            return 0  # the standard call is decided first (its capacity share, app/demo/reviews.py)
        by_code = {i.code: i for i in facility_queries.list_instruments(active_only=True)}
        instruments = [by_code[code] for code in INSTRUMENTS if code in by_code]
        people = demo_proposals._population()
        if not instruments or len(people) < 20:
            return 0
        # the same dates as the standard call: one deadline for both routes
        call = services.create_call(
            services.CallInput(
                cycle_id=cycle.id,
                route=AccessRoute.LONG_TERM.value,
                title=f"Long-term proposals {cycle.name}",
                description=(
                    "Long-term access for programmes that need beamtime in up to three consecutive cycles: "
                    "peer-reviewed with the standard proposals; the shifts awarded are committed on the "
                    "following cycles. Up to 24 shifts per request and cycle."
                ),
                opens_at=standard.opens_at,
                closes_at=standard.closes_at,
                offers=[services.OfferInput(i.id) for i in instruments],
                max_shifts_per_request=24,
                max_cycles=MAX_CYCLES,
            ),
            actor=actor,
            now=min(now, standard.opens_at - timedelta(days=14)),
        )
        call.opened_at, call.closed_at = standard.opens_at, standard.closes_at
        rng = random.Random(SEED)
        last = db.session.scalar(select(ReferenceCounter.last_number).where(ReferenceCounter.cycle_id == cycle.id))
        timing = [m for m in facility_queries.list_operating_modes(active_only=True) if m.code == "timing-16b"]
        last = demo_proposals._fill(
            call,
            people,
            PROPOSALS,
            rng,
            case=demo_proposals._store_science_case(upload_dir),
            modes=timing,
            statuses=[(ProposalStatus.UNDER_REVIEW, 1.0)],
            first_number=(last or 0) + 1,
            frozen=True,
            now=now,
            kind=demo_proposals.Kind(
                [(title, area) for title, area, _codes in PROGRAMMES],
                plans={title: codes for title, _area, codes in PROGRAMMES},
                **KIND_ARGS,
            ),
        )
        demo_proposals._set_counter(cycle.id, last)
        db.session.flush()
        db.session.expire(call)  # its proposals went in with bulk inserts
        demo_reviews._review_call(call, panels, actor, rng, complete=True)
        demo_reviews._decide_call(call, panels, actor, rng, commit_capacity=False)
        accepted = db.session.scalar(
            select(func.count())
            .select_from(Decision)
            .where(Decision.call_id == call.id, Decision.outcome == Outcome.ACCEPTED)
        )
    if progress is not None:
        progress.print(f"demo long-term programmes: {PROPOSALS} proposal(s), {accepted} accepted")
    return PROPOSALS
