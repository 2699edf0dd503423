from contextlib import contextmanager

import pytest


@pytest.fixture(autouse=True)
def _web_db(db_session):
    """Web tests: rolled-back data, and no app context held around client calls."""
    yield


@pytest.fixture
def ctx(app):
    """Push an app context briefly to build data — never keep it across client calls.

    Leaving the block commits (which only releases the test's SAVEPOINT: the outer transaction
    is still rolled back after the test). Without it, closing the session at the end of the
    app context would roll back what the block only flushed, and the requests would not see it.
    Objects made in the block stay readable after it (`tests.dbstate.commit_and_keep`).
    """
    from tests.dbstate import commit_and_keep

    @contextmanager
    def pushed():
        with app.app_context() as context:
            yield context
            commit_and_keep()

    return pushed
