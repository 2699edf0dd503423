"""The Beamtime application factory."""

from __future__ import annotations

import logging
import os
import time

from flask import Flask, g, request, session
from sqlalchemy import event

from config import CONFIGS, INSTANCE_DIR, check_production


def create_app(config_name: str | None = None, **overrides) -> Flask:
    """Build the app: config, extensions, models, blueprints, domain subscribers."""
    config_name = config_name or os.environ.get("BEAMTIME_CONFIG", "development")
    app = Flask(__name__, instance_path=str(INSTANCE_DIR), template_folder="web/templates", static_folder="web/static")
    from app.web.routing import DatabaseIntegerConverter

    app.url_map.converters["int"] = DatabaseIntegerConverter
    app.config.from_object(CONFIGS[config_name])
    app.config.update(overrides)
    if config_name == "production":
        check_production(app.config)
    os.makedirs(app.instance_path, exist_ok=True)
    _configure_logging(app)

    from app import extensions as ext
    from app.core.db import install_idle_ping, install_sqlite_hooks

    ext.db.init_app(app)
    with app.app_context():
        for engine in ext.db.engines.values():
            if not app.config["SQLALCHEMY_ENGINE_OPTIONS"].get("pool_pre_ping"):
                install_idle_ping(engine, idle_seconds=app.config["DATABASE_PING_IDLE_S"])
            if engine.dialect.name == "sqlite":
                memory = engine.url.database in (None, "", ":memory:")
                install_sqlite_hooks(engine, busy_timeout_ms=app.config["SQLITE_BUSY_TIMEOUT_MS"], wal=not memory)
    ext.migrate.init_app(
        app,
        ext.db,
        directory=os.path.join(os.path.dirname(__file__), "..", "migrations"),
        render_as_batch=True,
        compare_type=True,
    )
    ext.csrf.init_app(app)
    ext.limiter.init_app(app)
    ext.mail.init_app(app)
    _init_babel(app)
    _init_login(app)

    from app.accounts import passwords

    passwords.use_fast_hashing(bool(app.config.get("PASSWORD_HASH_FAST")))

    _register_domains(app)
    _log_requests(app)

    from app import cli

    cli.init_app(app)
    return app


def _register_domains(app: Flask) -> None:
    from app import api
    from app.accounts import permissions as accounts_permissions
    from app.accounts import views as accounts_views
    from app.core import models as _core_models  # noqa: F401 - tables
    from app.core import permissions
    from app.jobs import registry as _jobs_registry  # noqa: F401 - job kinds
    from app.web import errors, navigation, reads, security, templating
    from app.web import views as web_views

    permissions.register(accounts_permissions)
    # facility domain: registered here
    from app.facility import permissions as facility_permissions
    from app.facility import views as facility_views

    permissions.register(facility_permissions)
    facility_views.init_app(app)  # UI time zone and facility name from the facility settings
    # proposals domain: registered here
    from app.proposals import permissions as proposals_permissions
    from app.proposals import services as _proposals_services  # noqa: F401 - tables, settings, subscribers

    permissions.register(proposals_permissions)
    # reviews domain: registered here
    from app.reviews import permissions as reviews_permissions
    from app.reviews import services as _reviews_services  # noqa: F401 - tables, settings, slots
    from app.reviews import views as reviews_views

    permissions.register(reviews_permissions)
    reviews_views.init_app(app)  # the "panel" scope of reviewer and panel chair roles
    # scheduling domain: registered here
    from app.scheduling import permissions as scheduling_permissions

    permissions.register(scheduling_permissions)
    # visits domain: registered here (services subscribe to ExperimentCancelled at import)
    from app.visits import permissions as visits_permissions
    from app.visits import services as _visits_services  # noqa: F401 - tables, settings, subscribers

    permissions.register(visits_permissions)
    # visits.outcomes (experiment reports, publications): tables, predicates, page slots
    from app.visits.outcomes import permissions as outcomes_permissions
    from app.visits.outcomes import services as _outcomes_services  # noqa: F401 - tables, settings
    from app.visits.outcomes import views as outcomes_views

    permissions.register(outcomes_permissions)
    outcomes_views.init_app(app)  # fills the review pages' PI record slot and the proposal notices slot
    # reports domain: registered here
    from app.reports import permissions as reports_permissions
    from app.reports import services as reports_services

    permissions.register(reports_permissions)
    reports_services.register_subscribers()  # rollups follow proposals, reviews, scheduling
    # visits.guesthouse and visits.desk: tables, predicates, the VisitChanged subscriber, the room slot
    from app.visits.desk import permissions as desk_permissions
    from app.visits.desk import services as _desk_services  # noqa: F401 - tables
    from app.visits.guesthouse import permissions as guesthouse_permissions
    from app.visits.guesthouse import services as _guesthouse_services  # noqa: F401 - tables, subscribers

    permissions.register(guesthouse_permissions)
    permissions.register(desk_permissions)
    errors.init_app(app)
    security.init_app(app)
    reads.init_app(app)  # read-only views: autocommit on PostgreSQL, writes refused
    templating.init_app(app)
    navigation.init_app(app)
    app.register_blueprint(web_views.bp)
    app.register_blueprint(accounts_views.bp)
    # facility blueprints: registered here
    app.register_blueprint(facility_views.bp)
    # proposals blueprints: registered here
    from app.proposals import views as proposals_views

    app.register_blueprint(proposals_views.bp)
    # reviews blueprints: registered here
    app.register_blueprint(reviews_views.bp)
    # scheduling blueprints: registered here
    from app.scheduling import views as scheduling_views

    app.register_blueprint(scheduling_views.bp)
    # visits blueprints: registered here
    from app.visits import views as visits_views

    app.register_blueprint(visits_views.bp)
    # visits.outcomes blueprints: registered here
    app.register_blueprint(outcomes_views.bp)
    # reports blueprints: registered here
    from app.reports import views as reports_views

    app.register_blueprint(reports_views.bp)
    # visits.guesthouse and visits.desk blueprints: registered here
    from app.visits.desk import views as desk_views
    from app.visits.guesthouse import views as guesthouse_views

    app.register_blueprint(guesthouse_views.bp)
    app.register_blueprint(desk_views.bp)
    api.init_app(app)


def _init_babel(app: Flask) -> None:
    from flask_login import current_user

    from app.extensions import babel

    def select_locale():
        if current_user and getattr(current_user, "is_authenticated", False) and current_user.locale:
            return current_user.locale
        if request:
            return request.accept_languages.best_match(app.config["LANGUAGES"])
        return None

    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=os.path.join(os.path.dirname(__file__), "translations"),
    )
    from flask_babel import get_locale

    from app.web import i18n

    i18n.init_app(app, babel)  # the translations resolved once per request, not per string
    app.jinja_env.globals["get_locale"] = get_locale


def _init_login(app: Flask) -> None:
    from flask_babel import lazy_gettext as _l

    from app.accounts.services import load_session_person, load_session_user
    from app.extensions import login_manager
    from app.web.reads import in_read_only_view

    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def _load_person(session_id: str):
        # a read-only view (`app.web.reads`) writes nothing: its person needs no entity
        return load_session_person(session_id) if in_read_only_view() else load_session_user(session_id)


def _configure_logging(app: Flask) -> None:
    level = getattr(logging, str(app.config.get("LOG_LEVEL", "INFO")).upper(), logging.INFO)
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("app").setLevel(level)
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    # APScheduler logs two INFO lines per run of every job (every 2 s): only with LOG_LEVEL=DEBUG
    logging.getLogger("apscheduler").setLevel(level if level <= logging.DEBUG else logging.WARNING)


def _log_requests(app: Flask) -> None:
    """One log line per request: method, path, status, duration, person."""
    log = logging.getLogger("app.request")

    @app.before_request
    def _start() -> None:
        g.request_started = time.perf_counter()

    @app.after_request
    def _line(response):
        if not log.isEnabledFor(logging.INFO):
            return response
        started = g.get("request_started")
        elapsed_ms = (time.perf_counter() - started) * 1000 if started else 0.0
        # the user the request loaded, else the id its session names: never a user query only
        # for the log line (static files of a logged-in page would each cost one)
        loaded = g.get("_login_user")
        who = getattr(loaded, "id", None) if loaded is not None else session.get("_user_id", "").partition(":")[0]
        api_user = g.get("api_user")
        if api_user is not None:
            who = f"token:{api_user.id}"
        log.info(
            "%s %s %s %.1fms user=%s",
            request.method,
            request.full_path.rstrip("?"),
            response.status_code,
            elapsed_ms,
            who or "-",
        )
        return response


__all__ = ["create_app", "event"]
