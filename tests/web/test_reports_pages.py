"""The directors' dashboard, its exports and the reports API: who may see them, what they show."""

from __future__ import annotations

import io

import pytest

from app.accounts import services as accounts
from app.accounts.models import Role
from app.reports import services as reports
from tests.dbstate import db_fingerprint
from tests.factories import login, make_user
from tests.factories_reports import make_example


@pytest.fixture
def example(ctx):
    with ctx():
        ex = make_example()
        reports.rebuild_all()
        people = {
            role: make_user(roles=[role]) for role in (Role.DIRECTOR, Role.USER_OFFICE, Role.ADMIN, Role.REVIEWER)
        }
        plain = make_user()
        tokens = {}
        for role, user in [*people.items(), ("user", plain)]:
            _t, secret = accounts.create_token(user.id, "reports", actor=user)
            tokens[role] = {"Authorization": f"Bearer {secret}"}
        ex.users = {**people, "user": plain}
        ex.tokens = tokens
    return ex


def test_director_sees_the_dashboard_in_every_mode(client, example):
    login(client, example.users[Role.DIRECTOR])
    for mode in ("pi", "whole", "fractional"):
        page = client.get(f"/reports/?mode={mode}&years=2027")
        assert page.status_code == 200
        text = page.get_data(as_text=True)
        assert 'id="map"' in text and "International organisations" in text and "In-house" in text
    # the map cannot draw INTL/HOUSE: they are listed beside it with their numbers
    text = client.get("/reports/?mode=whole&years=2027").get_data(as_text=True)
    listed = text.split('id="not-drawn"')[1].split("</ul>")[0]
    assert "International organisations" in listed and "In-house" in listed


def test_bad_filter_is_named_next_to_its_field_and_never_a_500(client, example):
    login(client, example.users[Role.DIRECTOR])
    page = client.get("/reports/?mode=everything&years=abc")
    assert page.status_code == 200
    assert "is-invalid" in page.get_data(as_text=True)


@pytest.mark.parametrize("role", [Role.DIRECTOR, Role.USER_OFFICE, Role.ADMIN])
def test_exports_carry_definitions(client, example, role):
    login(client, example.users[role])
    csv = client.get("/reports/export/countries.csv?mode=fractional&years=2027")
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    body = csv.get_data(as_text=True)
    assert body.startswith("# ") and "Fractional" in body and "INTL" in body and "HOUSE" in body
    xlsx = client.get("/reports/export/all.xlsx?mode=pi")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"


def test_xlsx_has_the_definitions_sheet(client, example):
    import zipfile

    login(client, example.users[Role.DIRECTOR])
    book = zipfile.ZipFile(io.BytesIO(client.get("/reports/export/countries.xlsx?years=2027").data))
    workbook = book.read("xl/workbook.xml").decode()
    assert 'name="countries"' in workbook and 'name="Definitions"' in workbook
    strings = book.read("xl/sharedStrings.xml").decode()
    assert "Fractional: each member carries 1/n" in strings and "International organisations" in strings


@pytest.mark.parametrize("who", ["user", Role.REVIEWER])
def test_others_never_see_reports(client, app, example, who):
    def state():  # logging in and using a token stamp last_login_at / last_used_at: nothing else may change
        with app.app_context():
            return {k: v for k, v in db_fingerprint().items() if k not in ("users", "api_tokens")}

    before = state()
    login(client, example.users[who])
    for url in (
        "/reports/",
        "/reports/export/countries.csv",
        "/reports/export/all.xlsx",
        "/reports/export/visits.csv",
        "/reports/annual",
    ):
        assert client.get(url).status_code == 403
    for url in ("/api/v1/reports/usage", "/api/v1/reports/collaboration"):
        assert client.get(url, headers=example.tokens[who]).status_code == 403
    assert state() == before


@pytest.mark.parametrize("role", [Role.DIRECTOR, Role.USER_OFFICE])
def test_every_visit_downloads_as_one_streamed_csv_linked_from_the_dashboard(client, example, role):
    login(client, example.users[role])
    assert 'id="export-visits-csv"' in client.get("/reports/").get_data(as_text=True)
    response = client.get("/reports/export/visits.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.is_streamed and "beamtime-visits-" in response.headers["Content-Disposition"]
    lines = response.get_data(as_text=True).splitlines()
    comments = [line for line in lines if line.startswith("# ") or line.startswith('"# ')]
    assert len(comments) == 2 and "INTL" in comments[1] and "HOUSE" in comments[1]
    header = lines[len(comments)]
    assert header.startswith("visit_id,cycle,instrument")
    rows = lines[len(comments) + 1 :]
    assert len(rows) == len(example.visits)
    assert {row.split(",")[0] for row in rows} == {str(v.id) for v in example.visits.values()}


def test_annual_report_page_prints(client, example):
    login(client, example.users[Role.USER_OFFICE])
    page = client.get("/reports/annual?year=2027&mode=pi")
    assert page.status_code == 200
    assert "reports.css" in page.get_data(as_text=True)
    assert client.get("/reports/annual?year=99999999999").status_code == 404


def test_api_usage_and_collaboration(client, example):
    h = example.tokens[Role.DIRECTOR]
    usage = client.get("/api/v1/reports/usage?years=2027&mode=whole", headers=h)
    assert usage.status_code == 200, usage.json
    assert usage.json["by_country"] == {"DE": 1, "FR": 2, "INTL": 1, "HOUSE": 1, "IT": 1}
    collab = client.get("/api/v1/reports/collaboration?years=2027", headers=h).json
    pairs = {(p["a"], p["b"]): p["score"] for p in collab["pairs"]}
    assert pairs[("DE", "FR")] == 0.75 and pairs[("FR", "HOUSE")] == 1.0
    bad = client.get("/api/v1/reports/usage?mode=everything", headers=h)
    assert bad.status_code == 422 and "mode" in str(bad.json)
    unknown = client.get("/api/v1/reports/usage?instruments=NOPE", headers=h)
    assert unknown.status_code == 422 and "instruments" in str(unknown.json)
    nul = client.get("/api/v1/reports/usage?group=%00x", headers=h)
    assert nul.status_code == 422 and "group" in str(nul.json)
    assert client.get("/api/v1/reports/usage").status_code == 401


def test_dashboard_shows_visit_units_by_the_visitors_own_country(client, example):
    import json

    login(client, example.users[Role.DIRECTOR])
    for mode in ("pi", "whole", "fractional"):  # visit units are the same in every mode
        page = client.get(f"/reports/?unit=visits_on_site&mode={mode}&years=2027")
        assert page.status_code == 200
        text = page.get_data(as_text=True)
        assert "User visits (on site)" in text and "Total: 3.00." in text  # Anna, Dora (EMBL), Hugo (ES)
        listed = text.split('id="not-drawn"')[1].split("</ul>")[0]
        assert "International organisations" in listed and "(INTL): 1.00" in listed
        data = json.loads(text.split('id="report-data"')[1].split(">", 1)[1].split("</script>")[0])
        assert {r["name"]: r["value"] for r in data["map"] if r["value"]} == {"DE": 1, "ES": 1}  # INTL: listed beside
    days = client.get("/reports/?unit=person_days&mode=pi&years=2027").get_data(as_text=True)
    assert "Person-days on site" in days and "Total: 8.00." in days
    new = client.get("/reports/?unit=new_users&mode=pi&years=2028").get_data(as_text=True)
    assert "Total: 0.00." in new  # Anna came back in 2028: not new
    usage = client.get(
        "/api/v1/reports/usage?years=2027&unit=remote_participations", headers=example.tokens[Role.DIRECTOR]
    )
    assert usage.status_code == 200, usage.json
    assert usage.json["by_country"] == {"FR": 1, "IT": 1}
