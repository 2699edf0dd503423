"""What the database holds, as a fingerprint: "nothing changed" made checkable.

`db_fingerprint()` hashes every row of every table, ordered by primary key (or by every
column when a table has none), through the session the test fixture swapped in, so it sees
the test's own uncommitted rows. It returns one digest per table: a failing comparison names
the table that changed.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import select


def db_fingerprint() -> dict[str, str]:
    from app.extensions import db

    session = db.session
    session.flush()
    digests: dict[str, str] = {}
    for table in sorted(db.metadata.sorted_tables, key=lambda t: t.name):
        order = list(table.primary_key.columns) or list(table.columns)
        digest = hashlib.sha256()
        for row in session.execute(select(table).order_by(*order)):
            digest.update(repr(tuple(row)).encode())
            digest.update(b"\n")
        digests[table.name] = digest.hexdigest()
    return digests


__all__ = ["db_fingerprint"]
