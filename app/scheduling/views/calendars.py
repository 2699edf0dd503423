"""The calendars people read: an instrument's timeline (week, month, cycle), the facility
overview (instruments × time), my experiments, running now; and the iCal feeds (secret URLs,
made and revoked here). Views parse, call one query or service, render.

Under Bootstrap's `md` breakpoint the drawn timeline is hidden and the list below it (always
there, for screen readers too) is the view: usable at 375 px.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import Response, abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from app.core.db import utcnow
from app.core.errors import NotFound, ValidationFailed
from app.core.permissions import require
from app.facility import queries as facility_queries
from app.scheduling import calendar_queries as cq
from app.scheduling import feeds, ical, permissions
from app.scheduling.models import FeedKind
from app.scheduling.views import bp
from app.web import actions, navigation, templating
from app.web.messages import message

navigation.register(_l("My experiments"), "scheduling.mine", order=14)
navigation.register(
    _l("Facility schedule"), "scheduling.overview", predicate="can_view_calendars", order=20, group=navigation.PROGRAMME
)
navigation.register(
    _l("Running now"), "scheduling.running_now", predicate="can_view_calendars", order=21, group=navigation.PROGRAMME
)
navigation.register(
    _l("Calendar feeds"), "scheduling.feeds_page", predicate="can_manage_feeds", order=22, group=navigation.PROGRAMME
)

VIEWS = ("week", "month", "cycle")
#: the drawing: a label column, then the time axis, in SVG user units
LABEL_W = 120
AXIS_W = 1080
ROW_H = 30


# --- geometry of the drawn timeline --------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    x: float
    w: float
    css: str
    label: str
    tip: str


@dataclass(frozen=True)
class Row:
    label: str
    y: int
    bars: list[Bar]
    bands: list[Bar]  # mode periods: a strip along the row's foot
    shades: list[Bar]  # shutdowns and machine days: behind everything


def _clip(starts_at: datetime, ends_at: datetime, lo: datetime, hi: datetime) -> tuple[float, float] | None:
    a, b = max(starts_at, lo), min(ends_at, hi)
    if b <= a:
        return None
    total = (hi - lo).total_seconds()
    x = LABEL_W + AXIS_W * (a - lo).total_seconds() / total
    return x, max(1.0, AXIS_W * (b - a).total_seconds() / total)


def _item_label(item: cq.Item) -> str:
    if item.experiment is None:
        return item.booking.title or str(BLOCK_LABELS[item.kind])
    if not item.details:
        return str(_l("Proprietary experiment"))
    text = item.reference or str(_l("Experiment"))
    if item.is_planned:
        text += " " + str(_l("(draft)"))
    return text


def _row(label: str, y: int, lo: datetime, hi: datetime, items, modes, downtimes, grid) -> Row:
    bars, bands, shades = [], [], []
    for item in items:
        if (geo := _clip(item.starts_at, item.ends_at, lo, hi)) is not None:
            css = f"tl-{item.css}" + (" tl-planned" if item.is_planned else "")
            tip = f"{_item_label(item)} · {grid.local(item.starts_at)} – {grid.local(item.ends_at)}"
            bars.append(Bar(*geo, css, _item_label(item), tip))
    for span in modes:
        if (geo := _clip(span.starts_at, span.ends_at, lo, hi)) is not None:
            bands.append(Bar(*geo, f"tl-{span.css}", span.label, span.label))
    for span in downtimes:
        if (geo := _clip(span.starts_at, span.ends_at, lo, hi)) is not None:
            shades.append(Bar(*geo, f"tl-{span.css}", span.label, span.label))
    return Row(label, y, bars, bands, shades)


BLOCK_LABELS = {
    "experiment": _l("Experiment"),
    "maintenance": _l("Maintenance"),
    "in_house": _l("In-house research"),
    "rapid_access": _l("Rapid-access slot"),
}
STATUS_LABELS = {
    "planned": _l("Planned (draft)"),
    "published": _l("Published"),
    "running": _l("Running"),
    "completed": _l("Completed"),
    "cancelled": _l("Cancelled"),
    "confirmed": _l("Confirmed"),
}


def _range_args() -> tuple[str, date | None, str | None]:
    view = request.args.get("view", "week")
    if view not in VIEWS:
        view = "week"
    day = None
    raw = request.args.get("date")
    if raw:
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            day = None
        if day is not None and not 1900 <= day.year <= 2200:
            day = None  # a week or a month around year 1 or 9999 cannot be computed
    return view, day, request.args.get("cycle") or None


def _resolve_range(view: str, day: date | None, cycle_name: str | None) -> cq.Range:
    tz = templating.facility_timezone()
    today = datetime.now(tz).date()
    cycle = None
    if view == "cycle":
        cycle = None
        if cycle_name:
            try:
                cycle = facility_queries.get_cycle_by_name(cycle_name)
            except NotFound:
                cycle = None
        cycle = cycle or cq.cycle_at(day or today)
        if cycle is None:
            view = "week"
    return cq.view_range(view, day or today, tz, cycle=cycle)


def _common(rng: cq.Range) -> dict:
    return {
        "rng": rng,
        "block_labels": BLOCK_LABELS,
        "status_labels": STATUS_LABELS,
        "grid": facility_queries.grid(),
        "label_w": LABEL_W,
        "axis_w": AXIS_W,
        "row_h": ROW_H,
    }


# --- pages ---------------------------------------------------------------------------------


@bp.get("/instruments/<code>/timeline")
@login_required
def instrument_timeline(code: str):
    require(permissions.can_view_calendars, current_user)
    instrument = cq.get_instrument_by_code(code)
    view, day, cycle_name = _range_args()
    rng = _resolve_range(view, day, cycle_name)
    tl = cq.timeline([instrument], rng.start, rng.end, actor=current_user)
    grid = facility_queries.grid()
    rows = []
    d = rng.first_day
    y = 0
    while d <= rng.last_day:
        lo = cq.local_midnight(d, grid.tz)
        hi = cq.local_midnight(d + timedelta(days=1), grid.tz)
        rows.append(_row(templating.local_date(d), y, lo, hi, tl.items[instrument.id], tl.modes, tl.downtimes, grid))
        y += ROW_H
        d += timedelta(days=1)
    return render_template(
        "scheduling/cal_instrument.html",
        instrument=instrument,
        tl=tl,
        items=tl.items[instrument.id],
        rows=rows,
        height=max(y, ROW_H),
        cycles=facility_queries.list_cycles(),
        instruments=facility_queries.list_instruments(active_only=True),
        **_common(rng),
    )


@bp.get("/overview")
@login_required
def overview():
    require(permissions.can_view_calendars, current_user)
    view, day, cycle_name = _range_args()
    rng = _resolve_range(view, day, cycle_name)
    instruments = facility_queries.list_instruments(active_only=True)
    tl = cq.timeline(instruments, rng.start, rng.end, actor=current_user)
    grid = facility_queries.grid()
    rows = [
        _row(i.code, n * ROW_H, rng.start, rng.end, tl.items[i.id], tl.modes, tl.downtimes, grid)
        for n, i in enumerate(instruments)
    ]
    # day ticks along the axis (every day for a week, every Monday otherwise)
    ticks = []
    d = rng.first_day
    while d <= rng.last_day:
        if rng.view == "week" or d.weekday() == 0 or d == rng.first_day:
            geo = _clip(cq.local_midnight(d, grid.tz), rng.end, rng.start, rng.end)
            if geo:
                ticks.append((geo[0], d.strftime("%d %b") if rng.view != "week" else d.strftime("%a %d")))
        d += timedelta(days=1)
    return render_template(
        "scheduling/cal_overview.html",
        tl=tl,
        rows=rows,
        ticks=ticks,
        height=max(len(rows), 1) * ROW_H,
        cycles=facility_queries.list_cycles(),
        **_common(rng),
    )


@bp.get("/mine")
@login_required
def mine():
    now = utcnow()
    rows = cq.my_experiments(current_user)
    upcoming = [r for r in rows if r.item.ends_at > now]
    past = [r for r in rows if r.item.ends_at <= now][::-1]
    return render_template(
        "scheduling/cal_mine.html",
        upcoming=upcoming,
        past=past,
        now=now,
        status_labels=STATUS_LABELS,
        grid=facility_queries.grid() if facility_queries.find_facility() else None,
    )


@bp.get("/now")
@login_required
def running_now():
    require(permissions.can_view_calendars, current_user)
    now = utcnow()
    rows = cq.running_now(now, actor=current_user)
    return render_template(
        "scheduling/cal_now.html",
        rows=rows,
        now=now,
        block_labels=BLOCK_LABELS,
        status_labels=STATUS_LABELS,
        item_label=_item_label,
    )


# --- iCal feeds ----------------------------------------------------------------------------


def _render_feeds(*, created=None, secret: str | None = None, error: ValidationFailed | None = None, status: int = 200):
    return render_template(
        "scheduling/feed_list.html",
        feeds=feeds.list_feeds(current_user.id),
        instruments=facility_queries.list_instruments(active_only=True),
        created=created,
        feed_url=url_for(".ical_feed", secret=secret, _external=True) if secret else None,
        error=error and message(error),
        error_field=error and error.field,
        form=FlaskForm(),
    ), status


@bp.get("/feeds")
@login_required
def feeds_page():
    require(permissions.can_manage_feeds, current_user)
    return _render_feeds()


@bp.post("/feeds")
@login_required
def feeds_create():
    require(permissions.can_manage_feeds, current_user)
    if not FlaskForm().validate_on_submit():
        return actions.session_expired(url_for(".feeds_page"))
    try:
        feed, secret = feeds.create_feed(
            request.form.get("kind", ""), instrument_id=request.form.get("instrument_id"), actor=current_user
        )
    except ValidationFailed as exc:
        return _render_feeds(error=exc, status=422)
    # the URL is shown this once: only its hash is stored
    return _render_feeds(created=feed, secret=secret, status=201)


@bp.post("/feeds/<int:feed_id>/revoke")
@login_required
def feed_revoke(feed_id: int):
    return actions.confirmed(
        lambda: feeds.revoke_feed(feed_id, actor=current_user),
        back=url_for(".feeds_page"),
        done=_("The feed is revoked: its address no longer works."),
        refused_level="warning",
    )


@bp.get("/ical/<secret>.ics")
def ical_feed(secret: str):
    """The feed of a secret URL (no log-in: calendar clients cannot); 404 when revoked."""
    now = utcnow()
    try:
        feed = feeds.feed_for_secret(secret, now=now)
    except NotFound:
        abort(404)
    facility = facility_queries.find_facility()
    if facility is None:
        abort(404)
    if feed.kind == FeedKind.INSTRUMENT:
        rows = cq.feed_rows_of_instrument(feed.instrument_id, now=now)
        name = f"{facility.name}: {feed.instrument.code}"
    else:
        rows = cq.feed_rows_of_user(feed.user_id, now=now)
        name = f"{facility.name}: {feed.user.name}"
    items = cq.feed_items(rows, feed.user)
    codes = {i.id: i.code for i in facility_queries.list_instruments()}
    body = ical.calendar_of(items, name=name, tz_name=facility.timezone, now=now, instrument_codes=codes)
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = 'inline; filename="beamtime.ics"'
    response.headers["Cache-Control"] = "private, max-age=300"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
