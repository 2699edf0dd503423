"""Events of the visits domain, for the sub-domains that react to a visit (the guesthouse)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class VisitChanged:
    """A visit's status, dates or accommodation answer may have changed (published by the
    visits services in the transaction that changed it)."""

    visit_id: int
