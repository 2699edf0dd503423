"""API v1: bearer tokens only, JSON errors with a code, a message and the field at fault."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import schemathesis
from flask import Blueprint
from hypothesis import settings
from marshmallow import Schema, fields

from app.accounts import services as accounts
from app.accounts.models import ApiToken, Role
from app.core.db import utcnow
from app.core.errors import ValidationFailed
from app.extensions import db
from tests.dbstate import db_fingerprint
from tests.factories import login, make_user
from tests.web.apps import other_app


@pytest.fixture
def owner(ctx):
    """A reviewer of panel 1 and director, with a usable token: (user id, token id, secret)."""
    with ctx():
        user = make_user(name="Ada Token", roles=[(Role.REVIEWER, 1), Role.DIRECTOR])
        token, secret = accounts.create_token(user.id, "script", actor=user)
        return user.id, token.id, secret


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def assert_unauthorized(response) -> None:
    assert response.status_code == 401
    assert response.is_json
    body = response.get_json()
    assert body["code"] == "unauthorized"
    assert "Bearer" in body["message"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_me_with_a_valid_token_lists_the_roles(client, owner):
    user_id, _token_id, secret = owner
    response = client.get("/api/v1/me", headers=bearer(secret))
    assert response.status_code == 200
    body = response.get_json()
    assert body["id"] == user_id
    assert body["name"] == "Ada Token"
    assert sorted((r["role"], r["scope_id"]) for r in body["roles"]) == [("director", None), ("reviewer", 1)]


def test_a_used_token_records_when(app, client, owner):
    _user_id, token_id, secret = owner
    before = utcnow()
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 200
    with app.app_context():
        used = db.session.get(ApiToken, token_id, populate_existing=True).last_used_at
    assert used is not None and used >= before


def test_me_refuses_a_revoked_token(app, client, owner):
    user_id, token_id, secret = owner
    with app.app_context():
        accounts.revoke_token(token_id, actor=accounts.get_user(user_id))
    assert_unauthorized(client.get("/api/v1/me", headers=bearer(secret)))


def test_me_refuses_an_expired_token(app, client, owner):
    user_id, _token_id, _secret = owner
    with app.app_context():
        user = accounts.get_user(user_id)
        past = datetime(2026, 1, 1, tzinfo=UTC)
        _token, secret = accounts.create_token(
            user_id, "old", actor=user, now=past - timedelta(days=30), expires_at=past
        )
    assert_unauthorized(client.get("/api/v1/me", headers=bearer(secret)))


@pytest.mark.parametrize(
    "header",
    ["Bearer garbage", "Bearer bt_notarealtoken", "Bearer ", "Basic dXNlcjpwYXNz", "bt_only_the_secret"],
)
def test_me_refuses_garbage(client, owner, header):
    assert_unauthorized(client.get("/api/v1/me", headers={"Authorization": header}))


def test_me_ignores_the_session_cookie(ctx, client):
    with ctx():
        user = make_user(roles=[Role.ADMIN])
    assert login(client, user).status_code == 302
    assert client.get("/profile").status_code == 200  # the session works for pages…
    assert_unauthorized(client.get("/api/v1/me"))  # …and opens nothing in the API


def test_the_api_needs_no_csrf_token(app, owner):
    """The API is cookie-less, so CSRF protection (on for pages) must not block it."""
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = app.test_client().get("/api/v1/me", headers=bearer(owner[2]))
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code == 200


def test_openapi_declares_bearer_and_me(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "A personal access token",
    }
    assert spec["security"] == [{"bearerAuth": []}]
    me = spec["paths"]["/api/v1/me"]["get"]
    assert set(me["responses"]) >= {"200", "401"}
    # every documented error body is the one the app sends (code a string, status a number)
    default = spec["components"]["responses"]["DEFAULT_ERROR"]["content"]["application/json"]["schema"]
    unauthorized = me["responses"]["401"]["content"]["application/json"]["schema"]
    for ref in (default["$ref"], unauthorized["$ref"]):
        error = spec["components"]["schemas"][ref.rpartition("/")[2]]
        assert error["properties"]["code"]["type"] == "string"
        assert error["properties"]["status"]["type"] == "integer"
        assert set(error["required"]) == {"code", "message", "status"}


def test_docs_page_lists_the_operations(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "/api/v1/me" in html
    assert "Who am I" in html
    assert "openapi.json" in html


def test_api_errors_are_json_with_allow_on_405(client, owner):
    response = client.post("/api/v1/me", headers=bearer(owner[2]))
    assert response.status_code == 405
    assert response.is_json and response.get_json()["code"] == "method_not_allowed"
    assert "GET" in response.headers["Allow"]
    missing = client.get("/api/v1/nothing-here", headers=bearer(owner[2]))
    assert missing.status_code == 404 and missing.get_json()["code"] == "not_found"


# --- input errors name the field: a probe app with two input routes -------------------------


class _ProbeSchema(Schema):
    title = fields.String(required=True)
    shifts = fields.Integer(required=True)


@pytest.fixture(scope="module")
def probe_client(app):
    """A separate app with two input routes (no database): a service error, a schema error.

    webargs is what flask-smorest's `@arguments` runs; it is used directly here so that no
    probe route reaches the shared OpenAPI document.
    """
    from webargs.flaskparser import use_args

    probe = Blueprint("probe", __name__)

    @probe.post("/api/v1/_probe/service")
    def service_error():
        raise ValidationFailed("too_long", field="title", maximum=200)

    @probe.post("/api/v1/_probe/args")
    @use_args(_ProbeSchema(), location="json")
    def args_error(data):
        return data

    with other_app(app) as application:
        application.register_blueprint(probe)
        yield application.test_client()


def test_a_service_input_error_names_the_field(probe_client):
    response = probe_client.post("/api/v1/_probe/service")
    assert response.status_code == 422
    body = response.get_json()
    assert body["code"] == "too_long"
    assert body["field"] == "title"
    assert body["errors"] == {"title": ["This is too long (at most 200 characters)."]}


def test_a_schema_input_error_names_the_fields(probe_client):
    response = probe_client.post("/api/v1/_probe/args", json={"shifts": "many"})
    assert response.status_code == 422
    body = response.get_json()
    assert body["code"] == "unprocessable_entity"
    assert set(body["errors"]) == {"title", "shifts"}
    one = probe_client.post("/api/v1/_probe/args", json={"title": "x"}).get_json()
    assert one["field"] == "shifts" and set(one["errors"]) == {"shifts"}


def test_an_unknown_query_parameter_is_refused_not_ignored(client, owner):
    response = client.get("/api/v1/countries", query_string={"gruop": "Members"}, headers=bearer(owner[2]))
    assert response.status_code == 422
    body = response.get_json()
    assert body["field"] == "gruop" and "gruop" in body["errors"]


def test_a_refused_api_call_changes_nothing(client, owner):
    before = db_fingerprint()
    client.get("/api/v1/me", headers=bearer("bt_unknown"))
    client.post("/api/v1/me", headers=bearer(owner[2]))
    assert db_fingerprint() == before


# --- schemathesis: the app against its own OpenAPI document ---------------------------------


def test_api_conforms_to_its_openapi(app, owner):
    """Every operation, through schemathesis's examples, coverage and fuzzing phases (positive
    and negative data), with a valid token: no 5xx, statuses, content types, headers and
    bodies as documented, 405 with Allow for undocumented methods, 401 without the token.

    schemathesis 4.32's lazy pytest fixture (`schemathesis.pytest.from_fixture`) breaks on
    pytest 9 (it writes `request.node._nodeid`), so the per-operation tests it would build
    are built and run here.
    """
    from schemathesis.core.parameters import ParameterLocation
    from schemathesis.pytest.lazy import get_all_tests
    from schemathesis.specs.openapi.checks import positive_data_acceptance

    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    token = bearer(owner[2])

    def check(case):
        # An operation that documents a 422 may refuse schema-valid data with it: a value the
        # schema cannot rule out (`?group=` naming no country group) is bad input, named by field.
        documented = set(case.operation.responses.status_codes)
        excluded = [positive_data_acceptance] if "422" in documented else []
        # a case made invalid in its headers (no or a broken Authorization) is sent as made
        negative_headers = case.meta is not None and case.meta.is_negative_at(ParameterLocation.HEADER)
        case.call_and_validate(headers=None if negative_headers else token, excluded_checks=excluded)

    ran = []
    for result in get_all_tests(
        schema=schema, test_func=check, settings=settings(max_examples=25, deadline=None), given_kwargs={}
    ):
        operation, run = result.ok()
        run()
        ran.append(operation.label)
    assert "GET /api/v1/me" in ran
