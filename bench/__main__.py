"""`python -m bench --size S|M|L [names…]`: run benchmarks, print one line each, save JSON."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import sys
import traceback
from datetime import UTC, datetime
from pathlib import Path

from bench import MODULES
from bench.core import HEADER, MIN_RUNS, REGISTRY, Context

RESULTS = Path(__file__).resolve().parent / "results"


def _select(names: list[str]) -> list:
    benchmarks = list(REGISTRY.values())
    if not names:
        return benchmarks
    chosen = []
    for name in names:
        found = [b for b in benchmarks if name.lower() in (b.name.lower(), b.code.lower())]
        if not found:
            known = ", ".join(f"{b.code}/{b.name}" for b in benchmarks)
            raise SystemExit(f"unknown benchmark {name!r}; known: {known}")
        chosen.extend(b for b in found if b not in chosen)
    return chosen


def main(argv: list[str] | None = None) -> int:
    for module in MODULES:
        importlib.import_module(module)
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", help="benchmarks by code or name (B1, http_floor); default: all")
    parser.add_argument("--size", choices=["S", "M", "L"], default="S")
    parser.add_argument("--runs", type=int, default=MIN_RUNS, help=f"A/B pairs per benchmark (at least {MIN_RUNS})")
    parser.add_argument("--database", help="database URL for data benchmarks (default: BENCH_DATABASE_URL)")
    parser.add_argument("--seed", type=int, default=2027)
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = parser.parse_args(argv)
    if args.list:
        for b in REGISTRY.values():
            print(f"{b.code:<4} {b.name}{'  (needs data)' if b.needs_data else ''}")
        return 0
    if args.runs < MIN_RUNS:
        parser.error(f"--runs must be at least {MIN_RUNS} (the verdict is on a median)")
    chosen = _select(args.names)
    database_url = None
    if any(b.needs_data for b in chosen):
        from bench import gen

        database_url = args.database or gen.default_database_url(args.size)
        gen.ensure_data(database_url, args.size, args.seed)
    ctx = Context(size=args.size, runs=args.runs, database_url=database_url, seed=args.seed)

    started = datetime.now(UTC)
    results, errors = [], []
    print(f"size {args.size}, {args.runs} alternating runs per side; ratio = app / baseline (medians)")
    print(HEADER)
    for b in chosen:
        try:
            result = b.func(ctx)
        except Exception as exc:  # noqa: BLE001 - one broken benchmark must not hide the others
            errors.append({"name": b.label, "error": f"{type(exc).__name__}: {exc}"})
            print(f"{b.label:<22} ERROR  {type(exc).__name__}: {exc}", flush=True)
            traceback.print_exc(file=sys.stderr)
            continue
        results.append(result)
        print(result.line(), flush=True)

    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(
        json.dumps(
            {
                "started_at": started.isoformat(),
                "size": args.size,
                "runs": args.runs,
                "seed": args.seed,
                "host": {"python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count()},
                "results": [r.as_dict() for r in results],
                "errors": errors,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"saved {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
