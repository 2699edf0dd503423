"""Hooks where later domains plug their units into the rollups, without reports importing them.

The visits domain (issue 8) registers one function that returns the `metrics.VisitInput`s of a
cycle (visits of the experiments booked in that cycle: the visit's own affiliation snapshot
turned into a key with `metrics.attribution_key(Affiliation(country, kind))`, on_site or
remote, arrival year and person-days), and subscribes its visit events to
`app.reports.services.mark_cycle_dirty` (the visit's experiment's booking's cycle). Publications
(issue 9) do the same with `metrics.PublicationInput`s (the linked proposal's frozen team; the
cycle is the proposal's call's cycle).

Reports never imports app.visits: the visits domain calls `register_visit_source` at start-up
(or, once visits has landed, `rollups` may import its query directly — the rollup code reads
whatever the registered sources return).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from app.reports.metrics import PublicationInput, VisitInput

VisitSource = Callable[[int], Iterable[VisitInput]]
PublicationSource = Callable[[int], Iterable[PublicationInput]]

_visit_sources: list[VisitSource] = []
_publication_sources: list[PublicationSource] = []


def register_visit_source(source: VisitSource) -> None:
    """`source(cycle_id)` yields the visits of that cycle's experiments (idempotent)."""
    if source not in _visit_sources:
        _visit_sources.append(source)


def register_publication_source(source: PublicationSource) -> None:
    """`source(cycle_id)` yields the publications of that cycle's proposals (idempotent)."""
    if source not in _publication_sources:
        _publication_sources.append(source)


def visits_of_cycle(cycle_id: int) -> list[VisitInput]:
    return [v for source in _visit_sources for v in source(cycle_id)]


def publications_of_cycle(cycle_id: int) -> list[PublicationInput]:
    return [p for source in _publication_sources for p in source(cycle_id)]


def unregister_all() -> None:
    """For tests."""
    _visit_sources.clear()
    _publication_sources.clear()
