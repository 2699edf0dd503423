"""E-mails of the front desk, written to the outbox in the caller's transaction."""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import force_locale
from flask_babel import gettext as _

from app.accounts import links
from app.core import outbox
from app.visits.models import Visit


def enqueue_feedback_invitation(visit: Visit, *, last_day: date, now: datetime) -> bool:
    """Ask a visitor (on site or remote) for feedback, once per visit. True when queued."""
    user = visit.user
    proposal = visit.experiment.award.proposal
    label = f"{proposal.reference or proposal.label} — {visit.experiment.booking.instrument.code}"
    url = links.external_url("desk.feedback", visit_id=visit.id)
    with force_locale(user.locale or "en"):
        subject = _("How was your experiment %(experiment)s?", experiment=label)
        body = _(
            "Hello %(name)s,\n\nThank you for taking part in the experiment %(experiment)s. Please tell us how "
            "it went (a minute: four ratings and a comment) until %(day)s:\n\n%(url)s\n",
            name=user.name,
            experiment=label,
            day=last_day.isoformat(),
            url=url,
        )
    return outbox.enqueue(user.email, subject, body, idempotency_key=f"visit-feedback:{visit.id}", now=now) is not None
