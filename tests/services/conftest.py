import pytest


@pytest.fixture(autouse=True)
def _service_db(app_ctx, db_session):
    """Service tests run in an app context, inside a rolled-back transaction."""
    yield
