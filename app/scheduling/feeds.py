"""iCal feed tokens: make, list, revoke, and find the feed of a secret URL.

The secret is `bcal_` + 32 random bytes (URL-safe); only its SHA-256 is stored, so the URL is
shown once, when the feed is made (a lost URL: revoke the feed and make another). A feed of a
revoked token, or of a person no longer active, is refused with 404 — as is a secret never seen.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from app.core import audit
from app.core.db import utcnow
from app.core.errors import InvalidState, NotFound, ValidationFailed
from app.core.permissions import require
from app.core.transaction import transactional
from app.extensions import db
from app.facility.models import Instrument
from app.scheduling import permissions
from app.scheduling.models import CalendarFeed, FeedKind

SECRET_PREFIX = "bcal_"
#: a feed's `last_used_at` is written at most this often (calendar clients poll every few minutes)
TOUCH_EVERY = timedelta(hours=1)
#: feeds one person may hold at once (not revoked)
MAX_FEEDS = 20


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transactional
def create_feed(
    kind: FeedKind | str, *, instrument_id: Any = None, actor: Any, now: datetime | None = None
) -> tuple[CalendarFeed, str]:
    """Make a secret feed URL of the actor's own experiments (`user`) or of an instrument's
    schedule (`instrument`). Returns the feed and its secret, which is never stored.

    Raises: PermissionDenied, ValidationFailed (kind: invalid_value; instrument_id: required,
    instrument_unknown; feeds_limit).
    """
    require(permissions.can_manage_feeds, actor)
    now = now or utcnow()
    try:
        kind = FeedKind(kind)
    except ValueError:
        raise ValidationFailed("invalid_value", field="kind") from None
    instrument = None
    if kind == FeedKind.INSTRUMENT:
        if instrument_id in (None, ""):
            raise ValidationFailed("required", field="instrument_id")
        try:
            instrument = db.session.get(Instrument, int(instrument_id))
        except (TypeError, ValueError, OverflowError):
            instrument = None
        if instrument is None:
            raise ValidationFailed("instrument_unknown", field="instrument_id")
    active = db.session.scalars(
        select(CalendarFeed.id).where(CalendarFeed.user_id == actor.id, CalendarFeed.revoked_at.is_(None))
    ).all()
    if len(active) >= MAX_FEEDS:
        raise ValidationFailed("feeds_limit", field="kind", maximum=MAX_FEEDS)
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    feed = CalendarFeed(
        user_id=actor.id,
        kind=kind,
        instrument_id=instrument.id if instrument else None,
        prefix=secret[:10],
        token_hash=hash_secret(secret),
        created_at=now,
    )
    db.session.add(feed)
    db.session.flush()
    audit.record(
        actor,
        "calendar_feed.created",
        feed,
        changes={"kind": kind.value, "instrument": instrument and instrument.code},
        at=now,
    )
    return feed, secret


@transactional
def revoke_feed(feed_id: int, *, actor: Any, now: datetime | None = None) -> CalendarFeed:
    """Revoke a feed at once: its URL answers 404 from now on.

    Raises: NotFound (no such feed, or someone else's), InvalidState (feed_already_revoked).
    """
    now = now or utcnow()
    feed = db.session.get(CalendarFeed, feed_id)
    if feed is None or not permissions.can_revoke_feed(actor, feed):
        raise NotFound("feed_not_found")
    if feed.revoked_at is not None:
        raise InvalidState("feed_already_revoked")
    feed.revoked_at = now
    audit.record(actor, "calendar_feed.revoked", feed, at=now)
    return feed


def list_feeds(user_id: int) -> list[CalendarFeed]:
    """A person's feeds, newest first (revoked ones too, marked)."""
    return list(
        db.session.scalars(
            select(CalendarFeed)
            .where(CalendarFeed.user_id == user_id)
            .order_by(CalendarFeed.created_at.desc(), CalendarFeed.id.desc())
        )
    )


def feed_for_secret(secret: str, *, now: datetime | None = None) -> CalendarFeed:
    """The usable feed of a secret. Raises: NotFound (unknown, revoked, owner not active)."""
    now = now or utcnow()
    if not secret or not secret.startswith(SECRET_PREFIX) or len(secret) > 100:
        raise NotFound("feed_not_found")
    feed = db.session.scalar(select(CalendarFeed).where(CalendarFeed.token_hash == hash_secret(secret)))
    if feed is None or feed.revoked_at is not None or not feed.user.active:
        raise NotFound("feed_not_found")
    if feed.last_used_at is None or now - feed.last_used_at > TOUCH_EVERY:
        _touch(feed.id, now)
    return feed


@transactional
def _touch(feed_id: int, now: datetime) -> None:
    feed = db.session.get(CalendarFeed, feed_id)
    if feed is not None:
        feed.last_used_at = now
