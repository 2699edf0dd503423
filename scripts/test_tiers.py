"""Run the test suite tier by tier (DESIGN.md §8), print each tier's time and a summary.

    lint         ruff and the import-linter layering contracts
    unit         tests/unit: pure code, no database
    sqlite       tests/services + tests/web on SQLite
    postgresql   tests/services + tests/web on TEST_DATABASE_URL
    pg-only      tests/pg: migrations, races, the scheduler leader (TEST_DATABASE_URL)
    e2e          tests/e2e: Chromium through Playwright against a live server (TEST_DATABASE_URL)

`python scripts/test_tiers.py [tier …]` runs some; extra pytest arguments after `--`.
The last line is "tests: N passed, N failed, N skipped".

The sqlite and postgresql tiers run the same tests on two databases and share nothing, so when
both are chosen on a machine with two or more cores they run at the same time, each writing
to test-results/<tier>.log (its end printed when it finishes, all of it when it fails);
BEAMTIME_TIERS_SERIAL=1 runs them one after the other.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "test-results"
BIN = Path(sys.executable).parent


def _pytest_command(name: str, paths: list[str], extra: list[str]) -> tuple[list[str], Path]:
    RESULTS.mkdir(exist_ok=True)
    xml = RESULTS / f"{name}.xml"
    xml.unlink(missing_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        *paths,
        "-q",
        "-rs",
        "-p",
        "no:cacheprovider",
        f"--junitxml={xml}",
        "-o",
        "junit_family=xunit2",
        *extra,
    ]
    return cmd, xml


def _counts(code: int, xml: Path) -> tuple[int, dict]:
    counts = {"passed": 0, "failed": 0, "skipped": 0}
    if xml.exists():
        root = ET.parse(xml).getroot()
        suites = [root] if root.tag == "testsuite" else list(root)
        for suite in suites:
            tests = int(suite.get("tests", 0))
            failed = int(suite.get("failures", 0)) + int(suite.get("errors", 0))
            skipped = int(suite.get("skipped", 0))
            counts["failed"] += failed
            counts["skipped"] += skipped
            counts["passed"] += tests - failed - skipped
    if code == 5:  # no tests collected is not a failure of the tier
        code = 0
    return code, counts


def pytest_tier(name: str, paths: list[str], env: dict[str, str], extra: list[str]) -> tuple[int, dict]:
    cmd, xml = _pytest_command(name, paths, extra)
    return _counts(subprocess.call(cmd, cwd=ROOT, env={**os.environ, **env}), xml)


def parallel_tiers(specs: dict[str, tuple[list[str], dict[str, str]]], extra: list[str]) -> dict[str, tuple]:
    """Run pytest tiers at the same time, each into test-results/<name>.log; returns
    name -> (code, counts, seconds) and prints each log's end (all of it on failure)."""
    started = time.monotonic()
    running = {}
    for name, (paths, env) in specs.items():
        cmd, xml = _pytest_command(name, paths, extra)
        log = (RESULTS / f"{name}.log").open("w")
        process = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT)
        running[name] = (process, xml, log)
    done = {}
    while running:
        for name, (process, xml, log) in list(running.items()):
            if process.poll() is None:
                continue
            log.close()
            code, counts = _counts(process.returncode, xml)
            done[name] = (code, counts, time.monotonic() - started)
            del running[name]
            lines = (RESULTS / f"{name}.log").read_text(errors="replace").splitlines()
            print(f"\n----- {name}: {'ok' if code == 0 else 'FAILED'} after {done[name][2]:.1f} s -----", flush=True)
            print("\n".join(lines if code else lines[-3:]), flush=True)
        time.sleep(0.5)
    return done


def command_tier(cmds: list[list[str]]) -> tuple[int, dict]:
    code = 0
    for cmd in cmds:
        print("$", " ".join(cmd), flush=True)
        code = subprocess.call(cmd, cwd=ROOT) or code
    return code, {"passed": 0 if code else 1, "failed": 1 if code else 0, "skipped": 0}


def main(argv: list[str]) -> int:
    extra: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, extra = argv[:cut], argv[cut + 1 :]
    pg = os.environ.get("TEST_DATABASE_URL")
    # the same tests on two databases: run at the same time when both are chosen (see above)
    both = {
        "sqlite": (["tests/services", "tests/web"], {"BEAMTIME_TEST_DB": "sqlite"}),
        "postgresql": (["tests/services", "tests/web"], {"BEAMTIME_TEST_DB": pg or ""}),
    }
    tiers = {
        "lint": lambda: command_tier(
            [
                [str(BIN / "ruff"), "check", "."],
                [str(BIN / "ruff"), "format", "--check", "."],
                [str(BIN / "lint-imports")],
            ]
        ),
        "unit": lambda: pytest_tier("unit", ["tests/unit"], {}, extra),
        "sqlite": lambda: pytest_tier("sqlite", *both["sqlite"], extra),
        "postgresql": (lambda: pytest_tier("postgresql", *both["postgresql"], extra)) if pg else None,
        "pg-only": lambda: pytest_tier("pg-only", ["tests/pg"], {}, extra),
        "e2e": lambda: pytest_tier("e2e", ["tests/e2e"], {}, extra),
    }
    chosen = argv or list(tiers)
    unknown = [t for t in chosen if t not in tiers]
    if unknown:
        print(f"unknown tier(s): {', '.join(unknown)}; tiers: {', '.join(tiers)}")
        return 2
    if not pg:
        print(
            "TEST_DATABASE_URL is not set: the postgresql tier is skipped and the PostgreSQL-only "
            "tests (tests/pg, tests/e2e) skip with their reason. Example: "
            "TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test make test"
        )
    rows = []
    total = {"passed": 0, "failed": 0, "skipped": 0}
    worst = 0
    together: dict[str, tuple] = {}
    pair = set(both)
    in_parallel = (
        pg and pair <= set(chosen) and (os.cpu_count() or 1) >= 2 and not os.environ.get("BEAMTIME_TIERS_SERIAL")
    )
    for name in chosen:
        run = tiers[name]
        if in_parallel and name in pair and not together:
            print("\n===== tiers sqlite and postgresql, at the same time =====", flush=True)
            together = parallel_tiers(both, extra)
        if name in together:
            code, counts, elapsed = together[name]
        else:
            print(f"\n===== tier {name} =====", flush=True)
            if run is None:
                rows.append((name, "skipped (no TEST_DATABASE_URL)", 0.0, None))
                continue
            started = time.monotonic()
            code, counts = run()
            elapsed = time.monotonic() - started
        if name != "lint":
            for key in total:
                total[key] += counts[key]
        elif code:
            total["failed"] += 1
        worst = worst or code
        rows.append((name, "ok" if code == 0 else f"FAILED (exit {code})", elapsed, counts))
    print("\n===== tier times =====")
    for name, state, elapsed, counts in rows:
        detail = (
            ""
            if counts is None or name == "lint"
            else f"  {counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped"
        )
        print(f"{name:<11} {elapsed:7.1f} s  {state}{detail}")
    # the tiers run at the same time count once, by the longer of them
    overlap = sum(r[2] for r in rows if r[0] in together) - max((r[2] for r in rows if r[0] in together), default=0.0)
    print(
        f"total       {sum(r[2] for r in rows) - overlap:7.1f} s"
        + ("  (sqlite and postgresql together)" if together else "")
    )
    print(f"tests: {total['passed']} passed, {total['failed']} failed, {total['skipped']} skipped")
    return 1 if worst else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
