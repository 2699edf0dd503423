"""Review, allocation and decisions (DESIGN.md §3, issue 5): technical reviews, panels,
reviewer assignment, conflicts of interest, grades, ranking, awards and decisions.

Owns (once the models land) the review-side tables: technical reviews, panels and their
members, expertise and bids, assignments, declared conflicts, grades, rankings, awards,
long-term commitments and decisions. Builds on `app.proposals`, `app.facility`,
`app.accounts` and `app.core`; never imports a higher domain (scheduling, visits, reports,
api). Reviewer identities never leave this package towards a PI: pages, API, e-mails and
exports for PIs carry the chair's comment and the awards, never reviewer names or words.

The hard logic lives in pure modules that import nothing from Flask, SQLAlchemy or any other
`app.` package (checked by an import-linter contract) and are tested in milliseconds:

- `conflicts.py`   conflicts of interest between a reviewer and a proposal's team
- `assignment.py`  N reviewers per proposal: CP-SAT optimisation of match, bids and load
- `ranking.py`     mean and normalised mean grades, spread, ranking per panel and cycle
- `allocation.py`  shifts awarded within capacity, in rank order; the reserve rule
"""
