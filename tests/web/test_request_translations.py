"""The translations resolved once per request and the navigation kept per locale and predicate
answers (issue 4, the fixed cost of every page) change nothing a person sees: the locale of each
request, `force_locale()` (e-mails in the recipient's language), `refresh()`, and the
navigation's labels, links and active entry for each person and language."""

from __future__ import annotations

import re

from flask import render_template_string
from flask_babel import force_locale, get_locale, refresh
from flask_babel import gettext as _

from app.accounts.models import Role
from app.web import i18n, navigation
from tests.factories import login, make_user


class Saved:
    def __init__(self, user):
        self.id, self.email = user.id, user.email


def test_each_request_is_translated_in_its_own_locale(app):
    with app.test_request_context("/", headers={"Accept-Language": "fr"}):
        assert _("Log in") == "Se connecter"
        french = i18n.request_translations()
        assert i18n.request_translations() is french  # resolved once for the request
        assert render_template_string("{{ _('Log in') }}") == "Se connecter"
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert _("Log in") == "Log in"
        assert i18n.request_translations() is not french
        assert render_template_string("{{ _('Log in') }}") == "Log in"


def test_force_locale_and_refresh_take_effect_at_once(app):
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert _("Log in") == "Log in"
        with force_locale("fr"):  # an e-mail to a French-speaking person, in an English request
            assert _("Log in") == "Se connecter"
            assert render_template_string("{{ _('Log in') }}") == "Se connecter"
        assert _("Log in") == "Log in"
        assert render_template_string("{{ _('Log in') }}") == "Log in"
        assert str(get_locale()) == "en"

        babel = app.extensions["babel"]
        selector = babel.locale_selector
        babel.locale_selector = lambda: "fr"
        try:
            refresh()  # the person changed their language during the request
            assert _("Log in") == "Se connecter"
            assert render_template_string("{{ _('Log in') }}") == "Se connecter"
        finally:
            babel.locale_selector = selector


def test_outside_a_request_nothing_is_translated(app):
    assert _("Log in") == "Log in"
    with app.app_context():
        assert i18n.request_translations().ugettext("Log in") == "Log in"


def _nav(html: str) -> str:
    return html[html.index('<ul class="navbar-nav me-auto">') : html.index("</ul>\n      <ul")]


def test_the_kept_navigation_follows_each_person_and_language(app, ctx):
    with ctx():
        admin, user = Saved(make_user(roles=[Role.ADMIN])), Saved(make_user())
        french = make_user(locale="fr")
        french_user = Saved(french)
    clients = {name: app.test_client() for name in ("admin", "user", "fr")}
    login(clients["admin"], admin)
    login(clients["user"], user)
    login(clients["fr"], french_user)
    for _round in range(2):  # the second round is served from what the first kept
        admin_nav = _nav(clients["admin"].get("/admin/institutions").get_data(as_text=True))
        assert ">Admin</button>" in admin_nav and ">People</button>" in admin_nav
        assert re.search(r'class="dropdown-item active" aria-current="page" href="/admin/institutions"', admin_nav)
        assert admin_nav.count('aria-current="page"') == 1

        user_nav = _nav(clients["user"].get("/").get_data(as_text=True))
        assert ">Admin</button>" not in user_nav and ">People</button>" not in user_nav
        assert 'aria-current="page"' in user_nav and "/admin/institutions" not in user_nav
        calls = _nav(clients["user"].get("/calls").get_data(as_text=True))
        assert re.search(r'class="nav-link active"\s+aria-current="page"\s+href="/calls"', calls)

        french_nav = _nav(clients["fr"].get("/").get_data(as_text=True))
        assert ">Installation</button>" in french_nav and ">Facility</button>" not in french_nav


def test_a_role_given_shows_at_once_in_the_navigation(app, ctx):
    """What is kept is keyed by the predicates' answers, evaluated on every request."""
    with ctx():
        person = make_user()
        saved = Saved(person)
    client = app.test_client()
    login(client, saved)
    assert ">Admin</button>" not in _nav(client.get("/").get_data(as_text=True))
    with ctx():
        from app.accounts.models import RoleAssignment
        from app.extensions import db

        db.session.add(RoleAssignment(user_id=saved.id, role=Role.ADMIN))
        db.session.commit()
    assert ">Admin</button>" in _nav(client.get("/").get_data(as_text=True))


def test_an_entry_registered_later_shows(app, ctx, monkeypatch):
    with ctx():
        saved = Saved(make_user())
    client = app.test_client()
    login(client, saved)
    assert "/privacy" not in _nav(client.get("/").get_data(as_text=True))
    monkeypatch.setattr(navigation, "_entries", list(navigation._entries))
    navigation.register(_("Privacy"), "accounts.privacy", order=99)
    assert 'href="/privacy"' in _nav(client.get("/").get_data(as_text=True))
