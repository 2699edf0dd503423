"""Proposal pages: the editor, autosave, the science case upload and download, submit, the
staff list (filters, exports, a constant number of queries per page)."""

import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event

from app.accounts.models import Role
from app.core.db import utcnow
from app.extensions import db
from app.proposals.models import Proposal
from app.proposals.status import ProposalStatus
from tests.factories import login, make_user
from tests.factories_proposals import make_call, make_person, make_proposal
from tests.pdfs import PNG_BYTES, make_pdf, malformed_pdf


class Saved:
    """Plain values of a person, usable after the session that built them ended."""

    def __init__(self, user):
        self.id, self.email = user.id, user.email


def commit():
    """Each request ends the session: what a test builds is committed (to the test's savepoint)."""
    db.session.commit()


@pytest.fixture
def open_call(ctx):
    with ctx():
        now = utcnow()
        call = make_call(opens_at=now - timedelta(days=1), closes_at=now + timedelta(days=10))
        commit()
        return call.id


@pytest.fixture
def draft(ctx, open_call):
    """(proposal id, PI) of a complete draft in an open call."""
    from app.proposals.models import Call

    with ctx():
        proposal = make_proposal(call=db.session.get(Call, open_call))
        proposal.science_case_key = None
        pi = Saved(proposal.pi.user)
        commit()
        return proposal.id, pi


def reread(ctx, proposal_id):
    with ctx():
        db.session.expire_all()
        proposal = db.session.get(Proposal, proposal_id)
        return type("Seen", (), {k: getattr(proposal, k) for k in ("status", "abstract", "science_case_key")})


def test_open_calls_and_starting_a_draft(client, ctx, open_call):
    with ctx():
        user = Saved(make_person())
        commit()
    login(client, user)
    page = client.get("/calls")
    assert page.status_code == 200 and b"Start a proposal" in page.data
    response = client.post(f"/calls/{open_call}/proposals")
    assert response.status_code == 302
    editor = client.get(response.headers["Location"])
    assert editor.status_code == 200 and b"hx-post" in editor.data
    assert b"<script>" not in editor.data  # CSP: no inline script
    assert client.get("/proposals").status_code == 200


def test_autosave_saves_one_field_and_refuses_with_the_reason(client, ctx, draft):
    proposal_id, pi = draft
    login(client, pi)
    ok = client.post(f"/proposals/{proposal_id}/autosave", data={"abstract": "Typed and kept"})
    assert ok.status_code == 200 and b"Saved" in ok.data
    refused = client.post(f"/proposals/{proposal_id}/autosave", data={"title": "x" * 400})
    assert refused.status_code == 200 and b"too long" in refused.data
    assert reread(ctx, proposal_id).abstract == "Typed and kept"


def test_autosave_after_the_session_expired_says_so_and_never_redirects(client, draft):
    proposal_id, _pi = draft
    response = client.post(
        f"/proposals/{proposal_id}/autosave", data={"abstract": "Lost?"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 401  # htmx leaves the field alone; autosave.js shows the message
    assert b"session expired" in response.data


@pytest.mark.parametrize(
    ("data", "name", "expected"),
    [
        (PNG_BYTES, "figure.pdf", b"PNG file, not a PDF"),
        (b"", "empty.pdf", b"The file is empty"),
        (malformed_pdf(), "broken.pdf", b"damaged"),
        (make_pdf(9), "long.pdf", b"9 pages"),
    ],
    ids=["png-renamed", "empty", "malformed", "too-many-pages"],
)
def test_upload_refusals_are_shown_next_to_the_field(client, ctx, draft, data, name, expected):
    proposal_id, pi = draft
    login(client, pi)
    response = client.post(
        f"/proposals/{proposal_id}/science-case",
        data={"science_case": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert expected in response.data
    assert b'id="science_case-error"' in response.data
    assert reread(ctx, proposal_id).science_case_key is None


def test_upload_oversized_file(client, ctx, draft):
    from app.core import settings

    proposal_id, pi = draft
    with ctx():
        settings.set_setting("proposals.science_case_max_mb", 1, actor=None)
        commit()
    login(client, pi)
    big = make_pdf(1, padding=1024 * 1024 + 10)
    response = client.post(
        f"/proposals/{proposal_id}/science-case",
        data={"science_case": (io.BytesIO(big), "big.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422 and b"at most 1.0 MB" in response.data


def test_valid_pdf_downloads_byte_identical_and_only_to_those_allowed(client, ctx, draft):
    proposal_id, pi = draft
    data = make_pdf(2)
    login(client, pi)
    response = client.post(
        f"/proposals/{proposal_id}/science-case",
        data={"science_case": (io.BytesIO(data), "case.png")},  # the name does not matter, the content does
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    download = client.get(f"/proposals/{proposal_id}/science-case")
    assert download.status_code == 200
    assert download.mimetype == "application/pdf"
    assert download.data == data
    client.post("/logout")
    with ctx():
        stranger = Saved(make_user())
        commit()
    login(client, stranger)
    assert client.get(f"/proposals/{proposal_id}/science-case").status_code == 404
    assert client.get(f"/proposals/{proposal_id}").status_code == 404


def test_submit_incomplete_lists_the_items_and_keeps_the_draft(client, ctx, draft):
    proposal_id, pi = draft
    login(client, pi)
    response = client.post(f"/proposals/{proposal_id}/submit")
    assert response.status_code == 409
    assert b"Upload the science case (PDF)." in response.data
    assert reread(ctx, proposal_id).status is ProposalStatus.DRAFT


def test_print_view(client, draft):
    proposal_id, pi = draft
    login(client, pi)
    response = client.get(f"/proposals/{proposal_id}/print")
    assert response.status_code == 200 and b"print.css" in response.data


# --- staff list ---------------------------------------------------------------------------


def _submitted_call(ctx, n):
    with ctx():
        call = make_call(opens_at=datetime(2026, 1, 1, tzinfo=UTC), closes_at=datetime(2026, 2, 1, tzinfo=UTC))
        for i in range(n):
            p = make_proposal(call=call, co_proposers=(make_person(country_code="DE"),))
            p.status = ProposalStatus.SUBMITTED
            p.reference = f"{call.cycle.name}-{i + 1:04d}"
        commit()
        return call.id


def _count_queries(app, fn):
    with app.app_context():
        engine = db.engine
    seen = []

    def before(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        response = fn()
    finally:
        event.remove(engine, "before_cursor_execute", before)
    assert response.status_code == 200, response.data[:500]
    return len(seen)


def test_staff_list_queries_do_not_grow_with_the_page_size(app, client, ctx):
    small = _submitted_call(ctx, 3)
    large = _submitted_call(ctx, 25)
    with ctx():
        staff = Saved(make_user(roles=[Role.USER_OFFICE]))
        commit()
    login(client, staff)
    client.get(f"/staff/calls/{small}/proposals")  # warm up: settings, translations, session user
    few = _count_queries(app, lambda: client.get(f"/staff/calls/{small}/proposals?per_page=50"))
    many = _count_queries(app, lambda: client.get(f"/staff/calls/{large}/proposals?per_page=50"))
    assert many == few


def test_staff_list_filters_search_and_exports(client, ctx):
    call_id = _submitted_call(ctx, 4)
    with ctx():
        staff = make_user(roles=[Role.USER_OFFICE])
        special = db.session.query(Proposal).filter_by(call_id=call_id).first()
        special.title = "Unique needle title"
        special.members[0].country_code = "BR"
        ref = special.reference
        staff = Saved(staff)
        commit()
    login(client, staff)
    page = client.get(f"/staff/calls/{call_id}/proposals?q=needle")
    assert page.status_code == 200 and ref.encode() in page.data and b"4 proposals" not in page.data
    assert b"1 proposals" in client.get(f"/staff/calls/{call_id}/proposals?country=br").data
    csv = client.get(f"/staff/calls/{call_id}/proposals.csv")
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    assert len(csv.data.decode("utf-8-sig").strip().splitlines()) == 5
    xlsx = client.get(f"/staff/calls/{call_id}/proposals.xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"


def test_staff_list_statements_kept_per_filter_shape_take_each_requests_values(client, ctx):
    """The staff list's statements are built once per combination of filters and run with
    each request's values: the same filters with other values (another call, another
    country, another search, another page) answer for those values."""
    first, second = _submitted_call(ctx, 3), _submitted_call(ctx, 2)
    with ctx():
        staff = Saved(make_user(roles=[Role.USER_OFFICE]))
        proposals = db.session.query(Proposal).filter_by(call_id=first).order_by(Proposal.id).all()
        proposals[0].title, proposals[1].title = "Alpha needle", "Beta haystack"
        proposals[0].members[0].country_code, proposals[1].members[0].country_code = "BR", "JP"
        refs = [p.reference for p in proposals]
        commit()
    login(client, staff)

    def body(query: str) -> str:
        return client.get(f"/staff/calls/{query}").get_data(as_text=True)

    assert "3 proposals" in body(f"{first}/proposals") and "2 proposals" in body(f"{second}/proposals")
    alpha, beta = body(f"{first}/proposals?q=needle"), body(f"{first}/proposals?q=haystack")
    assert refs[0] in alpha and refs[1] not in alpha and refs[1] in beta and refs[0] not in beta
    brazil, japan = body(f"{first}/proposals?country=br"), body(f"{first}/proposals?country=jp")
    assert refs[0] in brazil and refs[1] not in brazil and refs[1] in japan and refs[0] not in japan
    assert "0 proposals" in body(f"{second}/proposals?country=br")
    one, two = body(f"{first}/proposals?per_page=10&page=1"), body(f"{first}/proposals?per_page=10&page=2")
    assert all(ref in one for ref in refs) and not any(ref in two for ref in refs) and "3 proposals" in two


def test_plain_users_cannot_see_the_staff_list(client, ctx):
    call_id = _submitted_call(ctx, 1)
    with ctx():
        user = Saved(make_user())
        commit()
    login(client, user)
    assert client.get(f"/staff/calls/{call_id}/proposals").status_code == 403
    assert client.get(f"/staff/calls/{call_id}/proposals.csv").status_code == 403
