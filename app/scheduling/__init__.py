"""Scheduling: bookings on instrument calendars, experiments, solve requests, publishing, iCal.

Owns the experiments (`models.Experiment`: a booking of kind experiment in facility's
`bookings`, with its award and local contact), staff's per-award solver settings
(`AwardSchedule`), direct booking of free blocks and of rapid-access sessions (`services`,
safe under concurrency), and `solver/`, the pure optimiser that places awards on the
shift grid. `solver/` must stay pure (DESIGN.md §4 rule 5): plain dataclasses in and out, no
Flask, no SQLAlchemy, no `app.` imports — import-linter checks it. `adapters.py` is the
only bridge between ORM rows and the solver's `Problem`/`Solution`.

Must not: import `visits` or `reports` (they sit above it), commit outside `@transactional`
services, or read the request machinery.
"""
