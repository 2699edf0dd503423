from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.core import outbox
from app.core.errors import InvalidState
from app.core.models import OutboxMessage, OutboxStatus
from app.core.transaction import transactional
from app.extensions import db

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


@transactional
def _notify(to, subject="Proposal submitted", body="Your proposal 2027-I-0042 was submitted.", **kwargs):
    return outbox.enqueue(to, subject, body, now=T0, **kwargs)


@transactional
def _notify_then_fail(to):
    outbox.enqueue(to, "Never sent", "This use case fails after queueing.", now=T0)
    db.session.flush()
    raise InvalidState("test_failure")


def _reload(message_id: int) -> OutboxMessage:
    return db.session.get(OutboxMessage, message_id, populate_existing=True)


def test_mail_queued_by_a_failed_use_case_is_never_sent(smtp_sink):
    with pytest.raises(InvalidState):
        _notify_then_fail("pi@example.org")

    report = outbox.send_due(now=T0 + timedelta(hours=1))

    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    assert report.sent == 0
    assert smtp_sink.messages == []


def test_send_due_delivers_subject_body_recipients_and_message_id(smtp_sink, app):
    message = _notify(
        ["pi@example.org", "co@example.org"],
        body_html="<p>Your proposal was submitted.</p>",
        reply_to="office@beamtime.example",
    )

    report = outbox.send_due(now=T0)

    assert (report.sent, report.retried, report.failed) == (1, 0, 0)
    [got] = smtp_sink.messages
    assert sorted(got.rcpt_tos) == ["co@example.org", "pi@example.org"]
    assert got.mail_from == app.config["MAIL_DEFAULT_SENDER"]
    assert got.subject == "Proposal submitted"
    assert "Your proposal 2027-I-0042 was submitted." in got.text
    assert got.html is not None and "<p>Your proposal was submitted.</p>" in got.html
    assert got.header("Reply-To") == "office@beamtime.example"
    assert got.message_id == f"<outbox-{message.id}-{int(T0.timestamp())}@beamtime.example>"
    row = _reload(message.id)
    assert row.status is OutboxStatus.SENT
    assert row.sent_at == T0
    assert row.attempts == 1
    assert row.claim_token is None


def test_a_message_sent_twice_after_a_crash_keeps_its_message_id(smtp_sink, app):
    message = _notify("pi@example.org")
    outbox.send_due(now=T0)
    # the sender died after SMTP accepted the message and before it marked the row
    row = _reload(message.id)
    row.status = OutboxStatus.SENDING
    row.claimed_at = T0
    db.session.commit()

    later = T0 + timedelta(seconds=app.config["OUTBOX_CLAIM_TIMEOUT_S"] + 1)
    assert outbox.send_due(now=later).sent == 1

    first, second = smtp_sink.messages
    assert first.message_id == second.message_id
    assert _reload(message.id).attempts == 2


def test_nothing_is_sent_before_it_is_due(smtp_sink):
    message = _notify("pi@example.org")
    assert outbox.send_due(now=T0 - timedelta(seconds=1)).sent == 0
    assert smtp_sink.messages == []
    assert _reload(message.id).status is OutboxStatus.PENDING


@pytest.mark.parametrize("stage", ["RCPT", "DATA"])
def test_refused_message_is_retried_with_backoff_then_marked_failed(smtp_sink, app, monkeypatch, stage):
    monkeypatch.setitem(app.config, "OUTBOX_MAX_ATTEMPTS", 4)
    message = _notify("pi@example.org")
    smtp_sink.refuse(stage)

    at = T0
    for attempt, wait in enumerate([timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)], start=1):
        report = outbox.send_due(now=at)
        assert report.retried == 1 and report.sent == 0
        row = _reload(message.id)
        assert row.status is OutboxStatus.PENDING
        assert row.attempts == attempt
        assert row.next_attempt_at == at + wait
        assert "451" in row.last_error
        # not due again before the back-off has passed
        assert outbox.send_due(now=at + wait - timedelta(seconds=1)).retried == 0
        at += wait

    report = outbox.send_due(now=at)
    assert report.failed == 1
    row = _reload(message.id)
    assert row.status is OutboxStatus.FAILED
    assert row.attempts == 4
    # a failed message is never tried again, even when the server accepts mail again
    smtp_sink.accept()
    assert outbox.send_due(now=at + timedelta(days=1)).sent == 0
    assert smtp_sink.messages == []


def test_one_refusal_does_not_stop_the_rest_of_the_batch(smtp_sink):
    first = _notify("pi@example.org")
    second = _notify("co@example.org")
    smtp_sink.refuse("DATA")
    assert outbox.send_due(now=T0).retried == 2
    smtp_sink.accept()

    report = outbox.send_due(now=T0 + timedelta(minutes=1))

    assert report.sent == 2
    assert {m.rcpt_tos[0] for m in smtp_sink.messages} == {"pi@example.org", "co@example.org"}
    assert {_reload(first.id).status, _reload(second.id).status} == {OutboxStatus.SENT}


def test_unreachable_server_keeps_the_message_for_later(app, monkeypatch):
    from tests.smtp_sink import free_port

    monkeypatch.setitem(app.config, "MAIL_BACKEND", "smtp")
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", free_port())  # nothing listens there
    message = _notify("pi@example.org")

    assert outbox.send_due(now=T0).retried == 1

    row = _reload(message.id)
    assert row.status is OutboxStatus.PENDING
    assert row.attempts == 1


def test_backoff_doubles_and_is_capped():
    assert [outbox.backoff(n) for n in (1, 2, 3, 4)] == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert outbox.backoff(30) == outbox.MAX_BACKOFF


def test_message_claimed_by_a_dead_sender_is_claimed_again(smtp_sink, app):
    message = _notify("pi@example.org")
    row = _reload(message.id)
    timeout = timedelta(seconds=app.config["OUTBOX_CLAIM_TIMEOUT_S"])
    row.status, row.claimed_at, row.claim_token, row.attempts = OutboxStatus.SENDING, T0, "dead-sender", 1
    db.session.commit()

    assert outbox.send_due(now=T0 + timeout - timedelta(seconds=1)).sent == 0  # still within its claim
    assert _reload(message.id).status is OutboxStatus.SENDING
    assert smtp_sink.messages == []

    assert outbox.send_due(now=T0 + timeout + timedelta(seconds=1)).sent == 1
    row = _reload(message.id)
    assert row.status is OutboxStatus.SENT
    assert row.attempts == 2
    assert len(smtp_sink.messages) == 1


def test_a_row_is_never_claimed_twice():
    message = _notify("pi@example.org")

    first = outbox._claim(message.id, T0)
    second = outbox._claim(message.id, T0 + timedelta(seconds=5))

    assert first is not None
    assert second is None
    assert _reload(message.id).claim_token == first


def test_sender_that_lost_its_claim_does_not_overwrite_the_new_one(smtp_sink, app, monkeypatch):
    """A sender so slow that its claim ran out: another sender took the row and sent it;
    when the slow one then fails, the row stays sent (the claim token guards the update)."""
    message = _notify("pi@example.org")
    later = T0 + timedelta(seconds=app.config["OUTBOX_CLAIM_TIMEOUT_S"] + 1)
    real_deliver = outbox._deliver
    calls = []

    def slow_then_broken(msg, connection):
        calls.append(msg.id)
        if len(calls) == 1:  # the slow sender: meanwhile another sender runs, then this one fails
            assert outbox.send_due(now=later).sent == 1
            raise OSError("connection reset")
        real_deliver(msg, connection)

    monkeypatch.setattr(outbox, "_deliver", slow_then_broken)

    report = outbox.send_due(now=T0)

    assert report.retried == 1  # the slow sender saw its own failure…
    row = _reload(message.id)
    assert row.status is OutboxStatus.SENT  # …but did not undo the other sender's success
    assert row.last_error is None
    assert row.attempts == 2
    assert len(smtp_sink.messages) == 1


def test_idempotency_key_queues_a_reminder_once():
    first = _notify("reviewer@example.org", idempotency_key="review-reminder:42:7d")
    again = _notify("reviewer@example.org", idempotency_key="review-reminder:42:7d")
    other = _notify("reviewer@example.org", idempotency_key="review-reminder:42:1d")

    assert first is not None and other is not None
    assert again is None
    keys = db.session.scalars(select(OutboxMessage.idempotency_key).order_by(OutboxMessage.id)).all()
    assert keys == ["review-reminder:42:7d", "review-reminder:42:1d"]


def test_console_backend_prints_the_message(app, monkeypatch, capsys):
    monkeypatch.setitem(app.config, "MAIL_BACKEND", "console")
    message = _notify("pi@example.org", subject="Console check", body="Printed, not sent.")

    assert outbox.send_due(now=T0).sent == 1

    printed = capsys.readouterr().out
    assert "Subject: Console check" in printed
    assert "Printed, not sent." in printed
    assert "To: pi@example.org" in printed
    assert _reload(message.id).status is OutboxStatus.SENT


def test_development_prints_mail_to_the_console_by_default(monkeypatch):
    import importlib

    import config

    monkeypatch.delenv("MAIL_BACKEND", raising=False)
    try:
        fresh = importlib.reload(config)
        assert fresh.DevelopmentConfig.MAIL_BACKEND == "console"
        assert fresh.ProductionConfig.MAIL_BACKEND == "smtp"
    finally:
        importlib.reload(config)


def test_send_due_reports_progress_for_every_message(smtp_sink):
    _notify("a@example.org")
    _notify("b@example.org")
    _notify("c@example.org")
    smtp_sink.refuse("RCPT")
    seen = []

    outbox.send_due(now=T0, progress=lambda done, total: seen.append((done, total)))

    assert seen == [(1, 3), (2, 3), (3, 3)]


def test_each_claim_is_stamped_when_it_is_made(smtp_sink, monkeypatch):
    """Without `now`, a long batch stamps each claim with the time it is made: a row claimed
    late in the batch must not look abandoned to another sender because the batch began long ago."""
    for to in ("a@example.org", "b@example.org", "c@example.org"):
        _notify(to)
    ticks = iter(T0 + timedelta(minutes=4 * n) for n in range(100))
    monkeypatch.setattr(outbox, "utcnow", lambda: next(ticks))

    assert outbox.send_due().sent == 3

    claimed = db.session.scalars(select(OutboxMessage.claimed_at).order_by(OutboxMessage.id)).all()
    assert claimed[0] < claimed[1] < claimed[2]
