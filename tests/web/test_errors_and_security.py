"""Error pages and JSON errors, CSRF, security headers, CSP-safe pages."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from flask import Blueprint

from app.core.errors import NotFound, PermissionDenied
from tests.dbstate import db_fingerprint
from tests.factories import PASSWORD, login, make_user
from tests.web.apps import other_app
from tests.web.permission_matrix import MATRIX
from tests.web.world import build_world


@pytest.fixture(scope="module")
def probe(app):
    """An app with routes that fail on purpose, on a page and under /api/."""
    with other_app(app) as application:
        bp = Blueprint("probe", __name__)

        @bp.get("/_probe/forbidden")
        @bp.get("/api/v1/_probe/forbidden")
        def forbidden():
            raise PermissionDenied("permission_denied")

        @bp.get("/_probe/hidden")
        @bp.get("/api/v1/_probe/hidden")
        def hidden():
            raise NotFound("not_found")

        @bp.get("/_probe/boom")
        @bp.get("/api/v1/_probe/boom")
        def boom():
            raise RuntimeError("a bug")

        application.register_blueprint(bp)
        yield application


def _is_html(response) -> bool:
    return response.content_type.startswith("text/html")


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/_probe/forbidden", 403, "permission_denied"),
        ("/_probe/hidden", 404, "not_found"),
        ("/no-such-page", 404, "not_found"),
        ("/_probe/boom", 500, "internal_error"),
    ],
)
def test_errors_are_pages_for_pages_and_json_under_api(probe, path, status, code):
    client = probe.test_client()
    page = client.get(path)
    assert page.status_code == status and _is_html(page)
    assert "<main" in page.get_data(as_text=True)
    api = client.get("/api/v1" + path)
    assert api.status_code == status and api.is_json
    body = api.get_json()
    assert body["code"] == code and body["status"] == status and body["message"]


def test_a_500_page_does_not_leak_the_exception(probe):
    html = probe.test_client().get("/_probe/boom").get_data(as_text=True)
    assert "Something went wrong" in html
    assert "a bug" not in html and "Traceback" not in html


def test_405_keeps_allow_on_pages_and_api(client):
    page = client.get("/logout")
    assert page.status_code == 405 and _is_html(page)
    assert "POST" in page.headers["Allow"]
    api = client.delete("/api/v1/me")
    assert api.status_code == 405 and api.is_json
    assert "GET" in api.headers["Allow"]


def test_401_under_api_names_the_scheme(client):
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="beamtime"'


# --- CSRF -------------------------------------------------------------------------------------


@pytest.fixture
def csrf_on(app, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)


def _csrf_token(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def test_a_post_without_csrf_token_is_refused_with_a_clear_page(ctx, client, csrf_on):
    with ctx():
        user = make_user()
    before = db_fingerprint()
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400 and _is_html(response)
    assert "This form has expired or was not sent from this site" in response.get_data(as_text=True)
    assert db_fingerprint() == before
    assert client.get("/profile").status_code == 302  # not logged in


def test_a_logged_in_post_without_token_changes_nothing(ctx, client, csrf_on):
    with ctx():
        user = make_user()
    token = _csrf_token(client.get("/login").get_data(as_text=True))
    assert (
        client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token}).status_code == 302
    )
    before = db_fingerprint()
    assert client.post("/profile/tokens", data={"name": "sneaky"}).status_code == 400
    assert db_fingerprint() == before


def test_the_htmx_csrf_header_is_accepted(ctx, client, csrf_on):
    with ctx():
        user = make_user()
    login_page = client.get("/login").get_data(as_text=True)
    token = _csrf_token(login_page)
    # base.html hands htmx the token for every request it makes
    assert f'hx-headers=\'{{"X-CSRFToken": "{token}"}}\'' in login_page
    response = client.post("/login", data={"email": user.email, "password": PASSWORD}, headers={"X-CSRFToken": token})
    assert response.status_code == 302
    before = db_fingerprint()
    created = client.post("/profile/tokens", data={"name": "htmx"}, headers={"X-CSRFToken": token})
    assert created.status_code == 200
    assert db_fingerprint()["api_tokens"] != before["api_tokens"]


# --- security headers -------------------------------------------------------------------------


def _check_headers(response, *, hsts: bool) -> None:
    csp = response.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    assert re.fullmatch(r"'self' 'nonce-[\w-]{16,}'", directives["script-src"])
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert ("Strict-Transport-Security" in response.headers) is hsts


def test_security_headers_on_every_kind_of_response(client):
    for response in (
        client.get("/"),
        client.get("/login"),
        client.get("/profile"),  # a redirect
        client.get("/nope"),  # an error page
        client.get("/static/css/beamtime.css"),
        client.get("/api/v1/me"),  # a JSON error
        client.get("/api/v1/openapi.json"),
    ):
        _check_headers(response, hsts=False)


def test_each_response_has_its_own_nonce(client):
    first = client.get("/").headers["Content-Security-Policy"]
    second = client.get("/").headers["Content-Security-Policy"]
    assert first != second


def test_production_adds_hsts_and_secure_cookies(app):
    with other_app(app, "production", SECRET_KEY="k" * 40, RATELIMIT_ENABLED=False) as production:
        client = production.test_client()
        response = client.get("/login")
        _check_headers(response, hsts=True)
        assert response.headers["Strict-Transport-Security"].startswith("max-age=")
        assert production.config["SESSION_COOKIE_SECURE"] is True
        assert production.config["REMEMBER_COOKIE_SECURE"] is True


# --- no inline script or style without the nonce -----------------------------------------------


class _InlineFinder(HTMLParser):
    def __init__(self, nonce: str):
        super().__init__()
        self.nonce = nonce
        self.problems: list[str] = []
        self.tags = 0

    def handle_starttag(self, tag, attrs):
        self.tags += 1
        attributes = dict(attrs)
        if tag == "script" and "src" not in attributes and attributes.get("nonce") != self.nonce:
            self.problems.append("<script> without src and without the nonce")
        if tag == "style" and attributes.get("nonce") != self.nonce:
            self.problems.append("<style> without the nonce")
        for name, value in attrs:
            if name == "style":
                self.problems.append(f'<{tag} style="{value}">')
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…> (inline event handler)")
            if name in {"href", "src", "action"} and (value or "").strip().lower().startswith("javascript:"):
                self.problems.append(f"<{tag} {name}=javascript:…>")


def _pages_as(app, client, persona_user, world) -> list[tuple[str, object]]:
    from flask import url_for

    pages = []
    for (endpoint, method), entry in sorted(MATRIX.items()):
        if method != "GET" or endpoint == "static":
            continue
        with app.test_request_context():
            url = url_for(endpoint, **entry.args(world))
        pages.append((url, client.get(url)))
    return pages


@pytest.mark.parametrize("persona", ["anonymous", "user", "admin"])
def test_rendered_pages_have_no_inline_script_or_style_without_the_nonce(app, persona):
    world = build_world(app)
    client = app.test_client()
    if persona != "anonymous":
        assert login(client, world.user(persona)).status_code == 302
    checked = 0
    for url, response in [*_pages_as(app, client, persona, world), ("/nope", client.get("/nope"))]:
        if not _is_html(response):
            continue
        nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)
        finder = _InlineFinder(nonce)
        finder.feed(response.get_data(as_text=True))
        assert finder.tags, url
        assert not finder.problems, f"{url} as {persona}: {finder.problems}"
        checked += 1
    assert checked >= 3


def test_a_nul_character_is_refused_naming_the_field_and_changes_nothing(client, app_ctx):
    api = client.get("/api/v1/countries?group=a%00b")
    assert api.status_code == 422
    assert api.get_json()["field"] == "group"
    assert api.get_json()["code"] == "nul_character"
    page = client.post("/login", data={"email": "a\x00@example.org", "password": "x"})
    assert page.status_code == 422
    assert b"NUL" in page.data
