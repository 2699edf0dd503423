"""E-mails of the proposals domain, written to the outbox in the caller's transaction,
each in its recipient's language."""

from __future__ import annotations

from datetime import datetime

from flask_babel import force_locale
from flask_babel import gettext as _

from app.accounts import links
from app.accounts.models import User
from app.core import outbox
from app.proposals.models import Invitation, Proposal


def _team(proposal: Proposal) -> list[User]:
    return [m.user for m in proposal.members if m.user.active]


def enqueue_invitation(invitation: Invitation, token: str, *, inviter: User, now: datetime) -> None:
    url = links.external_url("proposals.invitation", token=token)
    proposal = invitation.proposal
    with force_locale(inviter.locale or "en"):
        subject = _("%(name)s invites you to a beamtime proposal", name=inviter.name)
        body = _(
            'Hello,\n\n%(name)s invites you to join the team of the proposal "%(title)s" to %(call)s.\n\n'
            "Open this link to accept (you can register first if you have no account; use this e-mail "
            "address, %(email)s). The invitation is valid until %(expires)s UTC:\n\n%(url)s\n",
            name=inviter.name,
            title=proposal.title or proposal.label,
            call=proposal.call.title,
            email=invitation.email,
            expires=invitation.expires_at.strftime("%Y-%m-%d %H:%M"),
            url=url,
        )
    outbox.enqueue(invitation.email, subject, body, reply_to=inviter.email, now=now)


def enqueue_invitation_reminder(invitation: Invitation, token: str, *, now: datetime) -> bool:
    """One reminder per invitation, whatever happens: the idempotency key says so."""
    url = links.external_url("proposals.invitation", token=token)
    proposal = invitation.proposal
    with force_locale("en"):
        subject = _("Reminder: your invitation to a beamtime proposal expires soon")
        body = _(
            'Hello,\n\nyou were invited to join the team of the proposal "%(title)s". The invitation expires '
            "on %(expires)s UTC. To accept it, open:\n\n%(url)s\n",
            title=proposal.title or proposal.label,
            expires=invitation.expires_at.strftime("%Y-%m-%d %H:%M"),
            url=url,
        )
    sent = outbox.enqueue(
        invitation.email, subject, body, idempotency_key=f"proposal-invitation-reminder:{invitation.id}", now=now
    )
    return sent is not None


def enqueue_submitted(proposal: Proposal, *, first_time: bool, now: datetime) -> None:
    for user in _team(proposal):
        with force_locale(user.locale or "en"):
            if first_time:
                subject = _("Proposal %(ref)s submitted", ref=proposal.reference)
                body = _(
                    'Hello %(name)s,\n\nthe proposal "%(title)s" was submitted to %(call)s with the reference '
                    "%(ref)s. It can still be edited until the call closes.\n",
                    name=user.name,
                    title=proposal.title,
                    call=proposal.call.title,
                    ref=proposal.reference,
                )
            else:
                subject = _("Proposal %(ref)s updated", ref=proposal.reference)
                body = _(
                    'Hello %(name)s,\n\nthe proposal %(ref)s "%(title)s" was submitted again.\n',
                    name=user.name,
                    ref=proposal.reference,
                    title=proposal.title,
                )
        outbox.enqueue(user.email, subject, body, now=now)


def enqueue_withdrawn(proposal: Proposal, *, actor: User, now: datetime) -> None:
    for user in _team(proposal):
        with force_locale(user.locale or "en"):
            subject = _("Proposal %(ref)s withdrawn", ref=proposal.label)
            body = _(
                'Hello %(name)s,\n\n%(actor)s withdrew the proposal %(ref)s "%(title)s".\n',
                name=user.name,
                actor=actor.name,
                ref=proposal.label,
                title=proposal.title,
            )
        outbox.enqueue(user.email, subject, body, now=now)


def enqueue_pi_handover(proposal: Proposal, new_pi: User, *, actor: User, now: datetime) -> None:
    with force_locale(new_pi.locale or "en"):
        subject = _("You are now the principal investigator of %(ref)s", ref=proposal.label)
        body = _(
            "Hello %(name)s,\n\n%(actor)s handed the role of principal investigator of the proposal "
            '"%(title)s" over to you.\n',
            name=new_pi.name,
            actor=actor.name,
            title=proposal.title or proposal.label,
        )
    outbox.enqueue(new_pi.email, subject, body, now=now)
