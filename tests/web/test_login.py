"""Log-in and log-out through the real forms."""

from __future__ import annotations

import re

import pytest

from app.accounts.models import User
from app.extensions import db
from tests.dbstate import db_fingerprint
from tests.factories import PASSWORD, login, make_user
from tests.web.apps import other_app


@pytest.fixture
def person(ctx):
    with ctx():
        return make_user(name="Grace Login", email="grace@example.org")


def test_login_succeeds_and_opens_the_session(app, client, person):
    response = login(client, person)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert client.get("/profile").status_code == 200
    with app.app_context():
        assert db.session.get(User, person.id).last_login_at is not None


def test_login_failure_shows_the_error_next_to_the_field_and_changes_nothing(client, person):
    before = db_fingerprint()
    response = client.post("/login", data={"email": person.email, "password": "wrong-password-1"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    # the message sits right under the password field, which points at it
    field = re.search(r'<input[^>]*id="password"[^>]*>', html).group(0)
    assert 'aria-describedby="password-error"' in field and "is-invalid" in field
    assert re.search(r'id="password-error">E-mail or password is not right.</div>', html)
    assert db_fingerprint() == before
    assert client.get("/profile").status_code == 302  # still logged out


def test_login_with_an_unknown_email_looks_the_same(client, person):
    wrong_password = client.post("/login", data={"email": person.email, "password": "wrong-password-1"})
    unknown = client.post("/login", data={"email": "nobody@example.org", "password": "wrong-password-1"})
    assert unknown.status_code == wrong_password.status_code == 422
    assert "E-mail or password is not right." in unknown.get_data(as_text=True)


def test_login_form_errors_name_the_field(client):
    response = client.post("/login", data={"email": "not-an-address", "password": ""})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="email-error"' in html and 'id="password-error"' in html


def test_remember_me_sets_the_remember_cookie(client, person):
    login_with = client.post("/login", data={"email": person.email, "password": PASSWORD, "remember": "y"})
    assert login_with.status_code == 302
    assert client.get_cookie("remember_token") is not None
    cookie = client.get_cookie("remember_token")
    assert cookie.http_only and cookie.same_site == "Lax"


def test_without_remember_me_there_is_no_remember_cookie(client, person):
    assert login(client, person).status_code == 302
    assert client.get_cookie("remember_token") is None


def test_logout_is_post_only(client, person):
    login(client, person)
    response = client.get("/logout")
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]
    assert client.get("/profile").status_code == 200  # a GET (a link, an image) logs nobody out
    assert client.post("/logout").status_code == 302
    assert client.get("/profile").status_code == 302


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/profile", "/profile"),
        ("/profile/tokens?x=1", "/profile/tokens?x=1"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example/", "/"),
        ("/\t/evil.example/", "/"),
        ("javascript:alert(1)", "/"),
        ("profile", "/"),
    ],
)
def test_next_goes_only_to_local_paths(client, person, target, expected):
    response = client.post("/login", query_string={"next": target}, data={"email": person.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == expected


def test_login_rate_limit_answers_429_with_a_page(app):
    with other_app(app, RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute") as limited:
        client = limited.test_client()
        statuses = [
            client.post("/login", data={"email": "x@example.org", "password": "wrong-password"}).status_code
            for _ in range(4)
        ]
        refused = client.post("/login", data={"email": "x@example.org", "password": "wrong-password"})
        page = client.get("/login")
    assert statuses == [422, 422, 422, 429]
    assert refused.status_code == 429
    assert refused.content_type.startswith("text/html")
    assert "Too many attempts" in refused.get_data(as_text=True)
    assert page.status_code == 200  # only posting is limited: the form still shows
