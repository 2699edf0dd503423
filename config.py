"""Configuration classes, read from the environment (and a `.env` file when present).

Every variable is listed in the README. `create_app()` picks the class named by
`BEAMTIME_CONFIG` (development, testing, production); production refuses to start without a
real SECRET_KEY.
"""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("BEAMTIME_INSTANCE", BASE_DIR / "instance"))
DEFAULT_SECRET_KEY = "dev-only-not-secret"


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", DEFAULT_SECRET_KEY)
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'beamtime.sqlite'}")
    # no ping on every checkout (one round trip per request): a pooled connection is pinged
    # only after DATABASE_PING_IDLE_S idle, and replaced after DATABASE_POOL_RECYCLE_S
    # (below the database's, proxies' and firewalls' idle limits); README, configuration
    DATABASE_PING_IDLE_S = float(os.environ.get("DATABASE_PING_IDLE_S", "10"))
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_recycle": int(os.environ.get("DATABASE_POOL_RECYCLE_S", "1800"))}
    SQLITE_BUSY_TIMEOUT_MS = int(os.environ.get("SQLITE_BUSY_TIMEOUT_MS", "10000"))

    FACILITY_NAME = os.environ.get("FACILITY_NAME", "Beamtime demo facility")
    FACILITY_TIMEZONE = os.environ.get("FACILITY_TIMEZONE", "Europe/Zurich")
    BABEL_DEFAULT_LOCALE = os.environ.get("BABEL_DEFAULT_LOCALE", "en")
    LANGUAGES = ("en", "fr", "de")

    MAIL_BACKEND = os.environ.get("MAIL_BACKEND", "smtp")  # smtp | console
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "localhost")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "25"))
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_USE_TLS = _bool("MAIL_USE_TLS", False)
    MAIL_USE_SSL = _bool("MAIL_USE_SSL", False)
    MAIL_TIMEOUT = int(os.environ.get("MAIL_TIMEOUT", "20"))
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "user-office@beamtime.example")
    OUTBOX_MAX_ATTEMPTS = int(os.environ.get("OUTBOX_MAX_ATTEMPTS", "6"))
    OUTBOX_CLAIM_TIMEOUT_S = int(os.environ.get("OUTBOX_CLAIM_TIMEOUT_S", "300"))

    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_ENABLED = _bool("RATELIMIT_ENABLED", True)
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10 per minute")
    REGISTER_RATE_LIMIT = os.environ.get("REGISTER_RATE_LIMIT", "5 per hour")
    RESET_RATE_LIMIT = os.environ.get("RESET_RATE_LIMIT", "5 per hour")
    #: absolute links in e-mails (verification, password reset) start with this; set it in production
    BASE_URL = os.environ.get("BASE_URL")

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    HSTS = False
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session

    UPLOAD_DIR = os.environ.get("UPLOAD_DIR", str(INSTANCE_DIR / "uploads"))
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_CONTENT_LENGTH", str(40 * 1024 * 1024)))

    JOBS_POLL_SECONDS = float(os.environ.get("JOBS_POLL_SECONDS", "2"))
    JOBS_OUTBOX_SECONDS = float(os.environ.get("JOBS_OUTBOX_SECONDS", "10"))
    JOBS_LEADER_RETRY_SECONDS = float(os.environ.get("JOBS_LEADER_RETRY_SECONDS", "5"))

    API_TITLE = "Beamtime API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"
    OPENAPI_REDOC_PATH = None
    OPENAPI_SWAGGER_UI_PATH = None
    API_SPEC_OPTIONS = {
        "components": {
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "description": "A personal access token"}
            }
        },
        "security": [{"bearerAuth": []}],
    }

    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
    TESTING = False
    DEBUG = False


class DevelopmentConfig(Config):
    MAIL_BACKEND = os.environ.get("MAIL_BACKEND", "console")
    DEBUG = _bool("FLASK_DEBUG", False)


class TestingConfig(Config):
    TESTING = True
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_SQLITE_URL", "sqlite://")
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}  # an in-memory SQLite must never be recycled (it would be empty)
    RATELIMIT_ENABLED = False
    WTF_CSRF_ENABLED = False
    MAIL_BACKEND = "smtp"
    MAIL_SERVER = "127.0.0.1"
    LOGIN_RATE_LIMIT = "1000 per minute"
    REGISTER_RATE_LIMIT = "1000 per minute"
    RESET_RATE_LIMIT = "1000 per minute"
    PASSWORD_HASH_FAST = True


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    HSTS = True
    PREFERRED_URL_SCHEME = "https"


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


class ConfigError(RuntimeError):
    """The configuration cannot run safely."""


def check_production(config: dict) -> None:
    """Refuse to start a production app with a missing or the default secret key."""
    key = config.get("SECRET_KEY")
    if not key or key == DEFAULT_SECRET_KEY or len(key) < 32:
        raise ConfigError(
            "SECRET_KEY must be set to a random value of at least 32 characters in production "
            "(e.g. python -c 'import secrets; print(secrets.token_hex(32))')."
        )
