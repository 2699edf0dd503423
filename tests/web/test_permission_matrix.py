"""The permission matrix, generated from the URL map and the OpenAPI document (DESIGN.md §8).

Every (endpoint, method) of `app.url_map` and every operation of `/api/v1/openapi.json` needs
an entry in `permission_matrix.MATRIX`. Each entry is called as every persona: allowed ones
get in; refused ones are sent to the login page (anonymous, pages), get 401 (anonymous, API)
or 403/404 (everyone else), and no table changes.
"""

from __future__ import annotations

import re

import pytest
from flask import url_for

from tests.dbstate import db_fingerprint
from tests.web.permission_matrix import MATRIX, PERSONAS, Entry
from tests.web.world import World, build_world

IGNORED_METHODS = {"HEAD", "OPTIONS"}
REFUSED = {401, 403, 404}


def app_routes(app) -> set[tuple[str, str]]:
    return {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        for method in (rule.methods or set()) - IGNORED_METHODS
    }


def openapi_path(rule: str) -> str:
    """`/api/v1/proposals/<int:proposal_id>` → `/api/v1/proposals/{proposal_id}`."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def openapi_operations(app) -> tuple[set[tuple[str, str]], list[str]]:
    """The (endpoint, method) of every documented operation, and operations with no route."""
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    by_path: dict[tuple[str, str], str] = {}
    for rule in app.url_map.iter_rules():
        for method in rule.methods or ():
            by_path[(openapi_path(rule.rule), method)] = rule.endpoint
    found, dangling = set(), []
    for path, operations in spec["paths"].items():
        for method in operations:
            if method.lower() not in {"get", "put", "post", "delete", "patch"}:
                continue
            endpoint = by_path.get((path, method.upper()))
            if endpoint is None:
                dangling.append(f"{method.upper()} {path}")
            else:
                found.add((endpoint, method.upper()))
    return found, dangling


def test_every_route_has_a_matrix_entry(app):
    routes = app_routes(app)
    documented, dangling = openapi_operations(app)
    assert documented, "the OpenAPI document lists no operation"
    missing = sorted((routes | documented) - set(MATRIX))
    stale = sorted(set(MATRIX) - routes)
    problems = []
    if missing:
        problems.append("routes without an entry in tests/web/permission_matrix.py MATRIX:")
        problems += [f"    ({endpoint!r}, {method!r}): Entry(...)," for endpoint, method in missing]
    if stale:
        problems.append(f"MATRIX entries for routes that no longer exist: {stale}")
    if dangling:
        problems.append(f"OpenAPI operations without a route: {dangling}")
    assert not problems, "\n".join(problems)


def test_fingerprint_sees_every_change(app):
    from tests.factories import make_user

    with app.app_context():
        before = db_fingerprint()
        user = make_user()
        added = db_fingerprint()
        user.name = "Renamed"
        renamed = db_fingerprint()
    assert added["users"] != before["users"]
    assert renamed["users"] != added["users"]
    assert {k for k in before if before[k] != renamed[k]} == {"users"}


def _login_session(client, user) -> None:
    """What a successful log-in leaves in the session (the form itself is tested elsewhere)."""
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True


class Caller:
    """Calls one route as each persona: a session for pages, a bearer token for /api/."""

    def __init__(self, app, world: World, endpoint: str, method: str, entry: Entry):
        self.app, self.world, self.method, self.entry = app, world, method, entry
        with app.test_request_context():
            self.url = url_for(endpoint, **entry.args(world))
        self.is_api = self.url.startswith("/api/")
        self.clients: dict[str, object] = {}

    def client(self, persona: str):
        if persona not in self.clients:
            client = self.app.test_client()
            if persona != "anonymous" and not self.is_api:
                _login_session(client, self.world.user(persona))
            self.clients[persona] = client
        return self.clients[persona]

    def call(self, persona: str, client=None):
        client = client or self.client(persona)
        headers = {}
        if self.is_api and persona != "anonymous":
            headers["Authorization"] = f"Bearer {self.world.bearer[persona]}"
        data = self.entry.data(self.world)
        kwargs = {"json": data} if self.is_api and data else {"data": data}
        return client.open(self.url, method=self.method, headers=headers, follow_redirects=False, **kwargs)


def _check_refused(caller: Caller, persona: str, client=None) -> None:
    before = db_fingerprint()
    response = caller.call(persona, client)
    where = f"{caller.method} {caller.url} as {persona}"
    if persona == "anonymous" and caller.is_api:
        assert response.status_code == 401, f"{where}: {response.status_code}, expected 401"
        assert response.is_json and response.get_json()["code"], f"{where}: the 401 is not a JSON error"
    elif persona == "anonymous":
        assert response.status_code == 302, f"{where}: {response.status_code}, expected a redirect to log in"
        assert response.headers["Location"].startswith("/login"), f"{where}: redirected to {response.location}"
    else:
        assert response.status_code in {403, 404}, f"{where}: {response.status_code}, expected 403 or 404"
    assert db_fingerprint() == before, f"{where}: refused, yet the database changed"


def _check_allowed(caller: Caller, persona: str) -> None:
    response = caller.call(persona)
    where = f"{caller.method} {caller.url} as {persona}"
    if caller.entry.ok is not None:
        assert response.status_code in caller.entry.ok, f"{where}: {response.status_code}, expected {caller.entry.ok}"
    else:
        assert response.status_code not in REFUSED, f"{where}: refused with {response.status_code}"
        assert response.status_code < 500, f"{where}: {response.status_code}"


@pytest.mark.parametrize(("endpoint", "method"), sorted(MATRIX), ids=[f"{m} {e}" for e, m in sorted(MATRIX)])
def test_route_admits_exactly_its_personas(app, endpoint, method):
    if (endpoint, method) not in app_routes(app):
        pytest.fail(f"MATRIX has an entry for {method} {endpoint}, which is no route of the app")
    entry = MATRIX[(endpoint, method)]
    world = build_world(app)
    caller = Caller(app, world, endpoint, method, entry)
    refused = [p for p in PERSONAS if p not in entry.allow]
    allowed = [p for p in PERSONAS if p in entry.allow]

    for persona in refused:
        _check_refused(caller, persona)
    if caller.is_api and "anonymous" in refused:
        # the session cookie of the most powerful persona opens nothing under /api/
        admin_session = app.test_client()
        _login_session(admin_session, world.user("admin"))
        _check_refused(caller, "anonymous", admin_session)

    if entry.once:
        allowed = allowed[:1] if "user" not in allowed else ["user"]
    for persona in allowed:
        _check_allowed(caller, persona)
