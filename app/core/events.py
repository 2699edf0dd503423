"""Domain events: how a lower domain lets higher ones react without importing them.

A service publishes an event (a frozen dataclass); the subscribers that higher domains
registered at start-up run at once, in the same transaction, so a rollback undoes both sides.
Page slots work the same way: a lower domain's page names a slot, higher domains fill it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any, TypeVar

E = TypeVar("E")
Handler = Callable[[Any], None]
SlotFiller = Callable[..., Any]

_subscribers: dict[type, list[Handler]] = defaultdict(list)
_slots: dict[str, list[SlotFiller]] = defaultdict(list)


def subscribe(event_type: type[E], handler: Callable[[E], None]) -> None:
    """Register `handler` for events of `event_type` (idempotent: the same handler once)."""
    if handler not in _subscribers[event_type]:
        _subscribers[event_type].append(handler)


def publish(event: object) -> None:
    """Run every subscriber of the event's type, in registration order, in this transaction."""
    for handler in list(_subscribers.get(type(event), ())):
        handler(event)


def fill_slot(name: str, filler: SlotFiller) -> None:
    """Register a callable that contributes content to the page slot `name`."""
    if filler not in _slots[name]:
        _slots[name].append(filler)


def slot_contents(name: str, **context: Any) -> list[Any]:
    """What every filler of slot `name` returns for this context (empty results dropped)."""
    results = []
    for filler in _slots.get(name, ()):
        result = filler(**context)
        if result:
            results.append(result)
    return results


def unsubscribe(event_type: type, handler: Handler) -> None:
    if handler in _subscribers.get(event_type, []):
        _subscribers[event_type].remove(handler)
