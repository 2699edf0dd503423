"""Pages of the scheduling domain, one module per area, all on the blueprint `bp`:
booking.py (direct booking, awards' settings), workflow.py (solve, drafts, timeline, publish,
lifecycle); further modules add the calendars."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("scheduling", __name__, url_prefix="/scheduling", template_folder="../templates")

from app.scheduling.views import booking, calendars, workflow  # noqa: E402,F401  (routes register on import)
