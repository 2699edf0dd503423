"""Signed, expiring links sent by e-mail (verification, password reset), with itsdangerous.

Each purpose signs with its own salt, so a token made for one purpose is refused for another.
The secret key and the URL builder come from the app at start-up (`configure`, called when the
accounts blueprint is registered): services stay free of Flask and still write absolute links.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, TimestampSigner, URLSafeTimedSerializer

from app.core.errors import InvalidState

VERIFY_EMAIL = "accounts.verify-email"
RESET_PASSWORD = "accounts.reset-password"

_config: dict[str, Any] = {"secret_key": None, "url_builder": None}


def configure(*, secret_key: str, url_builder: Callable[..., str]) -> None:
    _config["secret_key"] = secret_key
    _config["url_builder"] = url_builder


def _serializer(purpose: str, now: datetime | None) -> URLSafeTimedSerializer:
    """A serializer whose clock is `now` (tests and services pass the time explicitly)."""
    if not _config["secret_key"]:
        raise RuntimeError("app.accounts.links is not configured (no secret key)")
    stamp = int((now or datetime.now(UTC)).timestamp())

    class _Signer(TimestampSigner):
        def get_timestamp(self) -> int:
            return stamp

    return URLSafeTimedSerializer(_config["secret_key"], salt=purpose, signer=_Signer)


def sign(purpose: str, payload: dict[str, Any], *, now: datetime | None = None) -> str:
    """A URL-safe token carrying `payload`, stamped with `now`."""
    return _serializer(purpose, now).dumps(payload)


def load(purpose: str, token: str, *, max_age: timedelta, now: datetime | None = None) -> dict[str, Any]:
    """The payload of a token signed for `purpose` no longer than `max_age` before `now`.

    Raises: InvalidState "link_invalid" (tampered, or made for another purpose) or "link_expired".
    """
    serializer = _serializer(purpose, now)
    try:
        payload, signed_at = serializer.loads(token or "", return_timestamp=True)
    except BadSignature:
        raise InvalidState("link_invalid") from None
    now = now or datetime.now(UTC)
    if not isinstance(payload, dict):
        raise InvalidState("link_invalid")
    if now - signed_at > max_age:
        raise InvalidState("link_expired")
    return payload


def external_url(endpoint: str, **values: Any) -> str:
    """An absolute URL of a page, for e-mails."""
    builder = _config["url_builder"]
    if builder is None:
        raise RuntimeError("app.accounts.links is not configured (no URL builder)")
    return builder(endpoint, **values)
