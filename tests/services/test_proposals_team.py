"""Team: invitations (accept, expired, wrong person, already a member), PI hand-over,
the reminder job, and the affiliation snapshot around the call's close."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.core.errors import InvalidState, PermissionDenied, ValidationFailed
from app.core.models import OutboxMessage
from app.extensions import db
from app.proposals import services
from app.proposals.models import MemberRole
from tests.factories_proposals import (
    CLOSES,
    DURING,
    make_institution,
    make_person,
    make_proposal,
)


def mails_to(address):
    return [m for m in db.session.scalars(select(OutboxMessage)) if address in m.recipients]


def invite(proposal, email, now=DURING):
    return services.invite_member(proposal.id, email, actor=proposal.pi.user, now=now)


def test_invitation_is_mailed_and_accepted_by_the_invited_person():
    proposal = make_proposal()
    guest = make_person(country_code="BR", email="Guest@Example.org")
    invitation, token = invite(proposal, "guest@example.org")
    mail = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
    assert mail.recipients == ["guest@example.org"]
    assert token in mail.body_text
    services.accept_invitation(token, actor=guest, now=DURING + timedelta(hours=1))
    member = proposal.member(guest.id)
    assert member.role is MemberRole.CO_PROPOSER
    assert member.country_code == "BR"
    assert invitation.accepted_by_id == guest.id
    # the same link opened again by the same person: nothing happens, no error
    services.accept_invitation(token, actor=guest, now=DURING + timedelta(hours=2))


def test_expired_invitation_is_refused():
    proposal = make_proposal()
    guest = make_person(email="late@example.org")
    invitation, token = invite(proposal, guest.email)
    with pytest.raises(InvalidState) as info:
        services.accept_invitation(token, actor=guest, now=invitation.expires_at)
    assert info.value.code == "invitation_expired"
    assert proposal.member(guest.id) is None


def test_wrong_person_cannot_use_someone_elses_invitation():
    proposal = make_proposal()
    _invitation, token = invite(proposal, "intended@example.org")
    intruder = make_person(email="intruder@example.org")
    with pytest.raises(PermissionDenied) as info:
        services.accept_invitation(token, actor=intruder, now=DURING)
    assert info.value.code == "invitation_wrong_person"
    assert proposal.member(intruder.id) is None


def test_tampered_or_revoked_link_is_refused():
    proposal = make_proposal()
    guest = make_person(email="revoked@example.org")
    invitation, token = invite(proposal, guest.email)
    with pytest.raises(InvalidState, match="link_invalid"):
        services.accept_invitation(token[:-2] + "xx", actor=guest, now=DURING)
    services.revoke_invitation(invitation.id, actor=proposal.pi.user, now=DURING)
    with pytest.raises(InvalidState, match="invitation_revoked"):
        services.accept_invitation(token, actor=guest, now=DURING)


def test_inviting_a_member_or_inviting_twice_is_refused_with_the_reason():
    colleague = make_person(email="colleague@example.org")
    proposal = make_proposal(co_proposers=(colleague,))
    with pytest.raises(ValidationFailed) as info:
        invite(proposal, "COLLEAGUE@example.org")
    assert (info.value.code, info.value.field) == ("already_member", "email")
    invite(proposal, "new@example.org")
    with pytest.raises(ValidationFailed, match="already_invited"):
        invite(proposal, "new@example.org")


def test_accepting_when_already_a_member_is_a_conflict():
    proposal = make_proposal()
    guest = make_person(email="twice@example.org")
    _i1, token1 = invite(proposal, guest.email)
    services.revoke_invitation(_i1.id, actor=proposal.pi.user, now=DURING)
    _i2, token2 = invite(proposal, guest.email)
    services.accept_invitation(token2, actor=guest, now=DURING)
    _i3 = services.invite_member  # a third invitation is refused: already a member
    with pytest.raises(ValidationFailed, match="already_member"):
        invite(proposal, guest.email)


def test_only_the_pi_invites():
    colleague = make_person()
    proposal = make_proposal(co_proposers=(colleague,))
    with pytest.raises(PermissionDenied):
        services.invite_member(proposal.id, "x@example.org", actor=colleague, now=DURING)


def test_pi_hand_over():
    colleague = make_person()
    proposal = make_proposal(co_proposers=(colleague,))
    old_pi = proposal.pi.user
    services.hand_over_pi(proposal.id, colleague.id, actor=old_pi, now=DURING)
    assert proposal.pi.user_id == colleague.id
    assert proposal.member(old_pi.id).role is MemberRole.CO_PROPOSER
    assert mails_to(colleague.email)
    with pytest.raises(PermissionDenied):  # the former PI no longer manages the team
        services.hand_over_pi(proposal.id, old_pi.id, actor=old_pi, now=DURING)
    with pytest.raises(ValidationFailed, match="not_a_member"):
        services.hand_over_pi(proposal.id, make_person().id, actor=colleague, now=DURING)


def test_pi_cannot_leave_without_handing_over_but_a_co_proposer_can():
    colleague = make_person()
    proposal = make_proposal(co_proposers=(colleague,))
    with pytest.raises(ValidationFailed, match="pi_cannot_leave"):
        services.remove_member(proposal.id, proposal.pi.user_id, actor=proposal.pi.user, now=DURING)
    services.remove_member(proposal.id, colleague.id, actor=colleague, now=DURING)
    assert proposal.member(colleague.id) is None


def test_one_reminder_before_expiry_however_often_the_job_runs():
    proposal = make_proposal()
    invitation, _token = invite(proposal, "slow@example.org")
    assert services.send_invitation_reminders(now=DURING) == 0  # far from expiry
    almost = invitation.expires_at - timedelta(days=1)
    assert services.send_invitation_reminders(now=almost) == 1
    assert services.send_invitation_reminders(now=almost + timedelta(hours=1)) == 0
    invitation.reminded_at = None  # even if the row forgot, the idempotency key remembers
    db.session.commit()
    assert services.send_invitation_reminders(now=almost + timedelta(hours=2)) == 0
    assert len(mails_to("slow@example.org")) == 2  # the invitation and one reminder


# --- the affiliation snapshot -------------------------------------------------------------


def test_snapshot_follows_a_move_before_the_close_and_not_after():
    mover = make_person(country_code="IT")
    proposal = make_proposal(co_proposers=(mover,))
    services.submit_proposal(proposal.id, actor=proposal.pi.user, now=DURING)
    assert proposal.member(mover.id).country_code == "IT"

    # moves before the close: the snapshot follows (at the next edit, and at the close anyway)
    mover.institution_id = make_institution(country_code="ES").id
    db.session.commit()
    db.session.expire(mover, ["institution"])
    services.open_and_close_calls(now=CLOSES + timedelta(minutes=1))
    member = proposal.member(mover.id)
    assert member.country_code == "ES"
    assert proposal.affiliations_frozen_at == CLOSES

    # moves after the close: history stays as it was
    mover.institution_id = make_institution(country_code="US").id
    db.session.commit()
    db.session.expire(mover, ["institution"])
    services.open_and_close_calls(now=CLOSES + timedelta(days=2))
    services.refresh_snapshot(proposal, now=CLOSES + timedelta(days=2))
    assert proposal.member(mover.id).country_code == "ES"


def test_snapshot_refreshed_by_an_edit_while_open():
    proposal = make_proposal()
    pi = proposal.pi.user
    pi.institution_id = make_institution(country_code="JP").id
    db.session.commit()
    db.session.expire(pi, ["institution"])
    services.update_proposal(proposal.id, {"title": "Edited"}, actor=pi, now=DURING)
    assert proposal.pi.country_code == "JP"
