"""The main navigation: each domain registers its entries with the predicate that shows them."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, request, url_for
from flask_login import current_user

from app.core import permissions


@dataclass(frozen=True)
class NavEntry:
    label: object  # a lazy translated string
    endpoint: str
    predicate: str | None = None  # a registered permission predicate; None: everyone logged in
    order: int = 50
    public: bool = False


_entries: list[NavEntry] = []


def register(
    label: object, endpoint: str, *, predicate: str | None = None, order: int = 50, public: bool = False
) -> None:
    if any(e.endpoint == endpoint for e in _entries):
        return
    _entries.append(NavEntry(label, endpoint, predicate, order, public))
    _entries.sort(key=lambda e: e.order)


def visible_items() -> list[dict]:
    items = []
    for entry in _entries:
        if not entry.public and not current_user.is_authenticated:
            continue
        if entry.predicate and not permissions.check(entry.predicate, current_user):
            continue
        url = url_for(entry.endpoint)
        items.append(
            {
                "label": str(entry.label),
                "url": url,
                "active": request.path == url or (url != "/" and request.path.startswith(url)),
            }
        )
    return items


def init_app(app: Flask) -> None:
    app.jinja_env.globals["nav_items"] = visible_items
