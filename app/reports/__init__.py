"""Reports for directors: who uses the facility, from where, with whom.

Owns the rollup tables (country × year × instrument × route, one value per counting mode, and
a country-pair table for collaboration), their incremental maintenance by subscribers to
lower domains' events, the full rebuild, the dashboard, exports and the reports API.
`metrics.py` is the pure definition of every number (docs/METRICS.md). Reports only read the
lower domains; it never changes their state.
"""
