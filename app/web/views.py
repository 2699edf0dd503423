"""Pages that belong to no domain: home, health check, background-job progress, outbox."""

from __future__ import annotations

from flask import Blueprint, flash, jsonify, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import func, select, text

from app.core import jobrequests
from app.core.models import OutboxMessage
from app.core.permissions import require_named
from app.extensions import db
from app.web import navigation
from app.web.forms import ConfirmForm

bp = Blueprint("web", __name__)

navigation.register(_l("Home"), "web.home", order=0, public=True)
navigation.register(_l("E-mail outbox"), "web.outbox", predicate="is_staff", order=90, group=navigation.ADMIN)


@bp.get("/")
def home():
    return render_template("web/home.html")


@bp.get("/healthz")
def healthz():
    db.session.execute(text("SELECT 1"))
    return jsonify(status="ok")


@bp.get("/jobs/<int:job_id>")
@login_required
def job(job_id: int):
    job = jobrequests.get_job(job_id)
    require_named("can_view_job", current_user, job, hide=True)
    return render_template("web/job.html", job=job)


@bp.get("/jobs/<int:job_id>/progress")
@login_required
def job_progress(job_id: int):
    job = jobrequests.get_job(job_id)
    require_named("can_view_job", current_user, job, hide=True)
    return render_template("web/_job_progress.html", job=job)


@bp.get("/admin/outbox")
@login_required
def outbox():
    require_named("is_staff", current_user)
    counts = dict(db.session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all())
    recent = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(20)).all()
    return render_template("web/outbox.html", counts=counts, recent=recent, form=ConfirmForm())


@bp.post("/admin/outbox/send")
@login_required
def outbox_send():
    if not ConfirmForm().validate_on_submit():
        flash(_("Your session expired; please try again."), "warning")
        return redirect(url_for(".outbox"))
    job = jobrequests.request_maintenance_job("outbox.send", actor=current_user)
    flash(_("Sending has been queued; the progress shows below."), "info")
    return redirect(url_for(".job", job_id=job.id))
