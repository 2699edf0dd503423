"""The benchmark data generator: seeded and reproducible, set-based (BENCHMARKS.md).

    python -m bench.gen --size S|M|L [--database URL] [--seed N] [--force]

Rows are built in batches and written with executemany of Core inserts (or INSERT … SELECT
where the database can derive them), never one ORM object at a time. Each step draws from its
own random stream (seed + step name), so adding a step later never changes the data of the
others. Steps run in `order`; later issues register theirs with `@step(...)`:

    @step("proposals", order=40)
    def proposals(gen: Generator) -> int: ...

The generated dataset is recorded in `bench_meta`; `ensure_data` regenerates only when the
size, the seed or GEN_VERSION differ.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from itertools import islice
from pathlib import Path

from sqlalchemy import Connection, Table, insert, text

ROOT = Path(__file__).resolve().parent.parent
GEN_VERSION = 1  # bump when a step changes what it generates
DEFAULT_SEED = 2027
BATCH = 5_000


@dataclass(frozen=True)
class SizeParams:
    instruments: int
    cycles: int
    proposals_per_cycle: int
    people: int
    institutions: int
    countries: int
    visits: int


SIZES: dict[str, SizeParams] = {
    "S": SizeParams(
        instruments=20, cycles=4, proposals_per_cycle=200, people=5_000, institutions=500, countries=60, visits=10_000
    ),
    "M": SizeParams(
        instruments=70,
        cycles=40,  # 20 years × 2
        proposals_per_cycle=2_000,
        people=150_000,
        institutions=6_000,
        countries=120,
        visits=200_000,
    ),
    "L": SizeParams(
        instruments=70,
        cycles=60,  # 20 years × 3
        proposals_per_cycle=2_000,
        people=150_000,
        institutions=6_000,
        countries=120,
        visits=1_100_000,
    ),
}


@dataclass(frozen=True)
class Shape:
    """Realistic shapes from published facility figures (BENCHMARKS.md), shared by all sizes."""

    country_zipf_s: float = 1.1  # institution countries, Zipf-like
    host_country_share: tuple[float, float] = (0.25, 0.40)
    oversubscription: tuple[float, float] = (1.2, 6.7)  # per instrument
    shifts_requested: tuple[int, int, int] = (3, 24, 9)  # min, max, median
    grades: tuple[int, int] = (1, 5)
    accepted_share: float = 0.45
    team_size: tuple[int, int] = (2, 7)
    visit_nights: tuple[int, int] = (1, 6)
    remote_share_max: float = 0.40
    multi_instrument_share: float = 0.15  # PIs and local contacts spanning several instruments
    host_country: str = "CH"


SHAPE = Shape()
HISTORY_STARTS = datetime(2007, 1, 1, tzinfo=UTC)
#: every generated account has this password (hashed once, argon2id, cheapest parameters)
BENCH_PASSWORD = "bench-password-2027"
BENCH_PASSWORD_HASH = "$argon2id$v=19$m=8,t=1,p=1$YmVuY2gtc2FsdC0yMDI3$RXSNp3CPkXa7k1mXjWMnJTa1HsSW1eWmSJX38Hu4kRE"

GIVEN = (
    "Ada Ali Amir Ana Anna Ben Carla Chen Dario Elena Emil Eva Farah Hana Ivan Jun Kofi Lara Lea Leila Luca "
    "Maria Marie Mei Nadia Nina Omar Paolo Priya Rami Rosa Sara Sofia Tariq Tom Wei Yara Yuki Zoe Zeynep"
).split()
FAMILY = (
    "Abbas Adeyemi Bauer Bianchi Chen Costa Da Silva Dubois Fischer Garcia Haddad Ivanova Jensen Kaya Khan "
    "Kim Kowalski Lee Lopez Martin Meyer Moreau Müller Nakamura Nguyen Novak Okafor Olsen Petrov Rossi Santos "
    "Schmidt Silva Singh Suzuki Tanaka Wang Weber Yilmaz Zhang"
).split()


@dataclass(frozen=True)
class Step:
    name: str
    order: int
    func: Callable[[Generator], int]


STEPS: list[Step] = []


def step(name: str, *, order: int):
    """Register a generation step; `func(gen)` returns the number of rows it wrote."""

    def decorate(func: Callable[[Generator], int]) -> Callable[[Generator], int]:
        STEPS[:] = [s for s in STEPS if s.name != name] + [Step(name, order, func)]
        STEPS.sort(key=lambda s: s.order)
        return func

    return decorate


class Generator:
    """Holds the connection, the size and one random stream per step."""

    def __init__(self, connection: Connection, size: str, seed: int = DEFAULT_SEED) -> None:
        self.conn = connection
        self.size = size
        self.params = SIZES[size]
        self.shape = SHAPE
        self.seed = seed

    def rng(self, step_name: str) -> random.Random:
        return random.Random(f"{self.seed}:{step_name}")

    @property
    def postgresql(self) -> bool:
        return self.conn.dialect.name == "postgresql"

    def insert_rows(self, table: Table, rows: Iterable[dict], batch: int = BATCH) -> int:
        """executemany of a Core insert, `batch` rows at a time."""
        count = 0
        iterator: Iterator[dict] = iter(rows)
        while chunk := list(islice(iterator, batch)):
            self.conn.execute(insert(table), chunk)
            count += len(chunk)
        return count

    def insert_select(self, sql: str, **params) -> int:
        """A set-based INSERT … SELECT (e.g. over generate_series on PostgreSQL)."""
        return self.conn.execute(text(sql), params).rowcount

    def run(self, log: Callable[[str], None] = print) -> dict[str, int]:
        counts = {}
        for s in STEPS:
            started = time.perf_counter()
            counts[s.name] = s.func(self)
            log(f"  {s.name:<14} {counts[s.name]:>9,} rows  {time.perf_counter() - started:6.1f} s")
        return counts


# --------------------------------------------------------------------------- steps


@step("people", order=10)
def people(gen: Generator) -> int:
    """Verified user accounts (affiliations come with the institutions step, later)."""
    from app.accounts.models import User

    rng = gen.rng("people")
    span_days = (datetime(2027, 1, 1, tzinfo=UTC) - HISTORY_STARTS).days

    def rows() -> Iterator[dict]:
        for n in range(1, gen.params.people + 1):
            created = HISTORY_STARTS + timedelta(days=rng.randrange(span_days), seconds=rng.randrange(86_400))
            yield {
                "email": f"person{n:06d}@bench.example",
                "name": f"{rng.choice(GIVEN)} {rng.choice(FAMILY)}",
                "password_hash": BENCH_PASSWORD_HASH,
                "active": rng.random() > 0.02,
                "email_verified_at": created,
                "created_at": created,
                "last_login_at": None,
                "locale": rng.choice((None, None, None, "en", "fr", "de")),
                "session_version": 1,
            }

    return gen.insert_rows(User.__table__, rows())


# --------------------------------------------------------------------------- database


def default_database_url(size: str) -> str:
    url = os.environ.get("BENCH_DATABASE_URL")
    if url:
        return url
    if size != "S":
        raise SystemExit(
            f"size {size} runs on PostgreSQL: set BENCH_DATABASE_URL or pass --database "
            "(e.g. postgresql://postgres@127.0.0.1:5432/bench)"
        )
    return f"sqlite:///{ROOT / 'instance' / 'bench-S.sqlite'}"


def sqlalchemy_url(url: str) -> str:
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def make_app(url: str):
    from app import create_app

    return create_app("development", SQLALCHEMY_DATABASE_URI=sqlalchemy_url(url), LOG_LEVEL="WARNING")


def _dataset_id(size: str, seed: int) -> str:
    return f"size={size} seed={seed} gen={GEN_VERSION} steps={','.join(s.name for s in STEPS)}"


def current_dataset(app) -> str | None:
    from sqlalchemy import inspect

    from app.extensions import db

    with app.app_context():
        if not inspect(db.engine).has_table("bench_meta"):
            return None
        with db.engine.connect() as conn:
            return conn.execute(text("SELECT value FROM bench_meta WHERE key = 'dataset'")).scalar()


def generate(url: str, size: str, seed: int = DEFAULT_SEED, log: Callable[[str], None] = print) -> dict[str, int]:
    """Empty the database, create the schema from the models and generate every step."""
    from app.extensions import db

    app = make_app(url)
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "postgresql":
            with engine.begin() as conn:
                conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
                conn.execute(text("CREATE EXTENSION IF NOT EXISTS btree_gist"))
        else:
            db.drop_all()
            with engine.begin() as conn:
                conn.execute(text("DROP TABLE IF EXISTS bench_meta"))
        db.create_all()
        log(f"generating size {size} (seed {seed}) into {engine.url.render_as_string(hide_password=True)}")
        started = time.perf_counter()
        with engine.begin() as conn:
            counts = Generator(conn, size, seed).run(log)
            conn.execute(text("CREATE TABLE bench_meta (key VARCHAR(50) PRIMARY KEY, value TEXT NOT NULL)"))
            conn.execute(
                text("INSERT INTO bench_meta (key, value) VALUES ('dataset', :v)"), {"v": _dataset_id(size, seed)}
            )
        if engine.dialect.name == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
        log(f"  done in {time.perf_counter() - started:.1f} s")
        engine.dispose()
    return counts


def ensure_data(url: str, size: str, seed: int = DEFAULT_SEED, log: Callable[[str], None] = print) -> None:
    """Generate unless the database already holds this size, seed and generator version."""
    app = make_app(url)
    if current_dataset(app) == _dataset_id(size, seed):
        log(f"data: size {size} seed {seed} already generated")
        return
    generate(url, size, seed, log)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.gen", description="Generate the benchmark data.")
    parser.add_argument("--size", choices=sorted(SIZES), default="S")
    parser.add_argument("--database", help="database URL (default: BENCH_DATABASE_URL; size S: a SQLite file)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--force", action="store_true", help="regenerate even if the data is there")
    args = parser.parse_args(argv)
    url = args.database or default_database_url(args.size)
    if args.force:
        generate(url, args.size, args.seed)
    else:
        ensure_data(url, args.size, args.seed)
    print({k: v for k, v in asdict(SIZES[args.size]).items()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
