"""Permissions are named predicates `can_*(actor, obj) -> bool`, enforced with `require()`.

Services call `require(predicate, actor, obj)`; templates call the same predicates through the
`can()` Jinja global, so a button shows only where the action works.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.core.errors import NotFound, PermissionDenied

Predicate = Callable[..., bool]


def require(predicate: Predicate, actor: Any, obj: Any = None, *, hide: bool = False) -> None:
    """Raise PermissionDenied (or NotFound when `hide`: the actor may not know it exists)."""
    allowed = predicate(actor) if obj is None else predicate(actor, obj)
    if not allowed:
        name = getattr(predicate, "__name__", "permission")
        if hide:
            raise NotFound("not_found")
        raise PermissionDenied("permission_denied", rule=name)


def require_visible(predicate: Predicate, actor: Any, obj: Any) -> None:
    """An object the actor may not see answers 404, exactly like one that does not exist."""
    require(predicate, actor, obj, hide=True)


_named: dict[str, Predicate] = {}


def register(module: Any) -> None:
    """Make a domain's predicates (`can_*`, `is_*`, `has_*`) callable by name from templates."""
    domain = module.__name__.split(".")[-2]
    for name in dir(module):
        if name.startswith(("can_", "is_", "has_")):
            fn = getattr(module, name)
            if callable(fn):
                _named[f"{domain}.{name}"] = fn
                _named.setdefault(name, fn)


def check(name: str, actor: Any, obj: Any = None) -> bool:
    """Evaluate a registered predicate by name ("is_staff" or "accounts.is_staff")."""
    try:
        predicate = _named[name]
    except KeyError:
        raise LookupError(f"no permission predicate named {name!r}") from None
    return bool(predicate(actor) if obj is None else predicate(actor, obj))


def require_named(name: str, actor: Any, obj: Any = None, *, hide: bool = False) -> None:
    """`require()` for a predicate registered by name (code that may not import its domain)."""
    if not check(name, actor, obj):
        if hide:
            raise NotFound("not_found")
        raise PermissionDenied("permission_denied", rule=name)
