"""Production refuses to start without a real secret key."""

from __future__ import annotations

import secrets

import pytest

from config import CONFIGS, DEFAULT_SECRET_KEY, ConfigError, check_production


@pytest.mark.parametrize(
    "key",
    [None, "", DEFAULT_SECRET_KEY, "short-but-not-empty", "x" * 31],
    ids=["missing", "empty", "default", "short", "31-chars"],
)
def test_production_refuses_a_weak_secret_key(key):
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        check_production({"SECRET_KEY": key})


def test_production_refuses_a_missing_key_entirely():
    with pytest.raises(ConfigError):
        check_production({})


def test_production_accepts_a_random_key():
    check_production({"SECRET_KEY": secrets.token_hex(32)})


@pytest.mark.parametrize("key", [None, DEFAULT_SECRET_KEY, "too-short"])
def test_create_app_in_production_stops_at_once(key):
    from app import create_app

    with pytest.raises(ConfigError):
        create_app("production", SECRET_KEY=key, SQLALCHEMY_DATABASE_URI="sqlite://")


def test_production_cookies_are_secure_and_hsts_is_on():
    production = CONFIGS["production"]
    assert production.HSTS is True
    assert production.SESSION_COOKIE_HTTPONLY and production.SESSION_COOKIE_SAMESITE == "Lax"
    assert CONFIGS["development"].HSTS is False and CONFIGS["testing"].HSTS is False
