"""E-mails of the visits domain, written to the outbox in the caller's transaction.

Never a citizenship or an emergency contact in a body: the e-mails name the experiment, the
state and what is missing, and link to the page that shows the rest to whoever may see it.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import force_locale
from flask_babel import gettext as _

from app.accounts import links
from app.accounts.models import User
from app.core import outbox
from app.scheduling.models import Experiment
from app.visits.models import Visit, VisitInvitation


def _label(experiment: Experiment) -> str:
    proposal = experiment.award.proposal
    return f"{proposal.reference or proposal.label} — {experiment.booking.instrument.code}"


def enqueue_invitation(invitation: VisitInvitation, token: str, *, inviter: User, now: datetime) -> None:
    url = links.external_url("visits.invitation", token=token)
    with force_locale(inviter.locale or "en"):
        subject = _("%(name)s invites you to take part in an experiment", name=inviter.name)
        body = _(
            "Hello,\n\n%(name)s invites you to take part in the experiment %(experiment)s (%(mode)s).\n\n"
            "Open this link to accept (register first if you have no account, with this e-mail address, "
            "%(email)s). The invitation is valid until %(expires)s UTC:\n\n%(url)s\n",
            name=inviter.name,
            experiment=_label(invitation.experiment),
            mode=_("on site") if invitation.mode == "on_site" else _("remote"),
            email=invitation.email,
            expires=invitation.expires_at.strftime("%Y-%m-%d %H:%M"),
            url=url,
        )
    outbox.enqueue(invitation.email, subject, body, reply_to=inviter.email, now=now)


def enqueue_named(visit: Visit, *, actor: User, now: datetime) -> None:
    url = links.external_url("visits.visit", visit_id=visit.id)
    user = visit.user
    with force_locale(user.locale or "en"):
        subject = _("You take part in the experiment %(experiment)s", experiment=_label(visit.experiment))
        body = _(
            "Hello %(name)s,\n\n%(actor)s named you for the experiment %(experiment)s. Complete your "
            "registration and follow your checklist here:\n\n%(url)s\n",
            name=user.name,
            actor=actor.name,
            experiment=_label(visit.experiment),
            url=url,
        )
    outbox.enqueue(user.email, subject, body, now=now)


def enqueue_decision(visit: Visit, *, now: datetime) -> None:
    url = links.external_url("visits.visit", visit_id=visit.id)
    user = visit.user
    with force_locale(user.locale or "en"):
        states = {
            "approved": _("approved"),
            "changes_requested": _("returned for changes"),
            "refused": _("refused"),
            "cancelled": _("cancelled"),
        }
        subject = _(
            "Your visit for %(experiment)s: %(state)s",
            experiment=_label(visit.experiment),
            state=states.get(visit.status.value, visit.status.value),
        )
        body = _(
            "Hello %(name)s,\n\nyour visit for the experiment %(experiment)s is now %(state)s.\n%(reason)s\n"
            "Details:\n\n%(url)s\n",
            name=user.name,
            experiment=_label(visit.experiment),
            state=states.get(visit.status.value, visit.status.value),
            reason=visit.reason or "",
            url=url,
        )
    outbox.enqueue(user.email, subject, body, now=now)


def enqueue_experiment_cancelled(visit: Visit, *, now: datetime) -> None:
    user = visit.user
    with force_locale(user.locale or "en"):
        subject = _("Experiment %(experiment)s cancelled", experiment=_label(visit.experiment))
        body = _(
            "Hello %(name)s,\n\nthe experiment %(experiment)s was cancelled, and your visit with it. "
            "The user office will contact the team about what happens next.\n",
            name=user.name,
            experiment=_label(visit.experiment),
        )
    outbox.enqueue(user.email, subject, body, idempotency_key=f"visit-experiment-cancelled:{visit.id}", now=now)


def enqueue_reminder(
    visit: Visit, recipient: User, item_key: str, stage: str, days_left: int, *, now: datetime
) -> bool:
    """One reminder per visit, item and stage, however often the job runs (idempotency key)."""
    url = links.external_url("visits.visit", visit_id=visit.id)
    with force_locale(recipient.locale or "en"):
        items = {
            "registration": _("registration"),
            "access": _("site access"),
            "training": _("safety training"),
            "safety": _("experiment safety"),
            "accommodation": _("accommodation"),
        }
        subject = _(
            "Reminder: %(item)s for the experiment %(experiment)s",
            item=items.get(item_key, item_key),
            experiment=_label(visit.experiment),
        )
        if days_left < 0:
            when = _("It is overdue by %(days)s day(s).", days=-days_left)
        else:
            when = _("%(days)s day(s) left.", days=days_left)
        body = _(
            "Hello %(name)s,\n\nthe %(item)s step of the visit of %(visitor)s for %(experiment)s is waiting for "
            "you. %(when)s\n\n%(url)s\n",
            name=recipient.name,
            item=items.get(item_key, item_key),
            visitor=visit.user.name,
            experiment=_label(visit.experiment),
            when=when,
            url=url,
        )
    sent = outbox.enqueue(
        recipient.email,
        subject,
        body,
        idempotency_key=f"visit-reminder:{visit.id}:{item_key}:{stage}:{recipient.id}",
        now=now,
    )
    return sent is not None
