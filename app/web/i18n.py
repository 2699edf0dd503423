"""Translations resolved once per request (issue 4, the fixed cost of every page).

Flask-Babel resolves the translations object on every `gettext`: the domain, then the
request's Babel context (three lookups through the `g` proxy each time), the locale (the same
three again) and the locale's identifier, to find the catalogue in its cache. A page calls
`_()` 50–150 times (the layout, the navigation, labels), so that resolution cost more than the
lookups in the catalogue themselves.

Here the translations object is kept on the request's Babel context next to the locale and
the domain it was resolved for, and reused while both are the same objects. Nothing else
changes: the locale is still chosen by the app's selector once per request, the catalogues
are Flask-Babel's (loaded once per process), and `flask_babel.refresh()`, `force_locale()` and
`Domain.as_default()` still take effect at once — each replaces the locale or the domain
object on the context, so the kept translations no longer match and are resolved again.
"""

from __future__ import annotations

from flask import Flask
from flask.globals import _cv_app
from flask_babel import Babel, Domain, get_translations

_KEPT = "beamtime_translations"


def _kept(domain=None):
    """The translations kept on this request's Babel context, if still for its locale and for
    `domain` (default: the context's own domain); else None."""
    app_ctx = _cv_app.get(None)
    babel_ctx = app_ctx.g.__dict__.get("_flask_babel") if app_ctx is not None else None
    if babel_ctx is None:
        return None
    state = babel_ctx.__dict__
    kept = state.get(_KEPT)
    wanted = state.get("babel_domain") if domain is None else domain
    if kept is not None and kept[0] is state.get("babel_locale") and kept[1] is wanted:
        return kept[2]
    return None


def request_translations():
    """The translations of the current request (Flask-Babel's own answer, resolved once)."""
    kept = _kept()
    return kept if kept is not None else get_translations()  # through RequestDomain, which keeps it


class RequestDomain(Domain):
    """The app's default domain: `gettext`, `_l` and friends in Python code resolve the
    translations through `request_translations()` (the same catalogue, found once)."""

    def get_translations(self):
        kept = _kept(self)
        if kept is not None:
            return kept
        translations = super().get_translations()
        app_ctx = _cv_app.get(None)
        if app_ctx is not None and "_flask_babel" in app_ctx.g.__dict__:
            state = app_ctx.g._flask_babel.__dict__
            if state.get("babel_domain", self) is self:
                state[_KEPT] = (state.get("babel_locale"), self, translations)
        return translations


def init_app(app: Flask, babel: Babel) -> None:
    """Use the request-kept translations for the app's default domain and in templates."""
    config = app.extensions["babel"]
    if not isinstance(babel.__dict__.get("domain_instance"), RequestDomain):
        babel.domain_instance = RequestDomain(domain=config.default_domain)
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: request_translations().ugettext(s),
        ngettext=lambda s, p, n: request_translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: request_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: request_translations().unpgettext(c, s, p, n),
    )
