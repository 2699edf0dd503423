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

from flask import Flask, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

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


def _is_active(url: str) -> bool:
    return request.path == url or (url != "/" and request.path.startswith(url.rstrip("/") + "/"))


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "group"


def visible_items() -> list[dict]:
    """Top-level links and groups (`{"group": True, "links": [...]}`) the current person may see."""
    items: list[dict] = []
    groups: dict[str, dict] = {}
    # the person itself, not the proxy: every attribute read through `current_user` costs a
    # context lookup, and the predicates read several per entry
    user = current_user._get_current_object()
    logged_in = bool(user is not None and user.is_authenticated)
    # several entries share a predicate: each is evaluated once per call (the predicates stay
    # the only rule; nothing is kept beyond this call)
    allowed: dict[str, bool] = {}
    for entry in _entries:
        if not entry.public and not logged_in:
            continue
        if entry.predicate:
            if entry.predicate not in allowed:
                allowed[entry.predicate] = permissions.check(entry.predicate, user)
            if not allowed[entry.predicate]:
                continue
        url = url_for(entry.endpoint)
        link = {"label": str(entry.label), "url": url, "active": _is_active(url)}
        if entry.group is None:
            items.append(link)
            continue
        label = str(entry.group)
        group = groups.get(label)
        if group is None:
            group = {"label": label, "group": True, "id": f"nav-{_slug(label)}", "links": [], "active": False}
            groups[label] = group
            items.append(group)
        group["links"].append(link)
        group["active"] = group["active"] or link["active"]
    # one active link: the longest matching URL (/admin/people/3 is People, not a shorter prefix)
    links = [link for item in items for link in (item["links"] if item.get("group") else [item])]
    active = [link for link in links if link["active"]]
    if len(active) > 1:
        best = max(active, key=lambda link: len(link["url"]))
        for link in active:
            link["active"] = link is best
        for item in items:
            if item.get("group"):
                item["active"] = any(link["active"] for link in item["links"])
    return items


def init_app(app: Flask) -> None:
    app.jinja_env.globals["nav_items"] = visible_items
