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
    "password_common": _l("This password is among the first ones attackers try. Choose another."),
    "password_wrong": _l("This password is not right."),
    "login_failed": _l("E-mail or password is not right."),
    "email_not_verified": _l("Please confirm your e-mail address first: open the link we sent you."),
    "email_unchanged": _l("This is already your e-mail address."),
    "orcid_invalid": _l("This is not a valid ORCID iD (like 0000-0002-1825-0097; the last character is a checksum)."),
    "orcid_taken": _l("Another account already has this ORCID iD."),
    "privacy_not_accepted": _l("Please read and accept the privacy notice."),
    "institution_required": _l("Choose your institution, or propose it if it is not in the list."),
    "institution_unknown": _l("This institution is not in the list."),
    "institution_not_found": _l("No such institution."),
    "institution_needs_country": _l("Choose a country: only international organisations may have none."),
    "institution_parent_unknown": _l("There is no institution with this number."),
    "institution_parent_cycle": _l("An institution cannot be part of itself or of one of its own sub-units."),
    "institution_already_reviewed": _l("This institution was already reviewed."),
    "institution_merge_same": _l("Choose another institution: one cannot be merged into itself."),
    "institution_merge_target_unknown": _l("There is no institution with this number to merge into."),
    "country_unknown": _l("%(code)s is not a known country code."),
    "ror_invalid": _l("This is not a valid ROR id (0, six letters or digits, two check digits: like 05a28rw58)."),
    "ror_taken": _l("Another institution already has the ROR id %(ror)s."),
    "country_group_not_found": _l("No such country group."),
    "country_group_unknown": _l("There is no country group named %(name)s."),
    "country_group_name_taken": _l("A country group named %(name)s already exists."),
    "country_group_in_use": _l("This country group is still used by: %(uses)s."),
    "scope_unknown": _l("There is no %(scope)s with the number %(scope_id)s."),
    "link_invalid": _l("This link is not valid. Copy the whole link from the e-mail, or ask for a new one."),
    "link_expired": _l("This link has expired. Ask for a new one."),
    "link_used": _l("This link has already been used (or a newer one replaced it)."),
    "account_closed": _l("This account is closed."),
    "last_admin_cannot_close": _l("You are the only admin: grant the admin role to someone else first."),
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
