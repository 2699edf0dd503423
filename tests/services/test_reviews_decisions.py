"""The panel meeting, allocation on a hand-computed case, decisions released once, withdrawal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.accounts.models import Role
from app.core import settings
from app.core.errors import NotFound, PermissionDenied
from app.core.models import OutboxMessage
from app.extensions import db
from app.facility.models import CapacityCommitment
from app.proposals.status import ProposalStatus
from app.reviews import queries, services
from app.reviews.models import Award, Decision, Outcome, TechnicalReview
from tests.factories_reviews import AFTER_CLOSE, grant, make_review_setup

NOTIFY = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _ranked(setup, grades_and_ranks, *, chair=None):
    """Start the review; each proposal i gets grade g from reviewer 0 and final rank r."""
    services.start_review(setup.call.id, actor=setup.staff, now=AFTER_CLOSE)
    chair = chair or setup.reviewers[-1]
    grant(chair, Role.PANEL_CHAIR, setup.panel.id)
    for proposal, (grade, rank) in zip(setup.proposals, grades_and_ranks, strict=True):
        row = services.override_assignment(proposal.id, setup.reviewers[0].id, reason="r", actor=setup.staff)
        services.submit_review(
            row.id, grade=grade, comment_for_panel=f"Reviewer words {grade}", actor=setup.reviewers[0]
        )
        services.set_panel_decision(
            proposal.id,
            final_grade=grade,
            final_rank=rank,
            justification="Discussed at the meeting.",
            comment_for_pi=f"Chair comment for {proposal.reference}.",
            actor=chair,
        )
    return chair


def test_allocation_on_a_hand_computed_case():
    # capacity 10, minimum award 3. In rank order: A asks 6 → 6 (4 left); B asks 6 → 4 (partial,
    # 0 left); C asks 3 → 0 < 3 → nothing. C's final grade 4 ≥ 3.5: reserve. D (grade 2) rejected.
    setup = make_review_setup(reviewers=2, proposals=4, capacity=10, shifts=(6, 6, 3, 3))
    settings.set_setting("reviews.minimum_award", 3, actor=setup.staff)
    chair = _ranked(setup, [(5, 1), (4, 2), (4, 3), (2, 4)])
    assert chair is not None
    services.run_allocation(setup.call.id, actor=setup.staff, now=AFTER_CLOSE)
    awards = {a.proposal_id: a.shifts for a in queries.awards_of_call(setup.call.id)}
    a, b, c, d = setup.proposals
    assert awards == {a.id: 6, b.id: 4}
    outcomes = {x.proposal_id: x.outcome for x in queries.decisions_of_call(setup.call.id)}
    assert outcomes == {a.id: Outcome.ACCEPTED, b.id: Outcome.ACCEPTED, c.id: Outcome.RESERVE, d.id: Outcome.REJECTED}
    contact = {x.local_contact_id for x in queries.awards_of_call(setup.call.id)}
    assert contact == {setup.scientist.id}


def test_a_recommendation_is_what_is_allocated_and_not_feasible_gets_nothing():
    setup = make_review_setup(reviewers=2, proposals=2, capacity=20, shifts=(6, 6))
    services.start_review(setup.call.id, actor=setup.staff, now=AFTER_CLOSE)
    tasks = {t.proposal_id: t for t in db.session.scalars(select(TechnicalReview))}
    a, b = setup.proposals
    services.submit_technical_review(
        tasks[a.id].id,
        feasibility="feasible_with_changes",
        recommended_shifts=4,
        comment_for_panel="4 is enough",
        actor=setup.scientist,
    )
    services.submit_technical_review(
        tasks[b.id].id,
        feasibility="not_feasible",
        recommended_shifts=None,
        comment_for_panel="no",
        actor=setup.scientist,
    )
    services.run_allocation(setup.call.id, actor=setup.staff)
    assert {x.proposal_id: x.shifts for x in queries.awards_of_call(setup.call.id)} == {a.id: 4}


def test_long_term_awards_commit_shifts_on_the_following_cycles_by_name():
    setup = make_review_setup(reviewers=2, proposals=1, capacity=20, shifts=(5,))
    request = setup.proposals[0].requests[0]
    request.cycles = 2
    setup.call.cycle.name = "2031-I"
    db.session.commit()
    services.start_review(setup.call.id, actor=setup.staff, now=AFTER_CLOSE)
    services.run_allocation(setup.call.id, actor=setup.staff)
    award = db.session.scalar(select(Award))
    assert award.long_term and award.shifts == 5
    commitment = db.session.scalar(select(CapacityCommitment))
    assert (commitment.cycle_name, commitment.instrument_id, commitment.shifts) == ("2031-II", setup.instrument.id, 5)


def test_a_conflicted_chair_hands_the_proposal_to_the_deputy():
    setup = make_review_setup(reviewers=3, proposals=1)
    services.start_review(setup.call.id, actor=setup.staff, now=AFTER_CLOSE)
    chair, deputy = setup.reviewers[1], setup.reviewers[2]
    grant(chair, Role.PANEL_CHAIR, setup.panel.id)
    services.update_panel(
        setup.panel.id, name=setup.panel.name, subject_areas=["chemistry"], deputy_chair_id=deputy.id, actor=setup.staff
    )
    proposal = setup.proposals[0]
    chair.institution_id = proposal.pi.institution_id  # same institution as the PI
    db.session.commit()
    fields = dict(final_grade=4, final_rank=1, justification="j", comment_for_pi="c")
    with pytest.raises(PermissionDenied, match="chair_conflicted"):
        services.set_panel_decision(proposal.id, **fields, actor=chair)
    decision = services.set_panel_decision(proposal.id, **fields, actor=deputy)
    assert decision.decided_by_id == deputy.id
    with pytest.raises(NotFound):  # a plain reviewer is no chair
        services.set_panel_decision(proposal.id, **fields, actor=setup.reviewers[0])


def test_decisions_stay_hidden_until_the_notification_date_and_are_released_once():
    setup = make_review_setup(reviewers=2, proposals=2, capacity=6, shifts=(6, 6))
    _ranked(setup, [(5, 1), (4, 2)])
    services.run_allocation(setup.call.id, actor=setup.staff)
    services.sign_off_decisions(setup.call.id, notify_at=NOTIFY, actor=setup.staff)
    a, b = setup.proposals
    assert services.release_due_decisions(now=NOTIFY - timedelta(minutes=1)) == 0
    assert queries.released_decision(a.id, NOTIFY) is None
    assert a.status == ProposalStatus.UNDER_REVIEW
    letters_before = db.session.scalars(select(OutboxMessage).where(OutboxMessage.subject.like("Decision%"))).all()
    assert letters_before == []

    assert services.release_due_decisions(now=NOTIFY) == 2
    assert services.release_due_decisions(now=NOTIFY + timedelta(hours=1)) == 0
    letters = db.session.scalars(select(OutboxMessage).where(OutboxMessage.subject.like("Decision%"))).all()
    assert sorted(m.recipients[0] for m in letters) == sorted([a.pi.user.email, b.pi.user.email])
    assert a.status == ProposalStatus.ACCEPTED and b.status == ProposalStatus.RESERVE
    body_a = next(m.body_text for m in letters if m.recipients == [a.pi.user.email])
    assert "6 shifts" in body_a and f"Chair comment for {a.reference}." in body_a
    for message in letters:  # never a reviewer's name, e-mail or words
        for reviewer in setup.reviewers:
            assert reviewer.name not in message.body_text and reviewer.email not in message.body_text
        assert "Reviewer words" not in message.body_text


def test_a_withdrawn_award_goes_to_the_reserve_and_its_pi_is_told():
    setup = make_review_setup(reviewers=2, proposals=2, capacity=6, shifts=(6, 6))
    _ranked(setup, [(5, 1), (4, 2)])
    services.run_allocation(setup.call.id, actor=setup.staff)
    services.sign_off_decisions(setup.call.id, notify_at=NOTIFY, actor=setup.staff)
    services.release_due_decisions(now=NOTIFY)
    a, b = setup.proposals
    award = db.session.scalar(select(Award).where(Award.proposal_id == a.id))
    created = services.withdraw_award(award.id, reason="PI moved abroad", actor=setup.staff, now=NOTIFY)
    assert [(x.proposal_id, x.shifts, x.basis) for x in created] == [(b.id, 6, "reserve")]
    assert db.session.get(Decision, b.id).outcome == Outcome.ACCEPTED
    assert b.status == ProposalStatus.ACCEPTED
    told = db.session.scalars(select(OutboxMessage).where(OutboxMessage.recipients.is_not(None))).all()
    assert sum(m.recipients == [b.pi.user.email] for m in told) == 2  # the reserve letter, then the award


def test_staff_edit_an_award_with_a_reason_and_a_scientist_of_the_instrument():
    setup = make_review_setup(reviewers=2, proposals=1, capacity=10, shifts=(6,))
    _ranked(setup, [(5, 1)])
    services.run_allocation(setup.call.id, actor=setup.staff)
    award = db.session.scalar(select(Award))
    from app.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as info:
        services.edit_award(award.id, shifts=5, local_contact_id=setup.reviewers[0].id, reason="x", actor=setup.staff)
    assert info.value.field == "local_contact_id"
    services.edit_award(
        award.id, shifts=5, local_contact_id=setup.scientist.id, reason="beam time lost", actor=setup.staff
    )
    assert (award.shifts, award.basis, award.edit_reason) == (5, "edited", "beam time lost")


def test_a_chair_does_not_see_the_ranking_row_of_their_own_proposal():
    setup = make_review_setup(reviewers=3, proposals=2)
    chair = setup.reviewers[2]
    grant(chair, Role.PANEL_CHAIR, setup.panel.id)
    own = setup.proposals[0]
    from app.proposals.models import MemberRole, ProposalMember

    own.members.append(ProposalMember(user_id=chair.id, role=MemberRole.CO_PROPOSER))
    db.session.commit()
    services.start_review(setup.call.id, actor=setup.staff, now=AFTER_CLOSE)
    seen = {row.proposal.id for row in services.meeting(setup.call.id, setup.panel.id, actor=chair).rows}
    assert seen == {setup.proposals[1].id}
    everything = {row.proposal.id for row in services.meeting(setup.call.id, setup.panel.id, actor=setup.staff).rows}
    assert everything == {p.id for p in setup.proposals}


def test_fair_return_warns_when_a_member_gets_less_than_its_contribution():
    from app.facility import services as facility_services

    setup = make_review_setup(reviewers=2, proposals=1, capacity=10, shifts=(6,))
    year = setup.call.cycle.starts_on.year
    facility_services.set_contribution(year=year, country="FR", share="40", actor=setup.staff)
    facility_services.set_contribution(year=year, country="DE", share="50", actor=setup.staff)
    _ranked(setup, [(5, 1)])
    services.run_allocation(setup.call.id, actor=setup.staff)
    fair = services.fair_return(queries.get_call_review(setup.call.id))
    rows = {c.country: (c.percent, c.warning) for c in fair.countries}
    assert rows == {"DE": (0.0, True), "FR": (100.0, False)}  # the team is all FR (snapshot)
    assert fair.non_member_pi_percent == 0.0 and not fair.non_member_warning


def test_a_pi_withdrawing_an_accepted_proposal_frees_its_shifts_for_the_reserve():
    from app.proposals import services as proposal_services

    setup = make_review_setup(reviewers=2, proposals=2, capacity=6, shifts=(6, 6))
    _ranked(setup, [(5, 1), (4, 2)])
    services.run_allocation(setup.call.id, actor=setup.staff)
    services.sign_off_decisions(setup.call.id, notify_at=NOTIFY, actor=setup.staff)
    services.release_due_decisions(now=NOTIFY)
    a, b = setup.proposals
    proposal_services.withdraw_proposal(a.id, actor=a.pi.user, now=NOTIFY)
    assert a.status == ProposalStatus.WITHDRAWN
    assert db.session.scalar(select(Award).where(Award.proposal_id == a.id)).withdrawn_at is not None
    assert [x.shifts for x in queries.awards_of_call_for_proposal(b.id)] == [6]
    assert b.status == ProposalStatus.ACCEPTED


def test_running_the_allocation_again_does_not_commit_long_term_shifts_twice():
    setup = make_review_setup(reviewers=2, proposals=1, capacity=20, shifts=(5,))
    setup.proposals[0].requests[0].cycles = 3
    setup.call.cycle.name = "2032-II"
    db.session.commit()
    services.start_review(setup.call.id, actor=setup.staff, now=AFTER_CLOSE)
    services.run_allocation(setup.call.id, actor=setup.staff)
    services.run_allocation(setup.call.id, actor=setup.staff)
    rows = sorted((c.cycle_name, c.shifts) for c in db.session.scalars(select(CapacityCommitment)))
    assert rows == [("2033-I", 5), ("2033-II", 5)]


def test_proprietary_proposals_skip_the_panel_and_are_served_first_come_within_their_partition():
    from app.accounts.models import Role as R
    from app.facility import queries as facility_queries
    from app.facility import services as facility_services
    from app.proposals.models import AccessRoute
    from app.reviews.models import PanelDecision
    from tests import factories_proposals as fp
    from tests.factories import make_user
    from tests.factories_reviews import submitted

    setup = make_review_setup(reviewers=1, proposals=0)
    admin = make_user(roles=[R.ADMIN])
    facility_services.update_partitions(in_house="0", rapid_access="0", proprietary="2", actor=admin)
    facility_services.clear_capacity_override(setup.call.cycle_id, setup.instrument.id, actor=setup.staff)
    partition = facility_queries.capacity_table(setup.call.cycle, instruments=[setup.instrument])[0][1].proprietary
    assert 6 < partition <= 21
    call = fp.make_call(cycle=setup.call.cycle, route=AccessRoute.PROPRIETARY, instruments=[setup.instrument])
    early = submitted(fp.make_proposal(call=call), number=11, at=datetime(2026, 9, 2, tzinfo=UTC))
    late = submitted(fp.make_proposal(call=call), number=12, at=datetime(2026, 9, 3, tzinfo=UTC))
    early.requests[0].shifts = partition - 2
    late.requests[0].shifts = 6
    db.session.commit()
    services.start_review(call.id, actor=setup.staff, now=AFTER_CLOSE)
    assert db.session.get(PanelDecision, early.id).panel_id is None  # never a panel
    services.run_allocation(call.id, actor=setup.staff)
    assert [a.shifts for a in queries.awards_of_call_for_proposal(early.id)] == [partition - 2]
    assert queries.awards_of_call_for_proposal(late.id) == []  # 2 left < the minimum award of 3
    outcomes = {d.proposal_id: d.outcome for d in queries.decisions_of_call(call.id)}
    assert outcomes == {early.id: Outcome.ACCEPTED, late.id: Outcome.REJECTED}
