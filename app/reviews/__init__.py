"""Review, allocation and decisions (DESIGN.md §3, issue 5): technical reviews, panels,
reviewer assignment, conflicts of interest, grades, ranking, awards and decisions.

Owns the review-side tables (`models.py`): the review of a call, technical reviews, panels
(members and chairs are role scopes; the deputy is a column), expertise and bids, assignments
(UNIQUE proposal + reviewer), declared conflicts, reviews, the panel's decisions, awards and
decisions. Long-term commitments are written through `app.facility.services.add_commitment`.
Proposals react through their status machine, called from here; the proposals domain lets
reviewers and instrument scientists read a proposal through its `READERS_SLOT`, which this
package fills at start-up (it never imports reviews). Builds on `app.proposals`, `app.facility`,
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
