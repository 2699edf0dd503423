"""The proposals part of the demo facility: a standard call for each past demo cycle, full of
submitted proposals (teams of 2–7, about a third international, team countries with the
user community's skew, requests skewed toward popular instruments, samples with hazards),
and a call open now on the coming cycle, with drafts and a submitted proposal of the demo
user (user@beamtime.example) among others' submissions.

Deterministic (one seeded random generator per call; times derive from `today`) and
idempotent (a cycle that already has its standard call is left alone); fast: proposals and
their parts go in with bulk inserts, a few statements per table and call.
"""

from __future__ import annotations

import hashlib
import io
import math
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, insert, select, update

from app.accounts.models import Institution, User
from app.core.errors import InvalidState
from app.core.models import OutboxMessage
from app.core.transaction import unit_of_work
from app.extensions import db
from app.facility import queries as facility_queries
from app.facility.models import Cycle, Instrument, OperatingMode
from app.facility.shifts import local_instant
from app.proposals import services, storage
from app.proposals.models import (
    AccessRoute,
    BeamtimeRequest,
    Call,
    Hazard,
    MemberRole,
    Proposal,
    ProposalMember,
    ReferenceCounter,
    Sample,
    SampleForm,
    SubjectArea,
)
from app.proposals.status import ProposalStatus

SEED = 4242
DEMO_USER = "user@beamtime.example"
#: proposals in each past call (drawn between these, per call)
PAST_PROPOSALS = (170, 230)
#: others' submissions in the open call (the demo user's come on top)
OPEN_PROPOSALS = 40
#: chance that a team is made international (PIs without compatriots add a little to it: ~1/3 overall)
INTERNATIONAL_SHARE = 0.35
TEAM_SIZES = {2: 20, 3: 25, 4: 22, 5: 15, 6: 10, 7: 8}
#: instrument popularity: the first codes are the most asked for (a Zipf-like tail for the rest)
POPULAR = ("MX1", "PXRD", "XAS", "SAXS", "TOMO", "MX2", "BIOSAXS", "XPS", "NANO", "HRPD", "ARPES")

TOPICS = [
    ("Operando XAS of single-atom Pt catalysts during CO oxidation", SubjectArea.CHEMISTRY),
    ("Structure of a bacterial efflux pump bound to a new inhibitor", SubjectArea.BIOLOGY),
    ("Charge order in a kagome metal under uniaxial strain", SubjectArea.CONDENSED_MATTER),
    ("Lithium plating in fast-charged graphite anodes", SubjectArea.MATERIALS),
    ("Arsenic speciation in contaminated paddy soils", SubjectArea.EARTH_ENVIRONMENT),
    ("Residual stress in additively manufactured titanium lattices", SubjectArea.ENGINEERING),
    ("Bone mineral nanostructure in osteoporotic vertebrae", SubjectArea.MEDICINE),
    ("Pigment degradation in a 17th-century Dutch still life", SubjectArea.CULTURAL_HERITAGE),
    ("A fast area detector for time-resolved diffraction", SubjectArea.METHODS),
    ("Hydrogen storage in magnesium-based nanocomposites", SubjectArea.MATERIALS),
    ("Metal-organic frameworks for CO2 capture under humid flue gas", SubjectArea.CHEMISTRY),
    ("Conformational dynamics of an intrinsically disordered protein", SubjectArea.BIOLOGY),
    ("Skyrmion lattices in chiral magnets at low temperature", SubjectArea.CONDENSED_MATTER),
    ("Perovskite solar cell degradation under illumination", SubjectArea.MATERIALS),
    ("Iron oxidation state in deep-mantle minerals", SubjectArea.EARTH_ENVIRONMENT),
    ("Corrosion of weld seams in nuclear waste canisters", SubjectArea.ENGINEERING),
    ("Gold nanoparticle uptake in tumour spheroids", SubjectArea.MEDICINE),
    ("Lead soaps in oil paintings", SubjectArea.CULTURAL_HERITAGE),
    ("Superconducting gap symmetry in a nickelate thin film", SubjectArea.CONDENSED_MATTER),
    ("Zeolite acid sites during methanol-to-olefins conversion", SubjectArea.CHEMISTRY),
]
VARIANTS = ["", " (follow-up)", ": in situ study", ": a time-resolved study", " at high pressure", ": a pilot study"]
SAMPLES = [
    ("Pt/CeO2 catalyst", "Pt/CeO2", SampleForm.POWDER, "200 mg"),
    ("Protein crystals", "", SampleForm.CRYSTAL, "20 crystals"),
    ("CsV3Sb5 single crystal", "CsV3Sb5", SampleForm.CRYSTAL, "3 pieces"),
    ("Graphite anode", "C6", SampleForm.SOLID, "5 electrodes"),
    ("Soil cores", "", SampleForm.SOLID, "12 cores"),
    ("Ti-6Al-4V lattice", "Ti6Al4V", SampleForm.SOLID, "4 coupons"),
    ("Bone biopsies (fixed)", "", SampleForm.SOLID, "10 biopsies"),
    ("Paint cross-section", "", SampleForm.SOLID, "6 fragments"),
    ("MgH2 nanocomposite", "MgH2", SampleForm.POWDER, "1 g"),
    ("UiO-66 MOF", "Zr6O4(OH)4(BDC)6", SampleForm.POWDER, "500 mg"),
    ("Protein solution", "", SampleForm.SOLUTION, "2 mL at 5 mg/mL"),
    ("MnSi crystal", "MnSi", SampleForm.CRYSTAL, "1 piece"),
    ("MAPbI3 thin film", "CH3NH3PbI3", SampleForm.THIN_FILM, "8 films"),
    ("Bridgmanite in DAC", "MgSiO3", SampleForm.SOLID, "2 cells"),
    ("Au nanoparticles in spheroids", "Au", SampleForm.LIQUID, "24 wells"),
    ("Uranyl nitrate reference", "UO2(NO3)2", SampleForm.POWDER, "10 mg"),
]
#: the hazards a sample of the list above carries, besides "none"
HAZARD_CHOICES = [
    [Hazard.TOXIC],
    [Hazard.NANOMATERIAL],
    [Hazard.CRYOGENIC],
    [Hazard.HIGH_PRESSURE],
    [Hazard.BIOLOGICAL],
    [Hazard.TOXIC, Hazard.NANOMATERIAL],
    [Hazard.RADIOACTIVE],
    [Hazard.CRYOGENIC, Hazard.BIOLOGICAL],
]


@dataclass(frozen=True)
class Person:
    id: int
    institution_id: int | None
    institution_name: str | None
    country: str | None


@dataclass(frozen=True)
class Kind:
    """What the proposals of a call look like: topics, team sizes, the international share,
    over how many cycles each request runs (long-term calls: drawn from `cycles`, a weight each)
    and, for programmes, the instruments of each topic (`plans`: title → instrument codes; then
    every proposal has a topic of its own and asks for its topic's instruments)."""

    topics: list[tuple[str, SubjectArea]]
    variants: list[str]
    sizes: dict[int, int]
    international_share: float
    cycles: dict[int, int] | None = None
    plans: dict[str, tuple[str, ...]] | None = None


STANDARD = Kind(TOPICS, VARIANTS, TEAM_SIZES, INTERNATIONAL_SHARE)


@dataclass
class Report:
    calls: int = 0
    proposals: int = 0


# --- the science case: one small real PDF, shared (files are stored by content) ---------------


def science_case_pdf() -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(2):
        writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Title": "Demo science case"})
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _store_science_case(upload_dir: str | None) -> tuple[str, int]:
    data = science_case_pdf()
    sha = hashlib.sha256(data).hexdigest()
    if upload_dir:
        return storage.store(upload_dir, sha, data), len(data)
    return storage.key_for(sha), len(data)


# --- people ---------------------------------------------------------------------------------


def _population() -> list[Person]:
    rows = db.session.execute(
        select(User.id, User.institution_id, Institution.name, Institution.country_code)
        .join(Institution, Institution.id == User.institution_id)
        .where(User.active.is_(True), User.email.like("%@people.%"))
        .order_by(User.id)
    ).all()
    return [Person(*row) for row in rows]


class TeamPicker:
    """Teams drawn from the demo population, so that team countries keep the community's skew:
    the PI from everyone with a country; co-proposers from the PI's country for a domestic
    team (a PI without compatriots leads an international one), from anywhere — at least one
    from another country — for an international team."""

    def __init__(self, people: list[Person], rng: random.Random):
        self.rng = rng
        self.people = [p for p in people if p.country is not None]
        self.everyone = people
        self.by_country: dict[str, list[Person]] = defaultdict(list)
        for person in self.people:
            self.by_country[person.country].append(person)

    def team(self, size: int, international: bool) -> list[Person]:
        rng = self.rng
        pi = rng.choice(self.people)
        compatriots = [p for p in self.by_country[pi.country] if p.id != pi.id]
        if not international and compatriots:
            return [pi, *rng.sample(compatriots, min(size - 1, len(compatriots)))]
        first = rng.choice([p for p in self.people if p.country != pi.country])
        chosen = {pi.id, first.id}
        team = [pi, first]
        while len(team) < size:
            candidate = rng.choice(self.everyone)
            if candidate.id not in chosen:
                chosen.add(candidate.id)
                team.append(candidate)
        return team


# --- numbers --------------------------------------------------------------------------------


def _shifts(rng: random.Random) -> int:
    """3 to 24 shifts, median 9 (a log-normal, clipped)."""
    return max(3, min(24, round(math.exp(rng.gauss(math.log(9), 0.45)))))


def _weights(instruments: list[Instrument]) -> list[float]:
    rank = {code: i for i, code in enumerate(POPULAR)}
    return [1 / (rank.get(i.code, len(POPULAR) + 2) + 1) ** 0.9 for i in instruments]


def _size(rng: random.Random, sizes: dict[int, int] = TEAM_SIZES) -> int:
    return rng.choices(list(sizes), weights=list(sizes.values()))[0]


def _wall(day: date, hour: int, tz: ZoneInfo) -> datetime:
    return local_instant(datetime.combine(day, time(hour)), tz)


# --- calls ----------------------------------------------------------------------------------


def _make_call(
    cycle: Cycle, opens_at: datetime, closes_at: datetime, instruments, *, actor: Any, now: datetime
) -> Call:
    call = services.create_call(
        services.CallInput(
            cycle_id=cycle.id,
            route=AccessRoute.STANDARD.value,
            title=f"Call for proposals {cycle.name}",
            description=(
                "Standard access for academic users: peer-reviewed, free of charge. "
                "Up to 24 shifts per request; the science case is a PDF of at most 5 pages."
            ),
            opens_at=opens_at,
            closes_at=closes_at,
            offers=[services.OfferInput(i.id) for i in instruments],
            max_shifts_per_request=24,
        ),
        actor=actor,
        now=min(now, opens_at - timedelta(days=14)),
    )
    return call


def _fill(
    call: Call,
    people: list[Person],
    count: int,
    rng: random.Random,
    *,
    case: tuple[str, int],
    modes: list[OperatingMode],
    statuses: list[tuple[ProposalStatus, float]],
    first_number: int,
    frozen: bool,
    now: datetime,
    kind: Kind = STANDARD,
) -> int:
    """Insert `count` submitted proposals into `call` in bulk; returns the last reference number."""
    picker = TeamPicker(people, rng)
    instruments = [o.instrument for o in call.instruments]
    weights = _weights(instruments)
    cycle_name = call.cycle.name
    span = (min(call.closes_at, now) - call.opens_at).total_seconds()
    proposal_rows, teams, plans = [], [], []
    programmes = rng.sample(kind.topics, count) if kind.plans else None
    for n in range(count):
        international = rng.random() < kind.international_share
        team = picker.team(_size(rng, kind.sizes), international)
        # submissions bunch up before the deadline
        submitted_at = call.opens_at + timedelta(seconds=span * (1 - rng.random() ** 3))
        submitted_at = min(submitted_at, call.closes_at - timedelta(minutes=1), now)
        created_at = max(call.opens_at, submitted_at - timedelta(days=rng.uniform(1, 25)))
        title, area = programmes[n] if programmes else rng.choice(kind.topics)
        status = rng.choices([s for s, _ in statuses], weights=[w for _, w in statuses])[0]
        proposal_rows.append(
            {
                "call_id": call.id,
                "reference": f"{cycle_name}-{first_number + n:04d}",
                "status": status,
                "title": title + rng.choice(kind.variants),
                "abstract": (
                    f"{title}. We propose to combine {rng.choice(['spectroscopy', 'diffraction', 'imaging'])} "
                    f"with in situ sample environments to answer an open question of the field. "
                    "Earlier results from our laboratories motivate the measurement."
                ),
                "subject_area": area,
                "science_case_key": case[0],
                "science_case_name": "science-case.pdf",
                "science_case_size": case[1],
                "science_case_pages": 2,
                "science_case_uploaded_at": created_at,
                "created_by_id": team[0].id,
                "created_at": created_at,
                "updated_at": submitted_at,
                "submitted_at": submitted_at,
                "affiliations_frozen_at": call.closes_at if frozen else None,
            }
        )
        teams.append((team, submitted_at))
        n_requests = rng.choices([1, 2, 3], weights=[70, 25, 5])[0]
        chosen: list[Instrument] = []
        if kind.plans:
            codes = kind.plans[title]
            chosen = [i for i in instruments if i.code in codes]
            chosen = sorted(chosen, key=lambda i: codes.index(i.code))[:n_requests]
        while len(chosen) < n_requests and not kind.plans:
            instrument = rng.choices(instruments, weights=weights)[0]
            if instrument not in chosen:
                chosen.append(instrument)
        # a long-term programme runs all its requests over the same cycles
        cycles = rng.choices(list(kind.cycles), weights=list(kind.cycles.values()))[0] if kind.cycles else 1
        plans.append((chosen, rng.randint(1, 3), cycles))
    ids = list(db.session.scalars(insert(Proposal).returning(Proposal.id, sort_by_parameter_order=True), proposal_rows))
    members, requests, samples = [], [], []
    for proposal_id, (team, submitted_at), (chosen, n_samples, cycles) in zip(ids, teams, plans, strict=True):
        for index, person in enumerate(team):
            members.append(
                {
                    "proposal_id": proposal_id,
                    "user_id": person.id,
                    "role": MemberRole.PI if index == 0 else MemberRole.CO_PROPOSER,
                    "institution_id": person.institution_id,
                    "institution_name": person.institution_name,
                    "country_code": person.country,
                    "snapshot_at": submitted_at,
                    "joined_at": submitted_at - timedelta(days=1),
                }
            )
        for instrument in chosen:
            shifts = _shifts(rng)
            mode = rng.choice(modes) if modes and rng.random() < 0.12 else None
            requests.append(
                {
                    "proposal_id": proposal_id,
                    "instrument_id": instrument.id,
                    "shifts": shifts,
                    "cycles": cycles,
                    "justification": (
                        f"{shifts} shifts on {instrument.code}: alignment and references (1 shift), then the "
                        f"sample series under the conditions of the science case, with repeats."
                        + (f" The same in each of {cycles} cycles, as the programme advances." if cycles > 1 else "")
                    ),
                    "operating_mode_id": mode.id if mode else None,
                }
            )
        for name, formula, form, quantity in rng.sample(SAMPLES, n_samples):
            hazards = [Hazard.NONE] if rng.random() < 0.55 else rng.choice(HAZARD_CHOICES)
            samples.append(
                {
                    "proposal_id": proposal_id,
                    "name": name,
                    "formula": formula,
                    "form": form,
                    "quantity": quantity,
                    "hazards": [h.value for h in hazards],
                    "biological_risk_group": rng.choice([1, 2]) if Hazard.BIOLOGICAL in hazards else None,
                    "notes": "",
                }
            )
    db.session.execute(insert(ProposalMember), members)
    db.session.execute(insert(BeamtimeRequest), requests)
    db.session.execute(insert(Sample), samples)
    return first_number + count - 1


def _set_counter(cycle_id: int, last_number: int) -> None:
    if db.session.get(ReferenceCounter, cycle_id) is None:
        db.session.add(ReferenceCounter(cycle_id=cycle_id, last_number=last_number))
    else:
        db.session.execute(
            update(ReferenceCounter).where(ReferenceCounter.cycle_id == cycle_id).values(last_number=last_number)
        )


# --- the demo user's own proposals in the open call -----------------------------------------


def _demo_user_proposals(call: Call, user: User, people: list[Person], *, case, now: datetime) -> int:
    """Three drafts at different stages and one submitted proposal, through the services (so
    they are exactly what a person would have made with the pages)."""
    co = [p for p in people if p.country not in (None, "CH")][:3]
    instruments = [o.instrument for o in call.instruments]
    by_code = {i.code: i for i in instruments}
    first, second = by_code.get("XAS", instruments[0]), by_code.get("PXRD", instruments[-1])
    made = 0
    started = now - timedelta(days=6)

    # 1. just started: a title
    services.create_proposal(call.id, actor=user, title="Sulfur speciation in Roman glass", now=started)
    made += 1
    # 2. half way: texts and one request, no science case, no sample
    draft = services.create_proposal(call.id, actor=user, title="Spin dynamics in a 2D magnet", now=started)
    services.update_proposal(
        draft.id,
        {
            "abstract": "We will follow the magnetisation of CrI3 flakes across the transition.",
            "subject_area": "condensed_matter",
        },
        actor=user,
        now=started + timedelta(hours=2),
    )
    services.add_request(
        draft.id, services.RequestInput(instrument_id=first.id, shifts=9), actor=user, now=started + timedelta(hours=3)
    )
    made += 1
    # 3. and 4. complete: one left as a draft (ready to submit), one submitted
    for title, submit in (
        ("Operando XAS of Ni single-atom electrocatalysts", False),
        ("In situ PXRD of Li-rich cathodes", True),
    ):
        p = services.create_proposal(call.id, actor=user, title=title, now=started)
        services.update_proposal(
            p.id,
            {
                "abstract": f"{title}: the oxidation state and local structure under working conditions.",
                "subject_area": "chemistry" if submit is False else "materials",
            },
            actor=user,
            now=started + timedelta(hours=1),
        )
        p.science_case_key, p.science_case_size = case
        p.science_case_name, p.science_case_pages, p.science_case_uploaded_at = "science-case.pdf", 2, started
        services.add_request(
            p.id,
            services.RequestInput(
                instrument_id=(first if not submit else second).id,
                shifts=12 if not submit else 6,
                justification="Two temperatures, three cycles each; one shift of references.",
            ),
            actor=user,
            now=started + timedelta(hours=2),
        )
        services.add_sample(
            p.id,
            services.SampleInput(
                name="Cathode powder" if submit else "Ni-N-C catalyst",
                form="powder",
                formula="Li1.2Ni0.2Mn0.6O2" if submit else "Ni-N-C",
                quantity="500 mg",
                hazards=["toxic", "nanomaterial"] if submit else ["nanomaterial"],
            ),
            actor=user,
            now=started + timedelta(hours=2),
        )
        for person in co[:2] if submit else co[2:3]:
            member = ProposalMember(
                user=db.session.get(User, person.id), role=MemberRole.CO_PROPOSER, joined_at=started
            )
            p.members.append(member)
            services.snapshot_member(member, now=started)
        if submit:
            services.submit_proposal(p.id, actor=user, now=now - timedelta(days=1))
        made += 1
    return made


# --- the seed -------------------------------------------------------------------------------


def seed(*, actor: Any, today: date | None = None, upload_dir: str | None = None, progress=None) -> int:
    """Create the demo calls and proposals that are missing; returns how many proposals were made."""
    today = today or date.today()
    now = datetime.combine(today, time(0), tzinfo=UTC)
    report = Report()
    with unit_of_work():
        try:
            tz = facility_queries.grid().tz
        except InvalidState:  # no facility yet: nothing to hang calls on
            return 0
        from app.demo.facility import demo_cycles

        cycles = [facility_queries.get_cycle_by_name(name) for name, _s, _e in demo_cycles(today)]
        existing = set(
            db.session.scalars(
                select(Call.cycle_id).where(
                    Call.route == AccessRoute.STANDARD, Call.cycle_id.in_([c.id for c in cycles])
                )
            )
        )
        instruments = facility_queries.list_instruments(active_only=True)
        modes = [m for m in facility_queries.list_operating_modes(active_only=True) if m.code != "multibunch"]
        people = _population()
        if not instruments or len(people) < 20:
            return 0
        case = _store_science_case(upload_dir)
        *past, coming = cycles
        for index, cycle in enumerate(past):
            if cycle.id in existing:
                continue
            opens_at = _wall(cycle.starts_on - timedelta(days=150), 9, tz)
            closes_at = _wall(cycle.starts_on - timedelta(days=90), 12, tz)
            call = _make_call(cycle, opens_at, closes_at, instruments, actor=actor, now=now)
            call.opened_at, call.closed_at = opens_at, closes_at
            rng = random.Random(SEED + index)
            count = rng.randint(*PAST_PROPOSALS)
            # the older cycle's proposals are all under review; the newer one's review is starting
            statuses = (
                [(ProposalStatus.UNDER_REVIEW, 1.0)]
                if index == 0
                else [
                    (ProposalStatus.UNDER_REVIEW, 0.6),
                    (ProposalStatus.SUBMITTED, 0.4),
                ]
            )
            last = _fill(
                call,
                people,
                count,
                rng,
                case=case,
                modes=modes,
                statuses=statuses,
                first_number=1,
                frozen=True,
                now=now,
            )
            _set_counter(cycle.id, last)
            report.calls += 1
            report.proposals += count
        if coming.id not in existing:
            opens_at = _wall(today - timedelta(days=30), 9, tz)
            closes_at = _wall(today + timedelta(days=21), 12, tz)
            call = _make_call(coming, opens_at, closes_at, instruments, actor=actor, now=now)
            call.opened_at = opens_at
            rng = random.Random(SEED + 10)
            last = _fill(
                call,
                people,
                OPEN_PROPOSALS,
                rng,
                case=case,
                modes=modes,
                statuses=[(ProposalStatus.SUBMITTED, 1.0)],
                first_number=1,
                frozen=False,
                now=now,
            )
            _set_counter(coming.id, last)
            report.calls += 1
            report.proposals += OPEN_PROPOSALS
            user = db.session.scalar(select(User).where(User.email == DEMO_USER))
            if user is not None:
                # the demo's history sends no mail: the submission e-mails it queues are dropped
                last_mail = db.session.scalar(select(func.max(OutboxMessage.id))) or 0
                report.proposals += _demo_user_proposals(call, user, people, case=case, now=now)
                db.session.execute(delete(OutboxMessage).where(OutboxMessage.id > last_mail))
    if progress is not None:
        progress.print(f"demo proposals: {report.calls} call(s), {report.proposals} proposal(s)")
    return report.proposals
