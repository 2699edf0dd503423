"""Front desk: check-in (green checklist, or an override with a reason, audit logged),
check-out, the roll call at a given instant, and who may do it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.core.errors import Conflict, InvalidState, PermissionDenied, ValidationFailed
from app.core.models import AuditEntry
from app.extensions import db
from app.visits.desk import queries, services
from app.visits.desk.models import SitePresence
from app.visits.guesthouse import services as guest_services
from app.visits.status import VisitStatus
from tests import factories_proposals as fp
from tests.factories import make_user
from tests.factories_onsite import approved_visit, make_room, office
from tests.factories_visits import make_published_experiment, name_visitor

ARRIVAL = datetime(2027, 3, 9, 16, 0, tzinfo=UTC)


def _audit(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_a_green_checklist_checks_in_and_the_visit_moves_on_site():
    visit = approved_visit()
    services.check_in(visit.id, actor=office(), now=ARRIVAL)
    assert visit.status == VisitStatus.ON_SITE
    assert queries.presence(visit.id).checked_in_at == ARRIVAL
    assert _audit("visit.checked_in") and not _audit("visit.checklist_overridden")
    with pytest.raises(Conflict, match="already_checked_in"):
        services.check_in(visit.id, actor=office(), now=ARRIVAL)


def test_an_incomplete_checklist_is_refused_without_an_override_and_allowed_with_one():
    visit = approved_visit(accommodation=True)  # asked for a room that nobody assigned
    desk = office()
    with pytest.raises(InvalidState) as exc:
        services.check_in(visit.id, actor=desk, now=ARRIVAL)
    assert exc.value.code == "checklist_incomplete" and "accommodation" in exc.value.params["items"]
    assert visit.status == VisitStatus.APPROVED and queries.presence(visit.id) is None
    with pytest.raises(InvalidState):  # blank is no reason
        services.check_in(visit.id, override_reason="   ", actor=desk, now=ARRIVAL)
    with pytest.raises(ValidationFailed) as exc:
        services.check_in(visit.id, override_reason="x" * 1001, actor=desk, now=ARRIVAL)
    assert exc.value.field == "override_reason"
    assert queries.presence(visit.id) is None
    services.check_in(visit.id, override_reason="Stays in a hotel in town", actor=desk, now=ARRIVAL)
    assert visit.status == VisitStatus.ON_SITE
    [entry] = _audit("visit.checklist_overridden")
    assert entry.actor_id == desk.id
    assert entry.changes["reason"] == "Stays in a hotel in town"
    assert entry.changes["items"] == ["accommodation"]
    assert queries.presence(visit.id).override_reason == "Stays in a hotel in town"


def test_only_approved_on_site_visits_check_in():
    experiment = make_published_experiment()
    requested = name_visitor(experiment)
    with pytest.raises(InvalidState, match="visit_transition_not_allowed"):
        services.check_in(requested.id, override_reason="VIP", actor=office(), now=ARRIVAL)
    remote = name_visitor(experiment, fp.make_person(), mode="remote")
    with pytest.raises(InvalidState, match="remote_visit_no_check_in"):
        services.check_in(remote.id, override_reason="VIP", actor=office(), now=ARRIVAL)


def test_only_the_staff_use_the_desk_and_nothing_changes():
    visit = approved_visit()
    for actor in (visit.user, make_user()):
        with pytest.raises(PermissionDenied):
            services.check_in(visit.id, override_reason="me", actor=actor, now=ARRIVAL)
    assert visit.status == VisitStatus.APPROVED
    assert db.session.scalar(select(db.func.count()).select_from(SitePresence)) == 0
    services.check_in(visit.id, actor=office(), now=ARRIVAL)
    with pytest.raises(PermissionDenied):
        services.check_out(visit.id, actor=visit.user, now=ARRIVAL)
    assert visit.status == VisitStatus.ON_SITE


def test_check_out_completes_the_visit_and_frees_the_nights_from_today():
    visit = approved_visit(accommodation=True)
    room = make_room()
    desk = office()
    guest_services.book_bed(visit.id, room.beds[0].id, actor=desk, now=ARRIVAL)  # nights 9, 10, 11 March
    services.check_in(visit.id, actor=desk, now=ARRIVAL)
    leaving = datetime(2027, 3, 10, 9, 0, tzinfo=UTC)  # leaves a day early
    services.check_out(visit.id, actor=desk, now=leaving)
    assert visit.status == VisitStatus.COMPLETED
    from app.visits.guesthouse import queries as guest_queries

    [booking] = guest_queries.nights_of(visit.id)
    assert (booking.first_night.day, booking.last_night.day) == (9, 9)
    with pytest.raises(InvalidState, match="visit_not_on_site"):
        services.check_out(visit.id, actor=desk, now=leaving)


def test_the_roll_call_is_right_at_any_instant():
    contact = make_user(name="Lena Contact")
    experiment = make_published_experiment(local_contact=contact)
    a = approved_visit(experiment, accommodation=True)
    b_user = fp.make_person()
    b = name_visitor(experiment, b_user)
    from app.visits import services as visit_services
    from tests.factories_visits import EARLY, registration

    visit_services.complete_registration(b.id, registration(), actor=b_user, now=EARLY)
    visit_services.decide_visit(b.id, "approve", actor=office(), now=EARLY)
    room = make_room(name="Curie 3")
    desk = office()
    guest_services.book_bed(a.id, room.beds[0].id, actor=desk, now=EARLY)
    t1, t2, t3 = ARRIVAL, ARRIVAL + timedelta(hours=2), ARRIVAL + timedelta(days=1)
    services.check_in(a.id, actor=desk, now=t1)
    services.check_in(b.id, actor=desk, now=t2)
    services.check_out(a.id, actor=desk, now=t3)

    def names(at):
        return [r.name for r in queries.on_site_at(at)]

    assert names(t1 - timedelta(seconds=1)) == []
    assert names(t1) == [a.user.name]
    assert sorted(names(t2)) == sorted([a.user.name, b.user.name])
    assert sorted(names(t3 - timedelta(seconds=1))) == sorted([a.user.name, b.user.name])
    assert names(t3) == [b.user.name]
    [row] = [r for r in queries.on_site_at(t2) if r.visit_id == a.id]
    assert (row.instrument, row.local_contact, row.room, row.arrived_at) == (
        experiment.booking.instrument.code,
        "Lena Contact",
        "Curie 3",
        t1,
    )


def test_the_desk_finds_visitors_by_name_or_proposal_reference():
    visit = approved_visit()
    reference = visit.experiment.award.proposal.reference
    assert [v.id for v in queries.search(visit.user.name.split()[0], now=ARRIVAL)] == [visit.id]
    assert visit.id in [v.id for v in queries.search(reference.lower(), now=ARRIVAL)]
    assert queries.search("no such person at all", now=ARRIVAL) == []
    assert visit.id in [v.id for v in queries.search("", now=ARRIVAL)]  # arriving today
