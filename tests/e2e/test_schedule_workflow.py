"""Issue 7 end to end: staff solve a small cycle from the web (the job poller runs the solve) and
watch its progress, pin one experiment, solve again (the pin stays), compare the drafts and
publish; the PI then logs in and sees the date.

The calendars helper's "my experiments" page is not there yet: the PI reads the date on the
proposal page (the scheduling domain fills its notices slot). After merging, the lead points
the last step at /scheduling/mine.
"""

from __future__ import annotations

from datetime import date

from playwright.sync_api import expect
from sqlalchemy import func, select

from app.demo.people import DEMO_PASSWORD

OFFICE = "user-office@beamtime.example"
PI = "user@beamtime.example"


def _small_cycle(app) -> dict:
    """Three accepted awards of the demo's upcoming cycle (whose call is open, so the demo has
    none of its own there: only the long-term programmes of an earlier cycle, in the demo's
    draft 1) on two instruments, the demo user as PI of the first."""
    from app.accounts.models import User
    from app.extensions import db
    from app.facility.models import Cycle, Instrument
    from app.proposals.models import Call
    from tests.factories_scheduling import make_award

    with app.app_context():
        cycle = db.session.scalar(select(Cycle).order_by(Cycle.starts_on.desc()).limit(1))
        call = db.session.scalar(select(Call).where(Call.cycle_id == cycle.id))
        mx1 = db.session.scalar(select(Instrument).where(Instrument.code == "MX1"))
        pxrd = db.session.scalar(select(Instrument).where(Instrument.code == "PXRD"))
        pi = db.session.scalar(select(User).where(User.email == PI))
        awards = [
            make_award(call=call, instrument=mx1, shifts=3, grade=4.5, pi=pi, number=9101),
            make_award(call=call, instrument=mx1, shifts=4, grade=3.5, number=9102),
            make_award(call=call, instrument=pxrd, shifts=3, grade=4.0, number=9103),
        ]
        out = {
            "cycle": cycle.name,
            "proposal": awards[0].proposal_id,
            "reference": awards[0].proposal.reference,
            "award": awards[0].id,
        }
        db.session.remove()
    return out


def _session_of(app, award_id: int):
    from app.extensions import db
    from app.facility.models import Booking, BookingStatus
    from app.scheduling.models import Experiment

    with app.app_context():
        row = db.session.execute(
            select(Booking.id, Booking.starts_at, Booking.status)
            .join(Experiment, Experiment.booking_id == Booking.id)
            .where(Experiment.award_id == award_id, Booking.status != BookingStatus.CANCELLED)
        ).first()
        db.session.remove()
    return row


def _long_term_proposals(cycle_name: str) -> int:
    """Proposals of earlier cycles' long-term awards with experiments in `cycle_name` (in an app context)."""
    from app.extensions import db
    from app.facility.models import Booking, Cycle
    from app.reviews.models import Award
    from app.scheduling.models import Experiment

    return db.session.scalar(
        select(func.count(func.distinct(Award.proposal_id)))
        .select_from(Experiment)
        .join(Booking, Booking.id == Experiment.booking_id)
        .join(Cycle, Cycle.id == Booking.cycle_id)
        .join(Award, Award.id == Experiment.award_id)
        .where(Cycle.name == cycle_name, Award.long_term.is_(True))
    )


def _solve(page, cycle: str) -> None:
    page.goto(f"/scheduling/cycles/{cycle}/plan")
    page.get_by_label("Effort", exact=False).fill("1")
    page.get_by_role("button", name="Solve", exact=True).click()
    expect(page.locator("#solve-progress")).to_be_visible()
    # the poller thread runs the job; the page polls its progress until the draft is there
    expect(page.locator("#solve-progress .alert-success")).to_be_visible(timeout=60_000)
    expect(page.locator("#solve-progress .solve-figures")).to_contain_text("objective")


def test_staff_solve_pin_resolve_publish_and_the_pi_sees_the_date(app, page, demo, axe, at_375, log_in):
    small = _small_cycle(app)
    cycle = small["cycle"]
    log_in(page, OFFICE, DEMO_PASSWORD)

    _solve(page, cycle)
    axe(page)
    first = _session_of(app, small["award"])
    assert first is not None and first.status.value == "planned"

    # pin the PI's experiment on the timeline's experiment page
    page.goto(f"/scheduling/experiments/{first.id}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(small["reference"])
    axe(page)
    page.get_by_role("button", name="Pin", exact=True).click()
    expect(page.locator(".alert-success")).to_contain_text("Pinned")
    expect(page.locator(f'a[data-booking="{first.id}"]')).to_contain_text("✱")
    axe(page)
    at_375(page)
    page.set_viewport_size({"width": 1280, "height": 800})

    # solve again: the pinned experiment stays exactly where it was
    _solve(page, cycle)
    again = _session_of(app, small["award"])
    assert (again.id, again.starts_at) == (first.id, first.starts_at)
    expect(page.get_by_role("link", name="Draft 3")).to_be_visible()  # the demo's is draft 1
    page.reload()  # the drafts table lists the new draft
    page.get_by_role("button", name="Compare").click()
    expect(page.get_by_role("heading", name="What moved")).to_be_visible()
    axe(page)

    # publish: the teams get their dates by e-mail, once
    page.goto(f"/scheduling/cycles/{cycle}/plan")
    page.get_by_role("button", name="Publish the planned experiments").click()
    expect(page.locator(".alert-success")).to_contain_text("published")
    with app.app_context():
        from app.core.models import OutboxMessage
        from app.extensions import db

        letters = db.session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.subject.like("Beamtime scheduled%"))
        )
        programmes = _long_term_proposals(cycle)
        db.session.remove()
    # the three proposals and the long-term programmes planned in the cycle, one e-mail each
    assert programmes >= 1 and letters == 3 + programmes
    assert _session_of(app, small["award"]).status.value == "published"

    # the PI logs in and sees the date
    page.context.clear_cookies()
    log_in(page, PI, DEMO_PASSWORD)
    page.goto(f"/proposals/{small['proposal']}")
    notice = page.locator(".beamtime-dates")
    expect(notice).to_contain_text("MX1")
    from app.facility import queries as facility_queries

    with app.app_context():
        when = facility_queries.grid().local(first.starts_at)
    expect(notice).to_contain_text(when)
    assert date.fromisoformat(when[:10]).year >= 2026

    # … and in "my experiments", the page a user plans travel on
    page.goto("/scheduling/mine")
    upcoming = page.locator("main ul").first
    expect(upcoming).to_contain_text("MX1")
    expect(upcoming).to_contain_text(small["reference"])
    expect(upcoming).to_contain_text("Published")
    axe(page)
