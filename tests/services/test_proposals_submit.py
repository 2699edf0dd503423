"""Submission: the deadline (half-open [opens, closes)), completeness, limits, references."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.core.errors import InvalidState, NotFound, PermissionDenied
from app.core.models import AuditEntry, OutboxMessage
from app.extensions import db
from app.proposals import services
from app.proposals.models import AccessRoute, BeamtimeRequest, Proposal
from app.proposals.status import ProposalStatus
from tests.factories_proposals import CLOSES, DURING, OPENS, make_call, make_instrument, make_person, make_proposal

ONE_SECOND = timedelta(seconds=1)


def reread(proposal: Proposal) -> Proposal:
    db.session.expire_all()
    return db.session.get(Proposal, proposal.id)


def assert_draft_intact(proposal: Proposal, title: str) -> None:
    proposal = reread(proposal)
    assert proposal.status is ProposalStatus.DRAFT
    assert proposal.reference is None
    assert proposal.submitted_at is None
    assert proposal.title == title


def test_submit_during_the_call_gives_a_reference_and_tells_the_team():
    colleague = make_person(country_code="DE")
    proposal = make_proposal(co_proposers=(colleague,))
    submitted = services.submit_proposal(proposal.id, actor=proposal.pi.user, now=DURING)
    assert submitted.status is ProposalStatus.SUBMITTED
    assert submitted.reference == f"{proposal.call.cycle.name}-0001"
    assert submitted.submitted_at == DURING
    mails = db.session.scalars(select(OutboxMessage)).all()
    assert sorted(m.recipients[0] for m in mails) == sorted([proposal.pi.user.email, colleague.email])
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "proposal.submitted")) is not None


def test_submit_one_second_before_the_closing_instant_is_on_time():
    proposal = make_proposal()
    services.submit_proposal(proposal.id, actor=proposal.pi.user, now=CLOSES - ONE_SECOND)
    assert reread(proposal).status is ProposalStatus.SUBMITTED


def test_submit_at_the_closing_instant_is_late_and_the_draft_is_kept():
    proposal = make_proposal()
    title = proposal.title
    with pytest.raises(InvalidState) as info:
        services.submit_proposal(proposal.id, actor=proposal.pi.user, now=CLOSES)
    assert info.value.code == "call_closed"
    assert info.value.params["closed_at"] == CLOSES
    assert_draft_intact(proposal, title)


def test_submit_one_second_after_closing_is_refused_and_the_draft_is_kept():
    proposal = make_proposal()
    with pytest.raises(InvalidState, match="call_closed"):
        services.submit_proposal(proposal.id, actor=proposal.pi.user, now=CLOSES + ONE_SECOND)
    assert_draft_intact(proposal, proposal.title)


@pytest.mark.parametrize("zone", ["America/Los_Angeles", "Asia/Tokyo", "Pacific/Kiritimati"])
def test_submit_from_another_time_zone_compares_instants_not_wall_clocks(zone):
    proposal = make_proposal()
    tz = ZoneInfo(zone)
    just_before = (CLOSES - ONE_SECOND).astimezone(tz)
    at_close = CLOSES.astimezone(tz)
    assert just_before.utcoffset() != timedelta(0)
    with pytest.raises(InvalidState, match="call_closed"):
        services.submit_proposal(proposal.id, actor=proposal.pi.user, now=at_close)
    services.submit_proposal(proposal.id, actor=proposal.pi.user, now=just_before)
    assert reread(proposal).status is ProposalStatus.SUBMITTED


def test_submit_before_the_call_opens_is_refused():
    proposal = make_proposal()
    with pytest.raises(InvalidState, match="call_not_open"):
        services.submit_proposal(proposal.id, actor=proposal.pi.user, now=OPENS - ONE_SECOND)
    services.submit_proposal(proposal.id, actor=proposal.pi.user, now=OPENS)  # the opening instant is in


def test_submit_with_missing_items_lists_every_one_and_keeps_the_draft():
    proposal = make_proposal(complete=False, pi=make_person(country_code=None))
    proposal.title = "Half written"
    db.session.commit()
    with pytest.raises(InvalidState) as info:
        services.submit_proposal(proposal.id, actor=proposal.pi.user, now=DURING)
    assert info.value.code == "proposal_incomplete"
    codes = [item["code"] for item in info.value.params["items"]]
    assert codes == [
        "missing_abstract",
        "missing_subject_area",
        "missing_science_case",
        "missing_member_affiliation",
        "missing_requests",
        "missing_samples",
    ]
    assert info.value.params["count"] == 6
    assert_draft_intact(proposal, "Half written")


def test_submit_checks_request_limits_and_instruments_offered():
    offered, dropped = make_instrument(), make_instrument()
    call = make_call(instruments=[offered, dropped], max_shifts_per_request=9)
    proposal = make_proposal(call=call)
    proposal.requests[0].shifts = 12
    proposal.requests.append(BeamtimeRequest(instrument=dropped, shifts=3, justification="x"))
    db.session.commit()
    call.instruments.remove(call.offer(dropped.id))  # the user office withdrew the offer
    db.session.commit()
    with pytest.raises(InvalidState) as info:
        services.submit_proposal(proposal.id, actor=proposal.pi.user, now=DURING)
    items = info.value.params["items"]
    assert {"code": "request_over_limit", "instrument": offered.code, "maximum": 9} in items
    assert {"code": "request_instrument_not_offered", "instrument": dropped.code} in items


def test_rapid_access_cap_on_the_whole_proposal():
    proposal = make_proposal(route=AccessRoute.RAPID_ACCESS, proposal_shift_cap=3)
    with pytest.raises(InvalidState) as info:
        services.submit_proposal(proposal.id, actor=proposal.pi.user, now=DURING)
    assert {"code": "proposal_over_cap", "total": 6, "maximum": 3} in info.value.params["items"]


def test_only_the_pi_submits_and_strangers_do_not_see_it():
    colleague = make_person()
    proposal = make_proposal(co_proposers=(colleague,))
    with pytest.raises(PermissionDenied):
        services.submit_proposal(proposal.id, actor=colleague, now=DURING)
    with pytest.raises(NotFound):
        services.submit_proposal(proposal.id, actor=make_person(), now=DURING)
    assert_draft_intact(proposal, proposal.title)


def test_references_count_up_per_cycle_and_survive_resubmission():
    call = make_call()
    first, second = make_proposal(call=call), make_proposal(call=call)
    services.submit_proposal(second.id, actor=second.pi.user, now=DURING)
    services.submit_proposal(first.id, actor=first.pi.user, now=DURING)
    assert (second.reference, first.reference) == (f"{call.cycle.name}-0001", f"{call.cycle.name}-0002")
    services.update_proposal(first.id, {"title": "A better title"}, actor=first.pi.user, now=DURING)
    again = services.submit_proposal(first.id, actor=first.pi.user, now=DURING + ONE_SECOND)
    assert again.reference == f"{call.cycle.name}-0002"
    assert again.submitted_at == DURING  # the first submission counts


def test_edit_after_submission_while_open_and_not_after_close():
    proposal = make_proposal()
    services.submit_proposal(proposal.id, actor=proposal.pi.user, now=DURING)
    services.update_proposal(proposal.id, {"abstract": "Sharper."}, actor=proposal.pi.user, now=CLOSES - ONE_SECOND)
    with pytest.raises(InvalidState, match="call_closed"):
        services.update_proposal(proposal.id, {"abstract": "Too late"}, actor=proposal.pi.user, now=CLOSES)
    assert reread(proposal).abstract == "Sharper."


def test_a_submitted_proposal_cannot_be_emptied():
    from app.core.errors import ValidationFailed

    proposal = make_proposal()
    services.submit_proposal(proposal.id, actor=proposal.pi.user, now=DURING)
    with pytest.raises(ValidationFailed) as info:
        services.update_proposal(proposal.id, {"title": "  "}, actor=proposal.pi.user, now=DURING)
    assert info.value.field == "title"


def test_rapid_access_is_locked_once_submitted():
    proposal = make_proposal(route=AccessRoute.RAPID_ACCESS, proposal_shift_cap=10)
    services.submit_proposal(proposal.id, actor=proposal.pi.user, now=DURING)
    with pytest.raises(InvalidState, match="rapid_access_locked"):
        services.update_proposal(proposal.id, {"title": "Changed"}, actor=proposal.pi.user, now=DURING)
    assert reread(proposal).affiliations_frozen_at == DURING


def test_autosave_refusal_changes_nothing_and_names_the_field():
    from app.core.errors import ValidationFailed

    proposal = make_proposal(complete=False)
    services.update_proposal(proposal.id, {"abstract": "Kept text"}, actor=proposal.pi.user, now=DURING)
    with pytest.raises(ValidationFailed) as info:
        services.update_proposal(
            proposal.id, {"abstract": "New text", "title": "x" * 301}, actor=proposal.pi.user, now=DURING
        )
    assert info.value.field == "title"
    assert reread(proposal).abstract == "Kept text"


def test_withdraw_before_scheduled_only():
    proposal = make_proposal()
    services.submit_proposal(proposal.id, actor=proposal.pi.user, now=DURING)
    services.withdraw_proposal(proposal.id, actor=proposal.pi.user, now=DURING)
    assert reread(proposal).status is ProposalStatus.WITHDRAWN
    scheduled = make_proposal(status=ProposalStatus.SCHEDULED)
    with pytest.raises(InvalidState, match="proposal_status_move"):
        services.withdraw_proposal(scheduled.id, actor=scheduled.pi.user, now=DURING)


def test_clone_into_a_new_call_drops_requests_for_instruments_not_offered():
    kept, gone = make_instrument(), make_instrument()
    old = make_proposal(call=make_call(instruments=[kept, gone]))
    old.requests.append(BeamtimeRequest(instrument=gone, shifts=3, justification="y"))
    db.session.commit()
    services.submit_proposal(old.id, actor=old.pi.user, now=DURING)
    later = datetime(2027, 3, 1, tzinfo=UTC)
    new_call = make_call(instruments=[kept], opens_at=later, closes_at=later + timedelta(days=30))
    result = services.clone_proposal(old.id, new_call.id, actor=old.pi.user, now=later)
    clone = result.proposal
    assert result.dropped == [gone.code]
    assert [r.instrument_id for r in clone.requests] == [kept.id]
    assert clone.status is ProposalStatus.DRAFT and clone.reference is None
    assert clone.title == old.title and clone.science_case_key == old.science_case_key
    assert [link.earlier_id for link in clone.links] == [old.id]
    assert clone.pi.user_id == old.pi.user_id
