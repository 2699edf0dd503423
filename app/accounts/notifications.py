"""E-mails of the accounts domain, written to the outbox in the caller's transaction.

Each message is written in the recipient's language. Links come from `links.external_url`.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import force_locale
from flask_babel import gettext as _

from app.accounts import links
from app.accounts.models import User
from app.core import outbox


def enqueue_verification(
    user: User, token: str, *, hours: int, now: datetime, email: str | None = None, continue_to: str | None = None
) -> None:
    """The link that proves `email` (the account's, or a new one asked for) belongs to the person;
    with `continue_to`, it leads on to that local page (an invitation) after log-in."""
    extra = {"next": continue_to} if continue_to else {}
    url = links.external_url("accounts.verify_email", token=token, **extra)
    with force_locale(user.locale or "en"):
        subject = _("Confirm your e-mail address")
        body = _(
            "Hello %(name)s,\n\nplease confirm your e-mail address by opening this link within %(hours)s hours:\n\n"
            "%(url)s\n\nIf you did not ask for this, ignore this message.",
            name=user.name,
            hours=hours,
            url=url,
        )
    outbox.enqueue(email or user.email, subject, body, now=now)


def enqueue_password_reset(user: User, token: str, *, minutes: int, now: datetime) -> None:
    url = links.external_url("accounts.reset_password", token=token)
    with force_locale(user.locale or "en"):
        subject = _("Reset your password")
        body = _(
            "Hello %(name)s,\n\nsomeone (we hope you) asked to reset your password. Choose a new one with this "
            "link within %(minutes)s minutes; it works once:\n\n%(url)s\n\n"
            "If you did not ask for this, ignore this message: your password stays as it is.",
            name=user.name,
            minutes=minutes,
            url=url,
        )
    outbox.enqueue(user.email, subject, body, now=now)
