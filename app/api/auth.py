"""Bearer personal access tokens: the only way into the API."""

from __future__ import annotations

from functools import wraps

from flask import g, request

from app.accounts import services as accounts
from app.core.errors import DomainError


class Unauthorized(DomainError):
    status = 401


def bearer_user():
    """The token's owner, or None (never the session cookie)."""
    if "api_user" in g:
        return g.api_user
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    user = None
    if scheme.lower() == "bearer" and secret.strip():
        user = accounts.user_for_token(secret.strip())
    g.api_user = user
    return user


def token_required(view):
    """Refuse with 401 (and a WWW-Authenticate header) unless a usable token is sent."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if bearer_user() is None:
            raise Unauthorized("unauthorized")
        return view(*args, **kwargs)

    return wrapper
