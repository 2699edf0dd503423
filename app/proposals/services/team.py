"""The team: affiliation snapshots, invitations by e-mail, PI hand-over, leaving.

An invitation is a row plus a signed link (itsdangerous, through `accounts.links`) that
carries the row's id and a random nonce; the row decides expiry, revocation and acceptance.
It is accepted only by the person it was sent to (the same e-mail address, verified).
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from app.accounts import links
from app.accounts.events import InstitutionsMerged
from app.accounts.models import Institution, User
from app.accounts.services import find_user_by_email, normalise_email
from app.core import audit, events, settings
from app.core.db import utcnow
from app.core.errors import Conflict, InvalidState, NotFound, PermissionDenied, ValidationFailed
from app.core.permissions import require
from app.core.transaction import transactional
from app.extensions import db
from app.proposals import notifications, permissions
from app.proposals.models import Invitation, MemberRole, Proposal, ProposalMember
from app.proposals.services.proposals import (
    editable_proposal,
    ensure_editable,
    get_proposal,
    get_visible_proposal,
    touch,
)

__all__ = [
    "accept_invitation",
    "hand_over_pi",
    "invitation_for_token",
    "invite_member",
    "refresh_snapshot",
    "remove_member",
    "revoke_invitation",
    "send_invitation_reminders",
    "snapshot_member",
]

INVITATION = "proposals.invitation"
EMAIL_SHAPE = "@"

settings.define(
    "proposals.invitation_days", int, 14, _l("Days an invitation to a team stays valid"), minimum=1, maximum=90
)
settings.define(
    "proposals.invitation_reminder_days",
    int,
    3,
    _l("Days before an invitation expires when its one reminder is sent"),
    minimum=1,
    maximum=30,
)
settings.define("proposals.max_team_size", int, 30, _l("Most people on one proposal"), minimum=2, maximum=200)


# --- the affiliation snapshot ---------------------------------------------------------------


def snapshot_member(member: ProposalMember, *, now: datetime) -> None:
    """Copy the person's institution and its country onto the membership."""
    user = member.user
    institution: Institution | None = user.institution if user is not None else None
    member.institution_id = institution.id if institution else None
    member.institution_name = institution.name if institution else None
    member.country_code = institution.country_code if institution else None
    member.snapshot_at = now


def refresh_snapshot(proposal: Proposal, *, now: datetime) -> None:
    """Follow the team's current affiliations, unless the snapshot is frozen (call closed,
    or a rapid-access proposal submitted)."""
    if proposal.affiliations_frozen_at is not None:
        return
    for member in proposal.members:
        snapshot_member(member, now=now)


def _on_institutions_merged(event: InstitutionsMerged) -> None:
    """Snapshots keep their name and country; only the id moves to the surviving row."""
    db.session.execute(
        update(ProposalMember)
        .where(ProposalMember.institution_id == event.merged_id)
        .values(institution_id=event.survivor_id)
        .execution_options(synchronize_session="fetch")
    )


events.subscribe(InstitutionsMerged, _on_institutions_merged)


# --- invitations --------------------------------------------------------------------------


def _token(invitation: Invitation, now: datetime) -> str:
    return links.sign(INVITATION, {"i": invitation.id, "n": invitation.nonce}, now=now)


@transactional
def invite_member(proposal_id: int, email: str, *, actor: Any, now: datetime | None = None) -> tuple[Invitation, str]:
    """E-mail an invitation to join the team (through the outbox). Returns it and its token.

    Raises: NotFound, PermissionDenied (not the PI), InvalidState (not editable),
    ValidationFailed on "email" (malformed, already on the team, already invited, team full).
    """
    now = now or utcnow()
    proposal = editable_proposal(proposal_id, actor, now)
    require(permissions.can_manage_team, actor, proposal)
    address = normalise_email(email)
    if not address or EMAIL_SHAPE not in address or len(address) > 320 or " " in address:
        raise ValidationFailed("email_invalid", field="email")
    if any(normalise_email(m.user.email) == address for m in proposal.members):
        raise ValidationFailed("already_member", field="email")
    if any(normalise_email(i.email) == address and i.is_pending(now) for i in proposal.invitations):
        raise ValidationFailed("already_invited", field="email")
    pending = sum(1 for i in proposal.invitations if i.is_pending(now))
    maximum = settings.get_int("proposals.max_team_size")
    if len(proposal.members) + pending >= maximum:
        raise ValidationFailed("team_full", field="email", maximum=maximum)
    days = settings.get_int("proposals.invitation_days")
    invitation = Invitation(
        email=address,
        nonce=secrets.token_hex(16),
        invited_by_id=actor.id,
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    proposal.invitations.append(invitation)
    db.session.flush()
    token = _token(invitation, now)
    notifications.enqueue_invitation(invitation, token, inviter=actor, now=now)
    audit.record(actor, "proposal.member_invited", proposal, changes={"email": address})
    return invitation, token


def invitation_for_token(token: str, *, now: datetime | None = None) -> Invitation:
    """The invitation a link stands for (any state).

    Raises: InvalidState link_invalid (tampered or revoked).
    """
    now = now or utcnow()
    days = settings.get_int("proposals.invitation_days")
    # the row decides expiry; the signature only has to be genuine (a generous bound)
    payload = links.load(INVITATION, token, max_age=timedelta(days=days + 365), now=now)
    invitation = db.session.get(Invitation, payload.get("i"))
    if invitation is None or not secrets.compare_digest(invitation.nonce, str(payload.get("n", ""))):
        raise InvalidState("link_invalid")
    return invitation


@transactional
def accept_invitation(token: str, *, actor: Any, now: datetime | None = None) -> Proposal:
    """Join the team as a co-proposer with the invitation sent to one's own e-mail address.

    Raises: InvalidState (link_invalid, invitation_revoked, invitation_used, invitation_expired,
    email_not_verified), PermissionDenied invitation_wrong_person, Conflict already_member.
    """
    now = now or utcnow()
    invitation = invitation_for_token(token, now=now)
    if invitation.revoked_at is not None:
        raise InvalidState("invitation_revoked")
    proposal = invitation.proposal
    if invitation.accepted_at is not None:
        if invitation.accepted_by_id == getattr(actor, "id", None):
            return proposal  # the link opened twice: already done
        raise InvalidState("invitation_used")
    if now >= invitation.expires_at:
        raise InvalidState("invitation_expired", expired_at=invitation.expires_at)
    if normalise_email(actor.email) != normalise_email(invitation.email):
        raise PermissionDenied("invitation_wrong_person", email=invitation.email)
    if actor.email_verified_at is None:
        raise InvalidState("email_not_verified")
    if proposal.member(actor.id) is not None:
        raise Conflict("already_member")
    proposal = get_proposal(proposal.id, for_update=True)
    ensure_editable(proposal, now)
    member = ProposalMember(user=actor, role=MemberRole.CO_PROPOSER, joined_at=now)
    proposal.members.append(member)
    snapshot_member(member, now=now)
    invitation.accepted_at = now
    invitation.accepted_by_id = actor.id
    touch(proposal, now)
    audit.record(actor, "proposal.member_joined", proposal, changes={"user_id": actor.id})
    return proposal


@transactional
def revoke_invitation(invitation_id: int, *, actor: Any, now: datetime | None = None) -> Invitation:
    """Raises: NotFound, PermissionDenied (not the PI), InvalidState (already used)."""
    now = now or utcnow()
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None:
        raise NotFound("not_found")
    proposal = get_visible_proposal(invitation.proposal_id, actor)
    require(permissions.can_manage_team, actor, proposal)
    if invitation.accepted_at is not None:
        raise InvalidState("invitation_used")
    if invitation.revoked_at is None:
        invitation.revoked_at = now
        audit.record(actor, "proposal.invitation_revoked", proposal, changes={"email": invitation.email})
    return invitation


@transactional
def send_invitation_reminders(*, now: datetime | None = None) -> int:
    """The periodic job: one reminder per pending invitation within N days of its expiry.

    The outbox idempotency key makes a second run (or a second scheduler) send nothing more.
    """
    now = now or utcnow()
    window = timedelta(days=settings.get_int("proposals.invitation_reminder_days"))
    due = db.session.scalars(
        select(Invitation).where(
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.reminded_at.is_(None),
            Invitation.expires_at > now,
            Invitation.expires_at <= now + window,
        )
    ).all()
    sent = 0
    for invitation in due:
        if notifications.enqueue_invitation_reminder(invitation, _token(invitation, now), now=now):
            sent += 1
        invitation.reminded_at = now
    return sent


# --- members ------------------------------------------------------------------------------


@transactional
def hand_over_pi(proposal_id: int, user_id: int, *, actor: Any, now: datetime | None = None) -> Proposal:
    """The PI makes another member PI and becomes a co-proposer.

    Raises: NotFound, PermissionDenied (not the PI), InvalidState (not editable),
    ValidationFailed on "user_id" (not on the team, already the PI).
    """
    now = now or utcnow()
    proposal = editable_proposal(proposal_id, actor, now)
    require(permissions.can_manage_team, actor, proposal)
    new_pi = proposal.member(user_id)
    if new_pi is None:
        raise ValidationFailed("not_a_member", field="user_id")
    old_pi = proposal.pi
    if old_pi is not None and old_pi.user_id == user_id:
        raise ValidationFailed("already_pi", field="user_id")
    if old_pi is not None:
        old_pi.role = MemberRole.CO_PROPOSER
        db.session.flush()  # the one-PI index holds at every statement
    new_pi.role = MemberRole.PI
    touch(proposal, now)
    notifications.enqueue_pi_handover(proposal, new_pi.user, actor=actor, now=now)
    audit.record(actor, "proposal.pi_handed_over", proposal, changes={"from": actor.id, "to": user_id})
    return proposal


@transactional
def remove_member(proposal_id: int, user_id: int, *, actor: Any, now: datetime | None = None) -> Proposal:
    """The PI removes a co-proposer, or a co-proposer leaves. The PI hands over before leaving.

    Raises: NotFound, PermissionDenied, InvalidState (not editable), ValidationFailed (the PI).
    """
    now = now or utcnow()
    proposal = editable_proposal(proposal_id, actor, now)
    member = proposal.member(user_id)
    if member is None:
        raise NotFound("not_found")
    if user_id != actor.id:
        require(permissions.can_manage_team, actor, proposal)
    if member.role == MemberRole.PI:
        raise ValidationFailed("pi_cannot_leave", field="user_id")
    proposal.members.remove(member)
    touch(proposal, now)
    audit.record(actor, "proposal.member_removed", proposal, changes={"user_id": user_id})
    return proposal


def find_invitee(email: str) -> User | None:
    return find_user_by_email(email)
