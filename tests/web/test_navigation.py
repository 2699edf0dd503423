"""The main navigation: top-level entries, groups rendered as dropdowns, one active entry."""

from __future__ import annotations

import re

import pytest
from flask_babel import lazy_gettext as _l

from app.accounts.models import Role
from app.web import navigation
from tests.factories import login, make_user


@pytest.fixture
def entries(monkeypatch):
    """An empty registry for the test (the app's own entries come back after it)."""
    monkeypatch.setattr(navigation, "_entries", [])
    return navigation._entries


def test_grouped_entries_share_one_group_in_order(app, entries):
    navigation.register(_l("Home"), "web.home", order=0, public=True)
    navigation.register(_l("Privacy"), "accounts.privacy", order=70, public=True, group=_l("Help"))
    navigation.register(_l("Log in"), "accounts.login", order=20, public=True)
    navigation.register(_l("Reset"), "accounts.forgot_password", order=60, public=True, group=_l("Help"))
    navigation.register(_l("Again"), "accounts.login", order=99, public=True)  # an endpoint registers once
    with app.test_request_context("/privacy"):
        items = navigation.visible_items()
    assert [i["label"] for i in items] == ["Home", "Log in", "Help"]
    help_group = items[2]
    assert help_group["group"] and help_group["id"] == "nav-help" and help_group["active"]
    assert [(link["label"], link["active"]) for link in help_group["links"]] == [("Reset", False), ("Privacy", True)]
    assert not items[0]["active"]


def test_a_group_shows_only_with_a_visible_entry(app, entries):
    navigation.register(_l("Home"), "web.home", order=0, public=True)
    navigation.register(_l("Outbox"), "web.outbox", predicate="is_staff", group=navigation.ADMIN)
    with app.test_request_context("/"):
        items = navigation.visible_items()
    assert [i["label"] for i in items] == ["Home"]
    assert items[0]["active"]


def test_the_longest_matching_entry_is_the_active_one(app, entries):
    navigation.register(_l("Institutions"), "accounts.institutions", public=True, group=navigation.PEOPLE)
    navigation.register(_l("New"), "accounts.institution_new", public=True, group=navigation.PEOPLE)
    with app.test_request_context("/admin/institutions/new"):
        (group,) = navigation.visible_items()
    assert [(link["label"], link["active"]) for link in group["links"]] == [("Institutions", False), ("New", True)]


def test_staff_see_dropdowns_and_users_see_their_entries_at_the_top(app, ctx):
    with ctx():
        admin, user = make_user(roles=[Role.ADMIN]), make_user()
        people = [type("Saved", (), {"email": person.email}) for person in (admin, user)]
    staff_client, user_client = app.test_client(), app.test_client()
    login(staff_client, people[0])
    html = staff_client.get("/admin/institutions").get_data(as_text=True)
    for group in ("Facility", "People", "Admin"):
        assert re.search(rf'data-bs-toggle="dropdown" aria-expanded="false">{group}</button>', html), group
    assert re.search(r'class="dropdown-item active" aria-current="page" href="/admin/institutions"', html)
    assert html.count('aria-current="page"') == 1

    login(user_client, people[1])
    html = user_client.get("/").get_data(as_text=True)
    assert ">People</button>" not in html and ">Admin</button>" not in html
    assert ">Facility</button>" in html  # instruments and cycles, for everyone
    assert re.search(r'class="nav-link"\s+href="/calls"', html)


def test_the_kept_navigation_follows_the_page_and_the_persons_roles(app, ctx):
    """The navigation's HTML is kept per layout and active link (navigation.nav_html): another
    page marks its own entry, and a role taken away hides its entries on the next request (the
    predicates are asked on every request; only the markup is kept)."""
    from app.accounts import services as account_services
    from app.accounts.models import User
    from app.extensions import db

    with ctx():
        granter, admin = make_user(roles=[Role.ADMIN]), make_user(roles=[Role.ADMIN])
        granter_id, person = granter.id, type("Saved", (), {"email": admin.email, "id": admin.id})
    client = app.test_client()
    login(client, person)
    first = client.get("/admin/institutions").get_data(as_text=True)
    again = client.get("/admin/institutions").get_data(as_text=True)
    assert re.search(r'class="dropdown-item active" aria-current="page" href="/admin/institutions"', again)
    assert first.count('aria-current="page"') == again.count('aria-current="page"') == 1
    home = client.get("/").get_data(as_text=True)
    assert 'aria-current="page" href="/admin/institutions"' not in home
    assert ">Admin</button>" in home and ">People</button>" in home
    with ctx():
        account_services.revoke_role(person.id, Role.ADMIN, actor=db.session.get(User, granter_id))
        db.session.commit()
    home = client.get("/").get_data(as_text=True)
    assert ">Admin</button>" not in home and ">People</button>" not in home
