"""One translatable sentence per domain error code.

Services raise errors with a code and parameters; this is the only place that turns them
into words. A code without an entry falls back to a generic sentence (and a test lists
every code raised in the code base to make sure none is missing).
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from app.core.errors import DomainError

MESSAGES: dict[str, Any] = {
    "not_found": _l("That page or object does not exist, or you may not see it."),
    "permission_denied": _l("You are not allowed to do that."),
    "required": _l("This field is required."),
    "too_long": _l("This is too long (at most %(maximum)s characters)."),
    "invalid_value": _l("This value is not valid."),
    "email_invalid": _l("Enter a valid e-mail address."),
    "email_taken": _l("An account with this e-mail address already exists."),
    "password_too_short": _l("Use at least %(minimum)s characters."),
    "password_personal": _l("Do not use your name or e-mail address in your password."),
    "password_too_simple": _l("Use a password with more different characters."),
    "role_takes_no_scope": _l("The role %(role)s applies to the whole facility and takes no scope."),
    "role_needs_scope": _l("The role %(role)s needs a %(scope)s."),
    "role_already_granted": _l("This person already has the role %(role)s."),
    "role_not_granted": _l("This person does not have the role %(role)s."),
    "cannot_revoke_own_admin": _l("You cannot remove your own admin role."),
    "user_not_found": _l("No such person."),
    "token_not_found": _l("No such token."),
    "token_already_revoked": _l("This token was already revoked."),
    "job_not_found": _l("No such background job."),
    "job_kind_unknown": _l("Unknown kind of background job: %(kind)s."),
    "setting_unknown": _l("Unknown setting %(key)s."),
    "setting_wrong_type": _l("Enter a value of type %(expected)s."),
    "setting_too_small": _l("The smallest allowed value is %(minimum)s."),
    "setting_too_large": _l("The largest allowed value is %(maximum)s."),
    "setting_not_a_choice": _l("Choose one of: %(choices)s."),
    "invalid_json": _l("The request body is not valid JSON."),
    "unauthorized": _l("A valid personal access token is required (Authorization: Bearer …)."),
    # --- accounts: registration, profile, institutions, country groups, privacy ---
    # --- facility: settings, instruments, cycles, calendar, bookings, capacity ---
    # --- proposals ---
    # --- reviews ---
    # --- scheduling ---
    # --- visits ---
    # --- reports ---
}

GENERIC = _l("The request could not be completed (%(code)s).")


def message(exc: DomainError) -> str:
    """The translated sentence for a domain error, with its parameters filled in."""
    template = MESSAGES.get(exc.code)
    if template is None:
        return str(GENERIC % {"code": exc.code})
    try:
        return str(template % exc.params) if exc.params else str(template)
    except (KeyError, TypeError, ValueError):
        return str(template)


def known_codes() -> set[str]:
    return set(MESSAGES)
