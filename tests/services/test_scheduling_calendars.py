"""Who sees what on the calendars (users: published experiments and their own; staff, directors
and the instrument's scientists: drafts too), "my experiments", running now, `current` on its
half-open range, and the feed tokens (hash only, revocable)."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.accounts.models import Role
from app.core.errors import InvalidState, NotFound, PermissionDenied, ValidationFailed
from app.extensions import db
from app.facility import queries as facility_queries
from app.facility.models import BookingKind, BookingStatus
from app.proposals.models import AccessRoute
from app.scheduling import calendar_queries as cq
from app.scheduling import feeds
from app.scheduling.models import CalendarFeed, Experiment
from tests.factories import make_user
from tests.factories_scheduling import day, make_scientist, make_small_cycle

MARCH = (datetime(2027, 2, 28, tzinfo=UTC), datetime(2027, 3, 16, tzinfo=UTC))


@pytest.fixture
def s():
    return make_small_cycle()


def seen(actor, s) -> dict[str, set[str]]:
    """Instrument code → the statuses of experiments the actor sees, plus 'block' for blocks."""
    tl = cq.timeline([s["id01"], s["id02"]], *MARCH, actor=actor)
    out = {}
    for instrument in (s["id01"], s["id02"]):
        out[instrument.code] = {i.status if i.experiment else "block" for i in tl.items[instrument.id]}
    return out


def pi_of(award):
    return award.proposal.members[0].user


def test_a_user_sees_published_experiments_and_blocks_but_no_draft(s):
    user = make_user()
    db.session.commit()
    assert seen(user, s) == {"ID01": {"block"}, "ID02": {"published"}}


def test_the_pi_of_a_draft_session_does_not_see_it_before_publication(s):
    a1 = s["awards"][0]
    assert seen(pi_of(a1), s)["ID01"] == {"block"}
    assert cq.my_experiments(pi_of(a1)) == []


@pytest.mark.parametrize("role", [Role.USER_OFFICE, Role.ADMIN, Role.DIRECTOR])
def test_staff_and_directors_see_drafts(s, role):
    person = make_user(roles=[role])
    db.session.commit()
    assert seen(person, s) == {"ID01": {"block", "planned"}, "ID02": {"published"}}


def test_an_instrument_scientist_sees_drafts_of_their_instrument_only(s):
    scientist = make_scientist(s["id02"])
    assert seen(scientist, s)["ID01"] == {"block"}
    scientist01 = make_scientist(s["id01"])
    assert seen(scientist01, s)["ID01"] == {"block", "planned"}


def test_timeline_shows_mode_periods_and_shutdowns_of_the_range(s):
    tl = cq.timeline([s["id01"]], *MARCH, actor=s["staff"])
    assert [m.label for m in tl.modes] == ["Multibunch", "Timing"]
    assert [(d.css, d.starts_at) for d in tl.downtimes] == [("shutdown", facility_queries.grid().start(day(5), 0))]
    # a week that sees neither the second mode nor the shutdown
    g = facility_queries.grid()
    tl = cq.timeline([s["id01"]], g.start(day(1), 0), g.start(day(3), 0), actor=s["staff"])
    assert [m.label for m in tl.modes] == ["Multibunch"] and tl.downtimes == []


def test_cancelled_experiments_are_not_drawn(s):
    s["pinned"].status = BookingStatus.CANCELLED
    db.session.commit()
    assert seen(s["staff"], s)["ID02"] == set()


def test_my_experiments_lists_published_sessions_of_my_proposals_and_those_i_support(s):
    a5 = s["awards"][4]
    mine = cq.my_experiments(pi_of(a5))
    assert [(m.item.booking.id, m.role) for m in mine] == [(s["pinned"].id, "team")]
    contact = cq.my_experiments(s["contact"])
    assert [(m.item.booking.id, m.role) for m in contact] == [(s["pinned"].id, "local_contact")]
    assert cq.my_experiments(make_user()) == []


def test_a_proprietary_experiment_shows_its_details_only_to_its_people_and_staff(s):
    a5 = s["awards"][4]
    a5.proposal.call.route = AccessRoute.PROPRIETARY
    db.session.commit()
    other = make_user()
    db.session.commit()
    (item,) = [i for i in cq.timeline([s["id02"]], *MARCH, actor=other).items[s["id02"].id]]
    assert item.details is False and item.reference is None and item.title == ""
    (item,) = cq.timeline([s["id02"]], *MARCH, actor=pi_of(a5)).items[s["id02"].id]
    assert item.details and item.reference == a5.proposal.reference
    (item,) = cq.timeline([s["id02"]], *MARCH, actor=s["staff"]).items[s["id02"].id]
    assert item.details


def test_current_includes_the_first_instant_and_excludes_the_end(s):
    pinned = s["pinned"]
    assert cq.current_experiment(s["id02"], pinned.starts_at).booking_id == pinned.id
    assert cq.current_experiment(s["id02"], pinned.ends_at - timedelta(microseconds=1)).booking_id == pinned.id
    assert cq.current_experiment(s["id02"], pinned.ends_at) is None
    assert cq.current_experiment(s["id02"], pinned.starts_at - timedelta(microseconds=1)) is None


def test_a_draft_is_never_current(s):
    draft = s["draft"]
    assert cq.current_experiment(s["id01"], draft.starts_at) is None
    draft.status = BookingStatus.RUNNING
    db.session.commit()
    assert cq.current_experiment(s["id01"], draft.starts_at).booking_id == draft.id


def test_running_now_lists_every_instrument_with_what_occupies_it(s):
    pinned = s["pinned"]
    user = make_user()
    db.session.commit()
    rows = dict((i.code, item) for i, item in cq.running_now(pinned.starts_at + timedelta(hours=1), actor=user))
    assert rows["ID02"].booking.id == pinned.id
    assert rows["ID01"] is None
    g = facility_queries.grid()
    rows = dict((i.code, item) for i, item in cq.running_now(g.start(day(3), 1), actor=user))
    assert rows["ID01"].booking.kind == BookingKind.MAINTENANCE


def test_view_ranges_are_local_weeks_months_and_cycles(s):
    tz = facility_queries.grid().tz
    week = cq.view_range("week", day(10), tz)
    assert week.first_day == day(8) and week.last_day == day(14)
    assert week.start == datetime(2027, 3, 8, tzinfo=tz)
    month = cq.view_range("month", day(10), tz)
    assert (month.first_day, month.last_day) == (day(1), day(31)) and month.next == datetime(2027, 4, 1).date()
    # the month of the spring change has 743 hours
    assert (month.end - month.start) == timedelta(hours=31 * 24 - 1)
    cycle = cq.view_range("cycle", day(10), tz, cycle=s["cycle"])
    assert (cycle.first_day, cycle.last_day) == (day(1), day(14))


# --- feed tokens ----------------------------------------------------------------------------


def test_a_feed_stores_only_the_hash_of_its_secret(s):
    user = make_user()
    db.session.commit()
    feed, secret = feeds.create_feed("instrument", instrument_id=s["id02"].id, actor=user)
    row = db.session.scalar(select(CalendarFeed).where(CalendarFeed.id == feed.id))
    assert secret.startswith("bcal_") and len(secret) > 40
    assert row.token_hash == feeds.hash_secret(secret) and secret not in (row.token_hash, row.prefix)
    assert feeds.feed_for_secret(secret).id == feed.id


def test_a_revoked_feed_is_refused(s):
    user = make_user()
    db.session.commit()
    feed, secret = feeds.create_feed("user", actor=user)
    feeds.revoke_feed(feed.id, actor=user)
    with pytest.raises(NotFound):
        feeds.feed_for_secret(secret)
    with pytest.raises(InvalidState, match="feed_already_revoked"):
        feeds.revoke_feed(feed.id, actor=user)


def test_someone_elses_feed_cannot_be_revoked_but_an_admin_may(s):
    user, other = make_user(), make_user()
    admin = make_user(roles=[Role.ADMIN])
    db.session.commit()
    feed, secret = feeds.create_feed("user", actor=user)
    with pytest.raises(NotFound):
        feeds.revoke_feed(feed.id, actor=other)
    assert feeds.feed_for_secret(secret).revoked_at is None
    feeds.revoke_feed(feed.id, actor=admin)
    assert db.session.get(CalendarFeed, feed.id).revoked_at is not None


@pytest.mark.parametrize(
    ("kind", "instrument_id", "field"),
    [("nonsense", None, "kind"), ("instrument", None, "instrument_id"), ("instrument", "999999", "instrument_id")],
)
def test_bad_feed_input_names_the_field_and_stores_nothing(s, kind, instrument_id, field):
    user = make_user()
    db.session.commit()
    with pytest.raises(ValidationFailed) as caught:
        feeds.create_feed(kind, instrument_id=instrument_id, actor=user)
    assert caught.value.field == field
    assert db.session.scalar(select(CalendarFeed.id)) is None


def test_unknown_or_malformed_secrets_are_refused(s):
    for secret in ("", "bcal_nothing", "x" * 500, "bt_notafeed"):
        with pytest.raises(NotFound):
            feeds.feed_for_secret(secret)


def test_anonymous_cannot_make_a_feed(s):
    from flask_login import AnonymousUserMixin

    with pytest.raises(PermissionDenied):
        feeds.create_feed("user", actor=AnonymousUserMixin())


def test_feed_rows_of_a_person_are_published_sessions_and_cancelled_ones_once_published(s):
    a5 = s["awards"][4]
    now = datetime(2027, 3, 1, tzinfo=UTC)
    pi = pi_of(a5)
    assert [b.id for b, _e in cq.feed_rows_of_user(pi.id, now=now)] == [s["pinned"].id]
    experiment = db.session.get(Experiment, s["pinned"].id)
    experiment.published_at = now
    s["pinned"].status = BookingStatus.CANCELLED
    db.session.commit()
    assert [b.status for b, _e in cq.feed_rows_of_user(pi.id, now=now)] == [BookingStatus.CANCELLED]
    # the draft of a1 is in no feed
    assert cq.feed_rows_of_user(pi_of(s["awards"][0]).id, now=now) == []
