"""What the database holds, as a fingerprint: "nothing changed" made checkable.

`db_fingerprint()` hashes every row of every table, ordered by primary key (or by every
column when a table has none), through the session the test fixture swapped in, so it sees
the test's own uncommitted rows. It returns one digest per table: a failing comparison names
the table that changed.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import inspect, select


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


def commit_and_keep() -> None:
    """Commit the test's work (only a SAVEPOINT is released) and keep objects readable.

    Closing the session at the end of an app context would roll back what was only flushed;
    committing expires every object, which a detached object cannot reload. So: reload what a
    service's commit expired, commit without expiring, and the objects built in the block stay
    readable (their column attributes; lazy relationships are not loaded) after it ends.
    """
    from app.extensions import db

    session = db.session()
    session.flush()
    for obj in list(session.identity_map.values()):
        if inspect(obj).expired_attributes:
            session.refresh(obj)
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True


__all__ = ["commit_and_keep", "db_fingerprint"]
