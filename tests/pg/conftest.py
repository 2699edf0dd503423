import pytest

from tests.conftest import PG_SKIP_REASON, build_app, pg_url


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    """PostgreSQL-only tests always run on TEST_DATABASE_URL, with committed data."""
    from app.extensions import db

    url = pg_url()
    if url is None:
        pytest.skip(PG_SKIP_REASON)
    application = build_app(url, tmp_path_factory)
    yield application
    with application.app_context():
        db.engine.dispose()
