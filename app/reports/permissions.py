"""Named permission predicates of the reports domain: directors, the user office and admins."""

from __future__ import annotations

from typing import Any

from app.accounts.permissions import is_admin, is_director, is_staff


def can_view_reports(actor: Any) -> bool:
    """The dashboard, its exports, the annual report page and the reports API."""
    return is_staff(actor) or is_director(actor)


def can_refresh_reports(actor: Any) -> bool:
    """Ask the jobs process for an incremental refresh of the rollups (the dashboard's button)."""
    return is_staff(actor)


def can_rebuild_reports(actor: Any) -> bool:
    """Ask for a full rebuild of every cycle (heavy at 20 years: admins only)."""
    return is_admin(actor)
