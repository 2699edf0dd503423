"""The scopes of roles — panels, instruments — belong to higher domains; accounts stores only
their ids. A higher domain registers a provider for its kind of scope at start-up:

    scopes.register("instrument", choices=list_instrument_choices, label=instrument_label)

and the role admin page then offers a list to pick from and shows names instead of ids.
Until a provider exists, a scope is a positive id typed by hand (the page says so).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ScopeProvider:
    #: (id, label) pairs to offer, in the order to show
    choices: Callable[[], list[tuple[int, str]]]
    #: the label of one scope, or None when no such scope exists
    label: Callable[[int], str | None]


_providers: dict[str, ScopeProvider] = {}


def register(kind: str, *, choices: Callable[[], list[tuple[int, str]]], label: Callable[[int], str | None]) -> None:
    _providers[kind] = ScopeProvider(choices, label)


def unregister(kind: str) -> None:
    _providers.pop(kind, None)


def has_provider(kind: str) -> bool:
    return kind in _providers


def choices(kind: str) -> list[tuple[int, str]] | None:
    """What to pick from for this kind of scope, or None when no domain provides it yet."""
    provider = _providers.get(kind)
    return None if provider is None else provider.choices()


def is_known(kind: str, scope_id: int | None) -> bool:
    if scope_id is None or scope_id <= 0:
        return False
    provider = _providers.get(kind)
    return True if provider is None else provider.label(scope_id) is not None


def label(kind: str, scope_id: int) -> str:
    provider = _providers.get(kind)
    found = provider.label(scope_id) if provider is not None else None
    return found or f"{kind} #{scope_id}"
