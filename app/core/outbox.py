"""The e-mail outbox: messages are rows written in the use case's transaction and sent by a
job after commit, so a rolled-back use case sends nothing.

Sending is claim → send → mark. A claim is an atomic UPDATE, so two senders never send the
same row. A sender that dies between claim and mark leaves the row "sending"; after
OUTBOX_CLAIM_TIMEOUT_S another sender may claim it again. Each message carries a stable
Message-ID, so in that rare case the copy is recognisable as the same message.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_mailman import EmailMultiAlternatives
from sqlalchemy import and_, or_, select, update

from app.core.db import utcnow
from app.core.models import OutboxMessage, OutboxStatus
from app.core.transaction import unit_of_work
from app.extensions import db, mail

log = logging.getLogger(__name__)
MAX_BACKOFF = timedelta(hours=6)


def enqueue(
    recipients: str | Iterable[str],
    subject: str,
    body_text: str,
    *,
    body_html: str | None = None,
    reply_to: str | None = None,
    idempotency_key: str | None = None,
    now: datetime | None = None,
) -> OutboxMessage | None:
    """Write one message to the outbox in the current transaction.

    With an `idempotency_key` (reminders: "review-reminder:42:7d") a message already queued
    under that key is not queued again: returns None.
    """
    if idempotency_key is not None:
        existing = db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.idempotency_key == idempotency_key))
        if existing is not None:
            return None
    to = [recipients] if isinstance(recipients, str) else list(recipients)
    now = now or utcnow()
    message = OutboxMessage(
        recipients=to,
        subject=subject,
        body_text=body_text,
        body_html=body_html,
        reply_to=reply_to,
        idempotency_key=idempotency_key,
        status=OutboxStatus.PENDING,
        created_at=now,
        next_attempt_at=now,
    )
    db.session.add(message)
    return message


def backoff(attempts: int) -> timedelta:
    """Wait before the next try: 1, 2, 4, 8… minutes, at most six hours."""
    return min(timedelta(minutes=2 ** max(0, attempts - 1)), MAX_BACKOFF)


def _claimable(now: datetime):
    timeout = timedelta(seconds=current_app.config["OUTBOX_CLAIM_TIMEOUT_S"])
    return or_(
        and_(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= now),
        and_(OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.claimed_at < now - timeout),
    )


def _claim(message_id: int, now: datetime) -> str | None:
    token = uuid.uuid4().hex
    with unit_of_work():
        result = db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, _claimable(now))
            .values(status=OutboxStatus.SENDING, claim_token=token, claimed_at=now, attempts=OutboxMessage.attempts + 1)
            .execution_options(synchronize_session=False)
        )
    return token if result.rowcount == 1 else None


def _message_id(message: OutboxMessage) -> str:
    domain = current_app.config["MAIL_DEFAULT_SENDER"].rpartition("@")[2] or "beamtime.local"
    return f"<outbox-{message.id}-{int(message.created_at.timestamp())}@{domain}>"


def _deliver(message: OutboxMessage, connection) -> None:
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.body_text,
        from_email=current_app.config["MAIL_DEFAULT_SENDER"],
        to=list(message.recipients),
        reply_to=[message.reply_to] if message.reply_to else None,
        headers={"Message-ID": _message_id(message)},
        connection=connection,
    )
    if message.body_html:
        email.attach_alternative(message.body_html, "text/html")
    email.send(fail_silently=False)


def _connection():
    """A mail connection built from the app's configuration as it is now.

    Flask-Mailman copies MAIL_* when the app is created; reading them here means a changed
    configuration (another SMTP server, the console backend in development) takes effect
    without rebuilding the app.
    """
    config = current_app.config
    backend = config.get("MAIL_BACKEND") or "smtp"
    if backend != "smtp":
        return mail.get_connection(backend)
    return mail.get_connection(
        backend,
        host=config["MAIL_SERVER"],
        port=config["MAIL_PORT"],
        username=config.get("MAIL_USERNAME") or "",
        password=config.get("MAIL_PASSWORD") or "",
        use_tls=bool(config.get("MAIL_USE_TLS")),
        use_ssl=bool(config.get("MAIL_USE_SSL")),
        timeout=config.get("MAIL_TIMEOUT"),
    )


def _close_quietly(connection) -> None:
    try:
        connection.close()
    except Exception as exc:  # noqa: BLE001 - closing a dead SMTP connection must not hide the report
        log.debug("outbox: closing the mail connection failed (%s)", exc)


@dataclass
class SendReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0


def send_due(*, now: datetime | None = None, limit: int = 100, progress=None) -> SendReport:
    """Send the messages that are due; each one claimed, sent and marked in its own step.

    Each claim is stamped with the time it is made (or `now`, when given, for every step): a
    long batch must not hand its last rows to another sender as "claimed long ago".
    """
    clock: Callable[[], datetime] = (lambda: now) if now is not None else utcnow
    report = SendReport()
    with unit_of_work():
        ids = list(
            db.session.scalars(
                select(OutboxMessage.id).where(_claimable(clock())).order_by(OutboxMessage.id).limit(limit)
            )
        )
    if not ids:
        return report
    max_attempts = current_app.config["OUTBOX_MAX_ATTEMPTS"]
    connection = _connection()
    try:
        for done, message_id in enumerate(ids, start=1):
            outcome = _send_one(message_id, clock, connection, max_attempts)
            if outcome == "sent":
                report.sent += 1
            elif outcome == "retry":
                report.retried += 1
            elif outcome == "failed":
                report.failed += 1
            if outcome in ("retry", "failed"):
                # a connection that failed is closed, not reused for the next message
                _close_quietly(connection)
                connection = _connection()
            if progress is not None:
                progress(done, len(ids))
    finally:
        _close_quietly(connection)
    return report


def _send_one(message_id: int, clock: Callable[[], datetime], connection, max_attempts: int) -> str | None:
    """Claim, send and mark one message: "sent", "retry", "failed", or None (not ours)."""
    token = _claim(message_id, clock())
    if token is None:
        return None  # another sender has it
    message = db.session.get(OutboxMessage, message_id, populate_existing=True)
    attempts = message.attempts
    try:
        _deliver(message, connection)
    except Exception as exc:  # noqa: BLE001 - SMTP errors of every kind: retry later, never lose the row
        log.warning("outbox %s: send failed (%s)", message_id, exc)
        give_up = attempts >= max_attempts
        with unit_of_work():
            db.session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message_id, OutboxMessage.claim_token == token)
                .values(
                    status=OutboxStatus.FAILED if give_up else OutboxStatus.PENDING,
                    next_attempt_at=clock() + backoff(attempts),
                    last_error=str(exc)[:2000],
                    claim_token=None,
                    claimed_at=None,
                )
                .execution_options(synchronize_session=False)
            )
        return "failed" if give_up else "retry"
    with unit_of_work():
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.claim_token == token)
            .values(status=OutboxStatus.SENT, sent_at=clock(), last_error=None, claim_token=None)
            .execution_options(synchronize_session=False)
        )
    return "sent"
