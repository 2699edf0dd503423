"""A user opens "my experiments" and an instrument's timeline, on a desktop and at 375 px (where
the drawn timeline gives way to the list): the published session is there, no serious or
critical axe-core violation, no sideways scroll. Staff see the facility overview and running now."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import expect
from sqlalchemy import select

from app.demo.people import DEMO_PASSWORD

USER = "user@beamtime.example"
OFFICE = "user-office@beamtime.example"


def _published_session_for_the_demo_user(app) -> dict:
    """Put the demo user on the team of a demo award and publish a session of it next week."""
    from app.accounts.models import User
    from app.extensions import db
    from app.facility import queries as facility_queries
    from app.facility.models import Booking, BookingKind, BookingStatus
    from app.proposals.models import MemberRole, ProposalMember
    from app.reviews.models import Award
    from app.scheduling.models import Experiment

    with app.app_context():
        session = db.session
        user = session.scalar(select(User).where(User.email == USER))
        award = session.scalar(select(Award).order_by(Award.id).limit(1))
        assert award is not None, "the demo has no award"
        if not any(m.user_id == user.id for m in award.proposal.members):
            session.add(ProposalMember(proposal_id=award.proposal_id, user_id=user.id, role=MemberRole.CO_PROPOSER))
        tz = ZoneInfo(facility_queries.facility_timezone_name())
        today = datetime.now(tz).date()
        # far enough ahead to be free on the instrument: a day nobody has booked
        day = today + timedelta(days=1)
        while True:
            starts = datetime.combine(day, datetime.min.time(), tzinfo=tz)
            ends = starts + timedelta(days=1)
            if facility_queries.overlapping_booking(award.instrument_id, starts, ends) is None:
                break
            day += timedelta(days=1)
        booking = Booking(
            instrument_id=award.instrument_id,
            cycle_id=award.proposal.call.cycle_id,
            kind=BookingKind.EXPERIMENT,
            status=BookingStatus.PUBLISHED,
            starts_at=starts,
            ends_at=ends,
            title=award.proposal.reference or "",
        )
        session.add(booking)
        session.flush()
        session.add(Experiment(booking_id=booking.id, award_id=award.id, published_at=datetime.now(tz)))
        session.commit()
        out = {"reference": award.proposal.reference, "code": award.instrument.code, "day": day.isoformat()}
        session.remove()
    return out


def _check_here(page, axe, at_375) -> None:
    axe(page)
    at_375(page)
    axe(page)  # the phone layout: the list instead of the drawing
    page.set_viewport_size({"width": 1280, "height": 800})


def test_a_user_reads_my_experiments_and_the_timeline_at_375_px(app, page, demo, axe, at_375, log_in):
    data = _published_session_for_the_demo_user(app)
    log_in(page, USER, DEMO_PASSWORD)

    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto("/scheduling/mine")
    expect(page.get_by_role("heading", level=1, name="My experiments")).to_be_visible()
    expect(page.get_by_text(data["reference"]).first).to_be_visible()
    _check_here(page, axe, at_375)

    page.get_by_role("link", name=data["code"]).first.click()
    expect(page.get_by_role("heading", level=1, name=f"Schedule of {data['code']}")).to_be_visible()
    assert page.locator("svg.tl-svg").is_visible()  # the drawing on a desktop
    _check_here(page, axe, at_375)
    page.set_viewport_size({"width": 375, "height": 800})
    assert not page.locator("svg.tl-svg").is_visible()  # a list on a phone
    expect(page.locator(".cal-kind", has_text=data["reference"]).first).to_be_visible()

    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"/scheduling/instruments/{data['code']}/timeline?view=month&date={data['day']}")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    _check_here(page, axe, at_375)


def test_staff_read_the_overview_running_now_and_make_a_feed(app, page, demo, axe, at_375, log_in):
    log_in(page, OFFICE, DEMO_PASSWORD)
    for path, heading in (
        ("/scheduling/overview", "Facility schedule"),
        ("/scheduling/overview?view=month", "Facility schedule"),
        ("/scheduling/now", "Running now"),
        ("/scheduling/feeds", "Calendar feeds"),
    ):
        page.set_viewport_size({"width": 1280, "height": 800})
        page.goto(path)
        expect(page.get_by_role("heading", level=1, name=heading)).to_be_visible()
        _check_here(page, axe, at_375)
    page.get_by_role("button", name="Make a feed").click()
    url = page.get_by_label("Feed address").input_value()
    assert url.endswith(".ics") and "/scheduling/ical/bcal_" in url
    _check_here(page, axe, at_375)
