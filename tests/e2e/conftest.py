"""End-to-end harness (DESIGN.md §8): a real Chromium through Playwright against a live server.

- `live_server`: the PostgreSQL test app served by werkzeug in a thread (threaded, free port),
  with the job-request poller in a second thread (what `flask jobs run` does every few seconds,
  here every 0.3 s), so pages that start background work see it finish.
- `demo`: the demo data (`app.demo.seed()`), committed; `committed_db` empties every table after.
  The demo is seeded once per session and copied row by row into memory; later tests get the
  same rows back (and the sequences moved past them) in well under a second instead of a seed.
- `page`: a fresh browser context per test. Console errors (CSP violations included) fail the
  test; a failing test leaves a screenshot in test-results/e2e/<test>.png.
- `axe(page)`: axe-core (tests/e2e/axe.min.js, vendored 4.14.1); fails on serious/critical.
- `at_375(page)`: a 375 px wide viewport; fails when the page scrolls sideways.

Playwright drives Debian's /usr/bin/chromium (never `playwright install`). The pin in
requirements-dev.txt names the Chromium major it drives; a different major fails with a message
saying so instead of an obscure protocol error.
"""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import PG_SKIP_REASON, build_app, pg_url

ROOT = Path(__file__).resolve().parents[2]
AXE_JS = Path(__file__).with_name("axe.min.js")
SCREENSHOTS = ROOT / "test-results" / "e2e"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
POLL_SECONDS = 0.3
log = logging.getLogger("tests.e2e")


# --------------------------------------------------------------------------- app and server


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    """PostgreSQL-only tests always run on TEST_DATABASE_URL, with committed data.

    E-mail goes to flask-mailman's in-memory backend; CSRF is on, as in production (the
    browser submits real forms)."""
    from app.extensions import db

    url = pg_url()
    if url is None:
        pytest.skip(PG_SKIP_REASON)
    application = build_app(url, tmp_path_factory, MAIL_BACKEND="locmem", WTF_CSRF_ENABLED=True)
    yield application
    with application.app_context():
        db.engine.dispose()


@dataclass
class LiveServer:
    url: str
    poller: JobPoller


class JobPoller(threading.Thread):
    """The jobs process's job-request poll, in a thread of the test process."""

    def __init__(self, app, interval: float = POLL_SECONDS) -> None:
        super().__init__(name="e2e-job-poller", daemon=True)
        self.app = app
        self.interval = interval
        self.stop_event = threading.Event()
        self.errors: list[str] = []

    def run(self) -> None:
        from app.jobs.runner import run_pending_job_requests

        while not self.stop_event.is_set():
            try:
                with self.app.app_context():
                    run_pending_job_requests()
            except Exception as exc:  # keep polling; the test sees the error list
                log.exception("job poller")
                self.errors.append(repr(exc))
            self.stop_event.wait(self.interval)

    def stop(self) -> None:
        self.stop_event.set()
        self.join(timeout=10)


@pytest.fixture(scope="session")
def live_server(app):
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # app.request logs each request already
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="e2e-live-server", daemon=True)
    thread.start()
    poller = JobPoller(app)
    poller.start()
    try:
        yield LiveServer(url=f"http://127.0.0.1:{server.server_port}", poller=poller)
    finally:
        poller.stop()
        server.shutdown()
        thread.join(timeout=10)


@dataclass
class DemoSnapshot:
    result: object
    #: (table, rows) in dependency order, as read back through the tables' column types
    rows: list[tuple[object, list[dict]]]


def _capture(db) -> list[tuple[object, list[dict]]]:
    from sqlalchemy import select

    with db.engine.connect() as conn:
        return [
            (table, [dict(r) for r in conn.execute(select(table)).mappings()]) for table in db.metadata.sorted_tables
        ]


def _restore(db, rows: list[tuple[object, list[dict]]]) -> None:
    from sqlalchemy import text

    with db.engine.begin() as conn:
        for table, table_rows in rows:
            if table_rows:
                conn.execute(table.insert(), table_rows)
        serials = conn.execute(
            text(
                "SELECT table_name, column_name FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND column_default LIKE 'nextval(%'"
            )
        ).all()
        for table_name, column in serials:
            conn.execute(
                text(
                    f'SELECT setval(pg_get_serial_sequence(:t, :c), COALESCE(MAX("{column}"), 0) + 1, false) '
                    f'FROM "{table_name}"'
                ),
                {"t": f'"{table_name}"', "c": column},
            )


@pytest.fixture(scope="session")
def demo_snapshot(app, live_server):
    """Seed the demo once (into the empty database of the first test that asks) and keep a copy."""
    from app import demo as demo_data
    from app.extensions import db

    with app.app_context():
        result = demo_data.seed()
        db.session.remove()
        return DemoSnapshot(result=result, rows=_capture(db))


@pytest.fixture
def demo(app, committed_db, demo_snapshot, live_server):
    """The demo facility, committed (and emptied after the test by `committed_db`)."""
    from sqlalchemy import func, select

    from app.accounts.models import User

    with app.app_context():
        if not committed_db.session.scalar(select(func.count()).select_from(User)):
            _restore(committed_db, demo_snapshot.rows)
        committed_db.session.remove()
    return demo_snapshot.result


# --------------------------------------------------------------------------- browser


def _pinned_chromium_major() -> tuple[str, int]:
    """(playwright version, Chromium major) from the pin line in requirements-dev.txt."""
    text = (ROOT / "requirements-dev.txt").read_text()
    match = re.search(r"^playwright==([\w.]+).*?chromium (\d+)", text, re.MULTILINE | re.IGNORECASE)
    if not match:
        raise RuntimeError("requirements-dev.txt: expected 'playwright==X.Y.Z  # drives Debian chromium NNN'")
    return match.group(1), int(match.group(2))


def _installed_chromium_major() -> tuple[str, int | None]:
    if not shutil.which(CHROMIUM):
        return "not installed", None
    out = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True, timeout=30).stdout
    match = re.search(r"(\d+)\.\d+\.\d+\.\d+", out)
    return (out.strip() or "unknown"), (int(match.group(1)) if match else None)


def check_browser_versions() -> str:
    """Compare majors only (a Debian point release must not turn CI red); explain a mismatch."""
    from importlib.metadata import version

    pinned_pw, pinned_major = _pinned_chromium_major()
    installed_pw = version("playwright")
    chromium_text, chromium_major = _installed_chromium_major()
    problems = []
    if installed_pw != pinned_pw:
        problems.append(f"playwright {installed_pw} is installed but requirements-dev.txt pins {pinned_pw}")
    if chromium_major is None:
        problems.append(f"{CHROMIUM}: {chromium_text} (apt-get install --no-upgrade chromium)")
    elif chromium_major != pinned_major:
        problems.append(
            f"Debian's Chromium major is {chromium_major} ({chromium_text}) but playwright=={pinned_pw} is pinned "
            f"for Chromium {pinned_major}: pin a Playwright release that drives Chromium {chromium_major} in "
            "requirements-dev.txt and constraints.txt (and update the 'drives Debian chromium' note)"
        )
    if problems:
        raise RuntimeError("e2e browser versions disagree: " + "; ".join(problems))
    return f"playwright {installed_pw}, {chromium_text}"


def _playwright_bundled_chromium() -> str:
    """The Chromium version this Playwright release was built against (information only: the
    suite drives Debian's build, and compares majors against the pin note)."""
    import json

    import playwright

    browsers = Path(playwright.__file__).parent / "driver" / "package" / "browsers.json"
    try:
        entries = json.loads(browsers.read_text())["browsers"]
        return next(b["browserVersion"] for b in entries if b["name"] == "chromium")
    except (OSError, KeyError, StopIteration, ValueError):
        return "unknown"


def pytest_report_header(config):
    try:
        versions = check_browser_versions()
    except RuntimeError as exc:
        versions = str(exc)
    return f"e2e: {versions}; Playwright's own build targets Chromium {_playwright_bundled_chromium()}"


@pytest.fixture(scope="session")
def browser():
    try:
        check_browser_versions()
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        except Exception as exc:  # noqa: BLE001 - re-raised with the versions that explain it
            pytest.fail(f"Chromium did not start ({check_browser_versions()}): {exc}", pytrace=False)
        yield browser
        browser.close()


@pytest.fixture
def context(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def page(context, request):
    """A page whose console errors (CSP violations, failed scripts) fail the test."""
    page = context.new_page()
    problems: list[str] = []

    def on_console(msg) -> None:
        # a 4xx page (a refused form answers 422) is logged as "Failed to load resource";
        # failed sub-resources are caught below with their URL
        if msg.type == "error" and not msg.text.startswith("Failed to load resource"):
            problems.append(f"console error: {msg.text}")

    def on_response(response) -> None:
        if response.status >= 400 and response.request.resource_type != "document":
            problems.append(f"{response.request.resource_type} {response.url} answered {response.status}")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on("response", on_response)
    yield page
    failed = getattr(request.node, "rep_call", None)
    if problems and not (failed and failed.failed):
        pytest.fail("the browser reported errors:\n  " + "\n  ".join(problems), pytrace=False)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)
    if report.when == "call" and report.failed:
        page = item.funcargs.get("page")
        if page is not None and not page.is_closed():
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            name = re.sub(r"[^\w.-]+", "_", item.name)
            path = SCREENSHOTS / f"{name}.png"
            try:
                page.screenshot(path=str(path), full_page=True)
                report.sections.append(("e2e screenshot", str(path)))
            except Exception as exc:  # noqa: BLE001 - a screenshot must not hide the real failure
                report.sections.append(("e2e screenshot", f"failed: {exc}"))


# --------------------------------------------------------------------------- helpers


def _check_axe(page, *, context: str | None = None) -> list[dict]:
    """Run axe-core on the page (or the `context` selector); fail on serious/critical violations.

    The script is evaluated through the DevTools protocol, which the page's CSP does not block
    (a <script> tag would be, rightly)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_JS.read_text(encoding="utf-8") + "\n;undefined")
    violations = page.evaluate(
        """async (ctx) => {
            const result = await axe.run(ctx || document, {resultTypes: ['violations']});
            return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))}));
        }""",
        context,
    )
    bad = [v for v in violations if v["impact"] in ("serious", "critical")]
    if bad:
        lines = [f"{v['impact']}: {v['id']} — {v['help']} at {', '.join(v['nodes'])}" for v in bad]
        pytest.fail(f"axe-core on {page.url}:\n  " + "\n  ".join(lines), pytrace=False)
    return violations


@pytest.fixture
def axe():
    return _check_axe


def _check_375(page, *, height: int = 800) -> None:
    """Resize to 375 px wide and fail, naming the widest culprits, if the page scrolls sideways."""
    page.set_viewport_size({"width": 375, "height": height})
    page.wait_for_timeout(50)
    overflow = page.evaluate(
        """() => {
            const root = document.documentElement;
            if (root.scrollWidth <= root.clientWidth) return null;
            const wide = [...document.body.querySelectorAll('*')]
              .filter(el => el.getBoundingClientRect().right > root.clientWidth + 1)
              .slice(0, 5)
              .map(el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
                         (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : ''));
            return {scrollWidth: root.scrollWidth, clientWidth: root.clientWidth, wide};
        }"""
    )
    if overflow:
        pytest.fail(
            f"{page.url} scrolls sideways at 375 px: {overflow['scrollWidth']} > {overflow['clientWidth']} px; "
            f"too wide: {', '.join(overflow['wide'])}",
            pytrace=False,
        )


@pytest.fixture
def at_375():
    return _check_375


def _log_in(page, email: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("E-mail", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()


@pytest.fixture
def log_in():
    """`log_in(page, email, password)` through the real form."""
    return _log_in
