"""Dates in the facility's zone, named, across daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from app.web.templating import local_date, local_datetime


@pytest.fixture
def zurich(app, monkeypatch):
    monkeypatch.setitem(app.config, "FACILITY_TIMEZONE", "Europe/Zurich")
    with app.test_request_context(headers={"Accept-Language": "en"}):
        yield


@pytest.mark.parametrize(
    ("instant", "shown"),
    [
        # spring forward (28 Mar 2027, 02:00 CET → 03:00 CEST): one UTC hour apart, two local hours
        (datetime(2027, 3, 28, 0, 30, tzinfo=UTC), "28 Mar 2027, 01:30 CET"),
        (datetime(2027, 3, 28, 1, 30, tzinfo=UTC), "28 Mar 2027, 03:30 CEST"),
        # fall back (31 Oct 2027, 03:00 CEST → 02:00 CET): the same wall time twice, told apart
        (datetime(2027, 10, 31, 0, 30, tzinfo=UTC), "31 Oct 2027, 02:30 CEST"),
        (datetime(2027, 10, 31, 1, 30, tzinfo=UTC), "31 Oct 2027, 02:30 CET"),
    ],
)
def test_localdt_names_the_zone_across_dst(zurich, instant, shown):
    assert local_datetime(instant) == shown


def test_localdt_follows_the_configured_zone(app, monkeypatch):
    monkeypatch.setitem(app.config, "FACILITY_TIMEZONE", "America/Sao_Paulo")
    with app.test_request_context():
        assert local_datetime(datetime(2027, 3, 28, 1, 30, tzinfo=UTC)) == "27 Mar 2027, 22:30 -03"


def test_localdate_uses_the_facility_day(zurich):
    # 23:30 UTC on 31 December is already 1 January in Zurich
    assert local_date(datetime(2026, 12, 31, 23, 30, tzinfo=UTC)) == "1 Jan 2027"
    assert local_date(date(2027, 2, 3)) == "3 Feb 2027"
    assert local_datetime(None) == "" and local_date(None) == ""


def test_the_filter_is_what_templates_use(app, zurich):
    rendered = app.jinja_env.from_string("{{ t|localdt }}").render(t=datetime(2027, 7, 1, 12, 0, tzinfo=UTC))
    assert rendered == "1 Jul 2027, 14:00 CEST"


def test_pages_say_which_zone_times_are_in(client):
    assert "Times are shown in Europe/Zurich." in client.get("/login").get_data(as_text=True)
