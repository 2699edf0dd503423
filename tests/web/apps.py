"""Extra apps for web tests that need another configuration (rate limits on, production…).

Some state is process-wide and set by each `create_app()`: Flask-Limiter keeps `enabled` on
the extension object, and the password hasher's speed is module state (a production app
would leave real argon2 on, 1 s per test). `other_app()` puts both back for the session's
app when the block ends.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask


@contextmanager
def other_app(session_app: Flask, config: str = "testing", *, schema: bool = True, **overrides) -> Iterator[Flask]:
    """A fresh app (in-memory SQLite unless a URL is given), its tables made from the models."""
    from app import create_app
    from app.accounts import passwords
    from app.extensions import db, limiter

    overrides.setdefault("SQLALCHEMY_DATABASE_URI", "sqlite://")
    application = create_app(config, **overrides)
    if schema:
        with application.app_context():
            db.create_all()
    try:
        yield application
    finally:
        with application.app_context():
            db.engine.dispose()
        limiter.init_app(session_app)
        passwords.use_fast_hashing(bool(session_app.config.get("PASSWORD_HASH_FAST")))
