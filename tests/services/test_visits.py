"""Visits: naming visitors, registration, decisions, site access, safety, training, the
subscriber to ExperimentCancelled, reminders and the erasure of citizenship."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, text

from app.accounts.models import Role
from app.core import events
from app.core.errors import InvalidState, NotFound, PermissionDenied, ValidationFailed
from app.core.models import AuditEntry, OutboxMessage
from app.extensions import db
from app.facility.models import BookingStatus
from app.scheduling.events import ExperimentCancelled
from app.visits import queries, services
from app.visits.checklist import ItemKey, ItemState, NextActor
from app.visits.models import AccessStatus, Visit
from app.visits.status import VisitStatus
from tests import factories_proposals as fp
from tests.factories import make_user
from tests.factories_visits import (
    EARLY,
    add_record,
    make_course,
    make_published_experiment,
    make_role,
    make_rule,
    make_scientist,
    name_visitor,
    registration,
    sign_off,
)


def _items(visit, now=EARLY):
    return {i.key: i for i in queries.visit_checklist(visit, now)}


def _bodies() -> str:
    return "\n".join(m.body_text + (m.body_html or "") + m.subject for m in db.session.scalars(select(OutboxMessage)))


# --- naming visitors ----------------------------------------------------------------------


def test_pi_names_a_co_proposer_with_an_affiliation_snapshot_of_its_own():
    co = fp.make_person(country_code="DE")
    experiment = make_published_experiment(co_proposers=(co,))
    visit = name_visitor(experiment, co)
    assert visit.status == VisitStatus.REQUESTED
    assert visit.country_code == "DE" and visit.institution_name == co.institution.name
    co.institution.country_code = "IT"  # the person moves: the visit keeps its snapshot
    db.session.commit()
    assert db.session.get(Visit, visit.id).country_code == "DE"
    assert any(co.email in m.recipients for m in db.session.scalars(select(OutboxMessage)))


def test_remote_participation_is_registered_at_once():
    experiment = make_published_experiment()
    visit = name_visitor(experiment, mode="remote")
    assert visit.status == VisitStatus.REGISTERED
    assert visit.registered_at is not None


def test_only_the_team_names_visitors_and_only_for_a_published_experiment():
    experiment = make_published_experiment()
    outsider = make_user()
    with pytest.raises(NotFound):
        services.add_visitor(experiment.booking_id, mode="on_site", user_id=outsider.id, actor=outsider, now=EARLY)
    staff = make_role(Role.USER_OFFICE)
    with pytest.raises(PermissionDenied):
        services.add_visitor(experiment.booking_id, mode="on_site", user_id=staff.id, actor=staff, now=EARLY)
    planned = make_published_experiment(status=BookingStatus.PLANNED)
    pi = planned.award.proposal.pi.user
    with pytest.raises(NotFound):  # the team does not see a planned experiment yet
        services.add_visitor(planned.booking_id, mode="on_site", user_id=pi.id, actor=pi, now=EARLY)
    assert db.session.scalar(select(db.func.count(Visit.id))) == 0


def test_a_person_not_on_the_team_is_refused_and_a_duplicate_too():
    experiment = make_published_experiment()
    pi = experiment.award.proposal.pi.user
    stranger = make_user()
    with pytest.raises(ValidationFailed) as exc:
        services.add_visitor(experiment.booking_id, mode="on_site", user_id=stranger.id, actor=pi, now=EARLY)
    assert exc.value.field == "user_id"
    name_visitor(experiment)
    with pytest.raises(ValidationFailed, match="already_visitor"):
        name_visitor(experiment)


def test_invitation_by_email_is_signed_expires_and_is_accepted_by_its_addressee_only():
    experiment = make_published_experiment()
    pi = experiment.award.proposal.pi.user
    invitation, token = services.add_visitor(
        experiment.booking_id, mode="on_site", email="Guest@Example.org", actor=pi, now=EARLY
    )
    assert invitation.email == "guest@example.org"
    assert "guest@example.org" in [r for m in db.session.scalars(select(OutboxMessage)) for r in m.recipients]
    other = make_user(email="other@example.org")
    with pytest.raises(PermissionDenied):
        services.accept_invitation(token, actor=other, now=EARLY)
    guest = fp.make_person(email="guest@example.org", country_code="JP")
    with pytest.raises(InvalidState, match="invitation_expired"):
        services.accept_invitation(token, actor=guest, now=EARLY + timedelta(days=15))
    with pytest.raises(InvalidState, match="link_invalid"):
        services.accept_invitation(token[:-2] + "xx", actor=guest, now=EARLY)
    visit = services.accept_invitation(token, actor=guest, now=EARLY)
    assert (visit.user_id, visit.country_code, visit.status) == (guest.id, "JP", VisitStatus.REQUESTED)
    assert services.accept_invitation(token, actor=guest, now=EARLY).id == visit.id  # opened twice


# --- registration -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arrives_on", "departs_on", "field"),
    [
        (date(2027, 3, 7), date(2027, 3, 11), "arrives_on"),  # 3 days early, margin 2
        (date(2027, 3, 8), date(2027, 3, 15), "departs_on"),  # ends 12 March, margin 2 → 14 at the latest
        (date(2027, 3, 13), date(2027, 3, 14), "arrives_on"),  # arrives after the experiment
        (date(2027, 3, 8), date(2027, 3, 9), "departs_on"),  # leaves before it starts
        (date(2027, 3, 11), date(2027, 3, 10), "departs_on"),
        (None, date(2027, 3, 10), "arrives_on"),
    ],
)
def test_dates_must_overlap_the_experiment_within_the_margins(arrives_on, departs_on, field):
    experiment = make_published_experiment()  # 10 March 08:00 to 12 March 08:00 Zurich (6 shifts)
    visit = name_visitor(experiment)
    with pytest.raises(ValidationFailed) as exc:
        services.complete_registration(
            visit.id, registration(arrives_on=arrives_on, departs_on=departs_on), actor=visit.user, now=EARLY
        )
    assert exc.value.field == field
    db.session.refresh(visit)
    assert visit.registered_at is None and visit.arrives_on is None


def test_margins_come_from_the_settings_and_the_edges_are_accepted():
    experiment = make_published_experiment()
    visit = name_visitor(experiment)
    services.complete_registration(
        visit.id, registration(arrives_on=date(2027, 3, 8), departs_on=date(2027, 3, 13)), actor=visit.user, now=EARLY
    )
    assert visit.registered_at is not None


def test_only_the_visitor_completes_the_registration_and_bad_phone_is_refused():
    co = fp.make_person()
    experiment = make_published_experiment(co_proposers=(co,))
    visit = name_visitor(experiment, co)
    with pytest.raises(PermissionDenied):
        services.complete_registration(visit.id, registration(), actor=experiment.award.proposal.pi.user, now=EARLY)
    with pytest.raises(ValidationFailed) as exc:
        services.complete_registration(visit.id, registration(emergency_contact_phone="call me"), actor=co, now=EARLY)
    assert exc.value.field == "emergency_contact_phone"


# --- decisions ----------------------------------------------------------------------------


def test_approval_waits_for_safety_then_the_office_approves_and_the_checklist_turns_green():
    experiment = make_published_experiment()
    visit = name_visitor(experiment)
    office = make_role(Role.USER_OFFICE)
    with pytest.raises(InvalidState, match="visit_registration_incomplete"):
        services.decide_visit(visit.id, "approve", actor=office, now=EARLY)
    services.complete_registration(visit.id, registration(), actor=visit.user, now=EARLY)
    assert _items(visit)[ItemKey.REGISTRATION].detail == "waits_for_safety"
    with pytest.raises(InvalidState, match="visit_waits_for_safety"):
        services.decide_visit(visit.id, "approve", actor=office, now=EARLY)
    sign_off(experiment)
    services.decide_visit(visit.id, "approve", actor=office, now=EARLY)
    assert visit.status == VisitStatus.APPROVED
    assert all(i.is_green for i in queries.visit_checklist(visit, EARLY))
    with pytest.raises(InvalidState):  # the visitor can no longer cancel
        services.cancel_visit(visit.id, actor=visit.user, now=EARLY)


def test_refusal_and_changes_need_a_reason_and_changes_come_back_as_a_request():
    experiment = make_published_experiment()
    visit = name_visitor(experiment)
    office = make_role(Role.USER_OFFICE)
    with pytest.raises(ValidationFailed) as exc:
        services.decide_visit(visit.id, "refuse", actor=office, now=EARLY)
    assert exc.value.field == "reason"
    services.decide_visit(visit.id, "request_changes", reason="Arrive a day later", actor=office, now=EARLY)
    assert visit.status == VisitStatus.CHANGES_REQUESTED
    services.complete_registration(visit.id, registration(), actor=visit.user, now=EARLY)
    assert visit.status == VisitStatus.REQUESTED
    services.decide_visit(visit.id, "refuse", reason="No room", actor=office, now=EARLY)
    assert visit.status == VisitStatus.REFUSED
    with pytest.raises(PermissionDenied):
        services.decide_visit(visit.id, "approve", actor=visit.user, now=EARLY)


def test_visitor_cancels_a_request():
    experiment = make_published_experiment()
    visit = name_visitor(experiment)
    services.cancel_visit(visit.id, actor=visit.user, now=EARLY)
    assert visit.status == VisitStatus.CANCELLED
    visit2 = name_visitor(experiment)  # a cancelled visit frees the person for a new one
    assert visit2.id != visit.id


# --- site access and citizenship ------------------------------------------------------------


def test_late_access_request_is_flagged_with_the_days_missing_and_the_approver_decides():
    make_rule(("FR",), lead_days=60, needs_approval=True)
    experiment = make_published_experiment()
    visit = name_visitor(experiment)
    # arrival 9 March, 60 days before = 8 January; requested 1 February (Zurich) = 24 days late
    services.complete_registration(visit.id, registration(), actor=visit.user, now=EARLY)
    assert visit.access_status == AccessStatus.PENDING
    assert visit.access_late_days == 24
    approver = make_role(Role.ACCESS_APPROVER)
    with pytest.raises(InvalidState, match="access_waits_for_safety"):
        services.decide_access(visit.id, True, actor=approver, now=EARLY)
    sign_off(experiment)
    office = make_role(Role.USER_OFFICE)
    with pytest.raises(InvalidState, match="visit_waits_for_access"):
        services.decide_visit(visit.id, "approve", actor=office, now=EARLY)
    with pytest.raises(PermissionDenied):
        services.decide_access(visit.id, True, actor=office, now=EARLY)
    services.decide_access(visit.id, True, note="Late but fine", actor=approver, now=EARLY)
    assert visit.access_status == AccessStatus.APPROVED
    services.decide_visit(visit.id, "approve", actor=office, now=EARLY)
    assert visit.status == VisitStatus.APPROVED


def test_on_time_request_has_no_flag_and_countries_outside_the_group_need_nothing():
    make_rule(("FR",), lead_days=30)
    experiment = make_published_experiment()
    visit = name_visitor(experiment)
    services.complete_registration(visit.id, registration(), actor=visit.user, now=datetime(2027, 1, 5, tzinfo=UTC))
    assert (visit.access_status, visit.access_late_days) == (AccessStatus.PENDING, 0)
    co = fp.make_person(country_code="CH")
    other = name_visitor(experiment, co)
    services.complete_registration(other.id, registration(), actor=co, now=EARLY)
    assert other.access_status == AccessStatus.NOT_NEEDED


def test_citizenship_is_asked_only_when_a_rule_depends_on_it():
    experiment = make_published_experiment()
    visit = name_visitor(experiment)
    services.complete_registration(visit.id, registration(citizenship="IR"), actor=visit.user, now=EARLY)
    assert visit.citizenship is None  # no rule on citizenship: not even stored
    make_rule(("IR",), lead_days=60, by_citizenship=True)
    visit2 = name_visitor(make_published_experiment())
    with pytest.raises(ValidationFailed) as exc:
        services.complete_registration(visit2.id, registration(), actor=visit2.user, now=EARLY)
    assert exc.value.field == "citizenship"
    with pytest.raises(ValidationFailed):
        services.complete_registration(visit2.id, registration(citizenship="QQ"), actor=visit2.user, now=EARLY)
    services.complete_registration(visit2.id, registration(citizenship="IR"), actor=visit2.user, now=EARLY)
    assert visit2.citizenship == "IR" and visit2.access_status == AccessStatus.PENDING


def _cells_holding(value: str) -> list[str]:
    """Every table cell equal to `value`, or holding it as a JSON string or in a text body."""
    found = []
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(select(table)).mappings():
            for column, cell in row.items():
                if cell is None:
                    continue
                as_text = str(cell)
                if as_text == value or f"'{value}'" in as_text or f'"{value}"' in as_text or "Marta Example" in as_text:
                    found.append(f"{table.name}.{column}")
    return found


def test_citizenship_and_emergency_contact_never_in_audit_or_outbox_and_erased_by_the_job():
    make_rule(("IR",), lead_days=60, by_citizenship=True)
    experiment = make_published_experiment()
    visit = name_visitor(experiment)
    services.complete_registration(visit.id, registration(citizenship="IR"), actor=visit.user, now=EARLY)
    sign_off(experiment)
    approver = make_role(Role.ACCESS_APPROVER)
    services.decide_access(visit.id, True, actor=approver, now=EARLY)
    services.decide_visit(visit.id, "approve", actor=make_role(Role.USER_OFFICE), now=EARLY)
    audits = db.session.scalars(select(AuditEntry).where(AuditEntry.object_type == "Visit")).all()
    assert any("citizenship" in a.changes for a in audits)  # recorded as changed…
    assert "IR" not in str([a.changes for a in audits]).replace("«changed»", "")  # …never its value
    assert "Marta" not in str([a.changes for a in audits])
    assert "IR" not in _bodies().split() and "Iran" not in _bodies() and "Marta" not in _bodies()
    assert _cells_holding("IR") == ["visits.citizenship"] or set(_cells_holding("IR")) <= {
        "visits.citizenship",
        "visits.emergency_contact_name",
        "country_group_members.country_code",
    }
    # the job before the retention period ends: nothing erased
    assert services.erase_expired_personal_data(now=datetime(2027, 4, 1, tzinfo=UTC)) == 0
    # 30 days (the default) after departure on 12 March
    assert services.erase_expired_personal_data(now=datetime(2027, 4, 12, 12, tzinfo=UTC)) == 1
    db.session.refresh(visit)
    assert visit.citizenship is None and visit.emergency_contact_name is None and visit.emergency_contact_phone is None
    assert set(_cells_holding("IR")) <= {"country_group_members.country_code"}  # only the rule's group remains
    assert services.erase_expired_personal_data(now=datetime(2027, 5, 1, tzinfo=UTC)) == 0


def test_access_queue_and_pages_data_never_expose_citizenship_to_others():
    from app.visits import permissions

    make_rule(("IR",), lead_days=10, by_citizenship=True)
    experiment = make_published_experiment()
    visit = name_visitor(experiment)
    services.complete_registration(visit.id, registration(citizenship="IR"), actor=visit.user, now=EARLY)
    assert permissions.can_see_citizenship(visit.user, visit)
    assert permissions.can_see_citizenship(make_role(Role.ACCESS_APPROVER), visit)
    for role in (Role.USER_OFFICE, Role.ADMIN, Role.DIRECTOR, Role.SAFETY_REVIEWER):
        assert not permissions.can_see_citizenship(make_role(role), visit)
    assert not permissions.can_see_citizenship(experiment.award.proposal.pi.user, visit) or (
        experiment.award.proposal.pi.user.id == visit.user_id
    )


# --- safety and training ---------------------------------------------------------------------


def test_hazardous_samples_need_the_safety_reviewer_after_the_scientist():
    experiment = make_published_experiment(hazards=("radioactive",))
    pi = experiment.award.proposal.pi.user
    reviewer = make_role(Role.SAFETY_REVIEWER)
    with pytest.raises(InvalidState, match="safety_not_confirmed"):
        services.sign_safety(experiment.booking_id, actor=reviewer, now=EARLY)
    services.confirm_safety(experiment.booking_id, queries.proposal_samples(experiment), actor=pi, now=EARLY)
    with pytest.raises(InvalidState, match="safety_waits_for_scientist"):
        services.sign_safety(experiment.booking_id, actor=reviewer, now=EARLY)
    scientist = make_scientist(experiment)
    services.sign_safety(experiment.booking_id, actor=scientist, now=EARLY)
    safety = queries.find_safety(experiment.booking_id)
    assert not queries.safety_done(safety)
    services.sign_safety(experiment.booking_id, actor=reviewer, now=EARLY)
    assert queries.safety_done(safety)
    # the team edits the samples: the sign-offs are asked again
    services.confirm_safety(experiment.booking_id, [{"name": "Water", "hazards": []}], actor=pi, now=EARLY)
    assert safety.scientist_signed_at is None and safety.reviewer_signed_at is None


def test_scientist_of_another_instrument_cannot_sign():
    experiment = make_published_experiment()
    other = make_published_experiment()
    services.confirm_safety(
        experiment.booking_id, [{"name": "x", "hazards": []}], actor=experiment.award.proposal.pi.user, now=EARLY
    )
    with pytest.raises(NotFound):
        services.sign_safety(experiment.booking_id, actor=make_scientist(other), now=EARLY)


def test_parse_samples_names_the_field():
    assert services.parse_samples("Pt/CeO2: none\nU3O8: radioactive, toxic") == [
        {"name": "Pt/CeO2", "hazards": []},
        {"name": "U3O8", "hazards": ["radioactive", "toxic"]},
    ]
    for bad in ("", ": toxic", "x: explosive-ish"):
        with pytest.raises(ValidationFailed) as exc:
            services.parse_samples(bad)
        assert exc.value.field == "samples"


def test_training_expiring_before_arrival_is_flagged():
    course = make_course(validity_days=365)
    experiment = make_published_experiment()
    visit = name_visitor(experiment)
    assert _items(visit)[ItemKey.TRAINING].state == ItemState.TODO  # no record at all
    add_record(visit.user, course, date(2026, 3, 8))  # expires 8 March 2027, arrival 9 March
    services.complete_registration(visit.id, registration(), actor=visit.user, now=EARLY)
    item = _items(visit)[ItemKey.TRAINING]
    assert (item.state, item.actor, item.detail) == (ItemState.TODO, NextActor.VISITOR, course.name)
    add_record(visit.user, course, date(2026, 3, 20))
    assert _items(visit)[ItemKey.TRAINING].state == ItemState.DONE


def test_record_training_sets_the_expiry_and_who_recorded_it():
    course = make_course(validity_days=730)
    person = make_user()
    scientist = make_user(roles=[(Role.INSTRUMENT_SCIENTIST, 1)])
    record = services.record_training(person.email, course.id, date(2027, 1, 10), actor=scientist, now=EARLY)
    assert record.expires_on == date(2029, 1, 9) and record.recorded_by_id == scientist.id
    with pytest.raises(PermissionDenied):
        services.record_training(person.email, course.id, date(2027, 1, 10), actor=person, now=EARLY)
    with pytest.raises(ValidationFailed) as exc:
        services.record_training(person.email, course.id, date(2027, 3, 1), actor=scientist, now=EARLY)
    assert exc.value.field == "completed_on"


# --- the cancelled experiment -----------------------------------------------------------------


def test_a_cancelled_experiment_cancels_its_visits_and_tells_the_visitors():
    experiment = make_published_experiment()
    co = fp.make_person()
    approved = name_visitor(experiment)
    services.complete_registration(approved.id, registration(), actor=approved.user, now=EARLY)
    sign_off(experiment)
    services.decide_visit(approved.id, "approve", actor=make_role(Role.USER_OFFICE), now=EARLY)
    remote = name_visitor(experiment, co, mode="remote")
    pi = experiment.award.proposal.pi.user
    _inv, _token = services.add_visitor(
        experiment.booking_id, mode="on_site", email="late@example.org", actor=pi, now=EARLY
    )
    before = db.session.scalar(select(db.func.count(OutboxMessage.id)))
    experiment.booking.status = BookingStatus.CANCELLED  # what the scheduling service does, then publishes
    events.publish(ExperimentCancelled(experiment.booking_id))
    db.session.commit()
    assert approved.status == VisitStatus.CANCELLED and remote.status == VisitStatus.CANCELLED
    mails = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()[before:]
    assert sorted(r for m in mails for r in m.recipients) == sorted([pi.email, co.email])
    assert all("cancelled" in m.subject for m in mails)
    events.publish(ExperimentCancelled(experiment.booking_id))  # again: nothing more
    assert db.session.scalar(select(db.func.count(OutboxMessage.id))) == before + 2


# --- reminders --------------------------------------------------------------------------------


def test_reminders_are_sent_once_per_item_and_stage_however_often_the_job_runs():
    experiment = make_published_experiment()
    visit = name_visitor(experiment)  # registration and accommodation due 24 Feb, safety 3 March (the team)
    first = datetime(2027, 2, 12, 9, tzinfo=UTC)  # 12 days before 24 Feb: the 14-day stage
    sent = services.send_visit_reminders(now=first)
    assert sent == 2  # registration and accommodation to the visitor; safety is 19 days away
    for _ in range(3):
        assert services.send_visit_reminders(now=first + timedelta(hours=1)) == 0
    # 7-day stage of the visitor's two items, 14-day stage of the safety declaration (13 days left)
    assert services.send_visit_reminders(now=datetime(2027, 2, 18, 9, tzinfo=UTC)) == 3
    assert services.send_visit_reminders(now=datetime(2027, 2, 18, 10, tzinfo=UTC)) == 0
    keys = db.session.scalars(
        select(OutboxMessage.idempotency_key).where(OutboxMessage.idempotency_key.like("visit-reminder:%"))
    ).all()
    assert len(keys) == len(set(keys)) == 5
    assert f"visit-reminder:{visit.id}:registration:14d:{visit.user_id}" in keys


def test_tables_exist_with_their_check_constraints():
    with pytest.raises(Exception):  # noqa: B017 - the database refuses it (IntegrityError)
        with db.session.begin_nested():
            db.session.execute(
                text(
                    "INSERT INTO access_rules (country_group_id, lead_days, working_days, needs_approval, by_citizenship, created_at) VALUES (1, -1, false, false, false, '2027-01-01')"
                )
            )


def test_the_periodic_jobs_are_registered_and_run_through_their_services():
    from app.jobs import registry

    jobs = {p.name: p for p in registry.PERIODIC}
    assert {"visits.reminders", "visits.erase_personal_data"} <= set(jobs)
    jobs["visits.reminders"].func()  # nothing open: no error, nothing queued
    jobs["visits.erase_personal_data"].func()
    assert db.session.scalar(select(db.func.count(OutboxMessage.id))) == 0
