"""The main navigation: each domain registers its entries with the predicate that shows them.

An entry without a `group` is a top-level link (what every user works with: Home, Open calls,
My proposals). Staff and admin pages go into a group, rendered as one dropdown per group: the
top bar stays short however many domains register. A group takes the place of its first
visible entry (by `order`) and shows only when one of its entries is visible to the person.
Groups are matched by their label's translated text, so two domains naming the same group
(`group=navigation.FACILITY`, or the same `_l("Facility")`) share one dropdown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import Flask, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup

from app.core import permissions

# the shared groups; a domain may name another one with its own lazy label
PROGRAMME = _l("Programme")
FACILITY = _l("Facility")
PEOPLE = _l("People")
ADMIN = _l("Admin")


@dataclass(frozen=True)
class NavEntry:
    label: object  # a lazy translated string
    endpoint: str
    predicate: str | None = None  # a registered permission predicate; None: everyone logged in
    order: int = 50
    public: bool = False
    group: object | None = None  # a lazy translated group label; None: a top-level link


_entries: list[NavEntry] = []


def register(
    label: object,
    endpoint: str,
    *,
    predicate: str | None = None,
    order: int = 50,
    public: bool = False,
    group: object | None = None,
) -> None:
    if any(e.endpoint == endpoint for e in _entries):
        return
    _entries.append(NavEntry(label, endpoint, predicate, order, public, group))
    _entries.sort(key=lambda e: e.order)
    _layouts.clear()
    _html.clear()


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "group"


# What the navigation shows depends only on the locale, the app's root URL, whether the person
# is logged in and what their predicates answered: its labels (translated), URLs (`url_for`)
# and groups are built once per such combination and kept for the process; each request still
# evaluates the predicates (the only rule) and marks its own active entry. The entries
# register at import; `register()` (and a test's fresh registry) starts the cache afresh.
_layouts: dict[tuple, tuple] = {}
_layouts_for: list[list[NavEntry]] = [_entries]
_MAX_LAYOUTS = 256  # locales × distinct predicate answers: a handful in practice


def _layout(entries: list[NavEntry], shown: tuple[bool, ...]) -> tuple:
    """The visible structure: `(label, url)` for a top-level link, `(label, id, links)` for a
    group, in order."""
    items: list = []
    groups: dict[str, list] = {}
    for entry, visible in zip(entries, shown, strict=True):
        if not visible:
            continue
        link = (str(entry.label), url_for(entry.endpoint))
        if entry.group is None:
            items.append(link)
            continue
        label = str(entry.group)
        links = groups.get(label)
        if links is None:
            links = groups[label] = []
            items.append((label, f"nav-{_slug(label)}", links))
        links.append(link)
    return tuple(item if len(item) == 2 else (item[0], item[1], tuple(item[2])) for item in items)


def _is_active(path: str, url: str) -> bool:
    return path == url or (url != "/" and path.startswith(url.rstrip("/") + "/"))


def _visible() -> tuple[tuple, tuple, tuple | None]:
    """(cache key, visible layout, the active link or None) for the current request."""
    entries = _entries
    if _layouts_for[0] is not entries:  # a test swapped the registry
        _layouts.clear()
        _html.clear()
        _layouts_for[0] = entries
    # the person itself, not the proxy: every attribute read through `current_user` costs a
    # context lookup, and the predicates read several per entry
    user = current_user._get_current_object()
    logged_in = bool(user is not None and user.is_authenticated)
    # several entries share a predicate: each is evaluated once per call (the predicates stay
    # the only rule; their answers are not kept beyond this call)
    allowed: dict[str, bool] = {}
    shown = []
    for entry in entries:
        if not entry.public and not logged_in:
            shown.append(False)
        elif entry.predicate:
            if entry.predicate not in allowed:
                allowed[entry.predicate] = permissions.check(entry.predicate, user)
            shown.append(allowed[entry.predicate])
        else:
            shown.append(True)
    shown_key = tuple(shown)
    key = (str(get_locale()), request.script_root, shown_key)
    layout = _layouts.get(key)
    if layout is None:
        layout = _layout(entries, shown_key)
        if len(_layouts) >= _MAX_LAYOUTS:
            _layouts.clear()
        _layouts[key] = layout
    # one active link: the longest matching URL (/admin/people/3 is People, not a shorter prefix)
    path = request.path
    best = None
    for item in layout:
        for link in item[2] if len(item) == 3 else (item,):
            if _is_active(path, link[1]) and (best is None or len(link[1]) > len(best[1])):
                best = link
    return key, layout, best


def _items(layout: tuple, best: tuple | None) -> list[dict]:
    items: list[dict] = []
    for item in layout:
        if len(item) == 2:
            items.append({"label": item[0], "url": item[1], "active": item is best})
            continue
        links = [{"label": link[0], "url": link[1], "active": link is best} for link in item[2]]
        items.append(
            {"label": item[0], "group": True, "id": item[1], "links": links, "active": any(x["active"] for x in links)}
        )
    return items


def visible_items() -> list[dict]:
    """Top-level links and groups (`{"group": True, "links": [...]}`) the current person may see."""
    _key, layout, best = _visible()
    return _items(layout, best)


#: the navigation's HTML (`_nav.html`) by (layout key, active URL): what it shows is a function
#: of those alone, so it is rendered once per pair and kept (bounded like `_layouts`)
_html: dict[tuple, Markup] = {}
_MAX_HTML = 4096


def nav_html() -> Markup:
    """The main navigation's entries for this request, as HTML (base.html): the predicates
    are evaluated on every request (`_visible`); the markup is rendered once per layout and
    active link."""
    key, layout, best = _visible()
    html_key = (key, best[1] if best else None)
    html = _html.get(html_key)
    if html is None:
        html = Markup(render_template("_nav.html", items=_items(layout, best)))
        if len(_html) >= _MAX_HTML:
            _html.clear()
        _html[html_key] = html
    return html


def init_app(app: Flask) -> None:
    app.jinja_env.globals["nav_html"] = nav_html
