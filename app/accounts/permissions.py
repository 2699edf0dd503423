"""Named permission predicates of the accounts domain."""

from __future__ import annotations

from typing import Any

from app.accounts.models import Role


def _is_person(actor: Any) -> bool:
    return actor is not None and getattr(actor, "is_authenticated", False) and getattr(actor, "id", None) is not None


def is_admin(actor: Any) -> bool:
    return _is_person(actor) and actor.has_role(Role.ADMIN)


def is_user_office(actor: Any) -> bool:
    return _is_person(actor) and actor.has_role(Role.USER_OFFICE)


def is_staff(actor: Any) -> bool:
    """User office or admin: the people who run the facility's processes."""
    return is_admin(actor) or is_user_office(actor)


def is_director(actor: Any) -> bool:
    return _is_person(actor) and actor.has_role(Role.DIRECTOR)


def can_manage_users(actor: Any) -> bool:
    return is_admin(actor)


def can_view_user(actor: Any, user: Any) -> bool:
    return _is_person(actor) and (actor.id == user.id or is_staff(actor))


def can_manage_tokens(actor: Any, user: Any) -> bool:
    """Only the person themself manages their tokens (an admin may revoke, not create)."""
    return _is_person(actor) and actor.id == user.id


def can_revoke_token(actor: Any, token: Any) -> bool:
    return _is_person(actor) and (actor.id == token.user_id or is_admin(actor))


def can_view_job(actor: Any, job: Any) -> bool:
    return _is_person(actor) and (job.requested_by_id == actor.id or is_staff(actor))


def can_run_maintenance(actor: Any) -> bool:
    """Start facility-wide background work by hand (send the outbox now…)."""
    return is_staff(actor)


def can_manage_reference_data(actor: Any) -> bool:
    """Institutions and country groups: the user office and admins."""
    return is_staff(actor)


def can_edit_profile(actor: Any, user: Any) -> bool:
    return _is_person(actor) and actor.id == user.id


def can_close_account(actor: Any, user: Any) -> bool:
    """Only the person themself closes their account (confirmed with their password)."""
    return _is_person(actor) and actor.id == user.id
