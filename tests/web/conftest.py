import pytest


@pytest.fixture(autouse=True)
def _web_db(db_session):
    """Web tests: rolled-back data, and no app context held around client calls."""
    yield


@pytest.fixture
def ctx(app):
    """Push an app context briefly (to build data) — never keep it across client calls."""
    return app.app_context
