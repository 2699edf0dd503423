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

from sqlalchemy import Connection, Table, insert, select, text

ROOT = Path(__file__).resolve().parent.parent
GEN_VERSION = 2  # bump when a step changes what it generates
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
        self.log: Callable[[str], None] = print

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
        self.log = log
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


COUNTRY_POOL = (
    "CH DE FR IT GB ES US NL BE AT SE PL DK JP CN IN PT CZ FI NO IL IE GR HU BR CA AU KR SK SI RU UA TR EG JO ZA "
    "AR MX CL RS HR RO BG LT LV EE IR PK SG TW TH MA TN NZ LU IS CY MT XK KE NG GH ET DZ LB IQ SA AE QA KW OM BH "
    "YE SY PS AM GE AZ KZ UZ KG TJ MN VN PH ID MY BD LK NP MM KH LA CO PE VE EC BO PY UY CR PA CU DO GT HN SV NI "
    "JM TT BS BB SN CI CM UG TZ RW ZM ZW MZ AO NA BW MU MG"
).split()


def _zipf_weights(items: list, s: float) -> list[float]:
    return [1 / (rank + 1) ** s for rank in range(len(items))]


@step("institutions", order=20)
def institutions(gen: Generator) -> int:
    """Institutions with a Zipf-like spread of countries (the host first), then every person's
    affiliation in one set-based UPDATE."""
    from app.accounts.models import Institution, InstitutionKind

    rng = gen.rng("institutions")
    countries = [gen.shape.host_country] + [c for c in COUNTRY_POOL if c != gen.shape.host_country]
    countries = countries[: gen.params.countries]
    weights = _zipf_weights(countries, gen.shape.country_zipf_s)
    kinds = [InstitutionKind.UNIVERSITY] * 6 + [InstitutionKind.RESEARCH_INSTITUTE] * 3 + [InstitutionKind.COMPANY]

    def rows() -> Iterator[dict]:
        for n in range(1, gen.params.institutions + 1):
            country = rng.choices(countries, weights=weights)[0]
            yield {
                "name": f"Institute {n:05d} ({country})",
                "kind": rng.choice(kinds),
                "country_code": country,
                "created_at": HISTORY_STARTS,
                "reviewed_at": HISTORY_STARTS,
            }

    count = gen.insert_rows(Institution.__table__, rows())
    # the host's people cluster in its institutions: person n works at institution (n·7919 mod N) + 1
    gen.conn.execute(text("UPDATE users SET institution_id = 1 + (id * 7919) % :n"), {"n": gen.params.institutions})
    return count


@step("facility", order=25)
def facility(gen: Generator) -> int:
    """The facility, its instruments and cycles (two a year from 2007 on; L: three a year over 20 years)."""
    from app.accounts.models import RoleAssignment
    from app.facility.models import Cycle, Facility, Instrument

    gen.conn.execute(
        insert(Facility.__table__),
        {
            "id": 1,
            "name": "Bench Light Source",
            "host_country": gen.shape.host_country,
            "timezone": "Europe/Zurich",
            "shift_pattern": ["00:00", "08:00", "16:00"],
            "letterhead": "",
        },
    )
    instruments = [
        {
            "code": f"BL{n:02d}",
            "name": f"Beamline {n:02d}",
            "techniques": ["diffraction"],
            "active": True,
            "start_shifts": [0, 1, 2],
            "start_weekdays": [0, 1, 2, 3, 4, 5, 6],
        }
        for n in range(1, gen.params.instruments + 1)
    ]
    gen.insert_rows(Instrument.__table__, instruments)
    cycles = []
    # S and M: two cycles a year (spring, autumn); L: 60 cycles over 20 years, three a year
    per_year = 3 if gen.params.cycles >= 60 else 2
    windows = {
        2: (("03-01", "07-31"), ("08-24", "11-27")),
        3: (("01-15", "04-30"), ("05-15", "08-31"), ("09-15", "12-15")),
    }[per_year]
    first = 2027 - (gen.params.cycles + per_year - 1) // per_year
    for n in range(gen.params.cycles):
        year, part = first + n // per_year, n % per_year
        starts, ends = windows[part]
        cycles.append(
            {
                "name": f"{year}-{'I' * (part + 1)}",
                "starts_on": datetime.fromisoformat(f"{year}-{starts}").date(),
                "ends_on": datetime.fromisoformat(f"{year}-{ends}").date(),
            }
        )
    gen.insert_rows(Cycle.__table__, cycles)
    # person 1 works in the user office (the staff pages of the benchmarks log in as them)
    gen.conn.execute(insert(RoleAssignment.__table__), {"user_id": 1, "role": "user_office", "scope_id": None})
    return 2 + len(instruments) + len(cycles)


@step("proposals", order=40)
def proposals(gen: Generator) -> int:
    """One standard call per cycle offering every instrument, `proposals_per_cycle` submitted
    proposals in each, teams of 2–7 (the PI first), 1–3 requests of 3–24 shifts (median 9,
    popular instruments first), 1–3 samples. Teams' affiliation snapshots are filled from the
    people in set-based UPDATEs."""
    from app.facility.models import Cycle, Instrument
    from app.proposals.models import (
        BeamtimeRequest,
        Call,
        CallInstrument,
        Proposal,
        ProposalMember,
        ReferenceCounter,
        Sample,
    )

    rng = gen.rng("proposals")
    cycles = gen.conn.execute(select(Cycle.id, Cycle.name, Cycle.starts_on).order_by(Cycle.starts_on)).all()
    instruments = list(gen.conn.execute(select(Instrument.id).order_by(Instrument.id)).scalars())
    popularity = [1 / (rank + 1) ** 0.9 for rank in range(len(instruments))]
    people = gen.params.people
    low, high, median = gen.shape.shifts_requested
    sizes = list(range(gen.shape.team_size[0], gen.shape.team_size[1] + 1))
    size_weights = [20, 25, 22, 15, 10, 8][: len(sizes)]
    statuses = ["submitted", "under_review", "accepted", "reserve", "rejected", "scheduled", "completed", "withdrawn"]
    status_weights = [2, 3, 20, 8, 35, 5, 25, 2]
    calls, offers = [], []
    for call_id, (cycle_id, name, starts_on) in enumerate(cycles, start=1):
        opens = datetime.combine(starts_on - timedelta(days=150), datetime.min.time(), tzinfo=UTC)
        calls.append(
            {
                "id": call_id,
                "cycle_id": cycle_id,
                "route": "standard",
                "title": f"Call for proposals {name}",
                "description": "",
                "opens_at": opens,
                "closes_at": opens + timedelta(days=60),
                "max_shifts_per_request": 24,
                "max_cycles": 1,
                "created_at": opens,
            }
        )
        offers += [{"call_id": call_id, "instrument_id": i, "position": p} for p, i in enumerate(instruments)]
    gen.insert_rows(Call.__table__, calls)
    gen.insert_rows(CallInstrument.__table__, offers)
    counters = [{"cycle_id": c["cycle_id"], "last_number": gen.params.proposals_per_cycle} for c in calls]
    gen.insert_rows(ReferenceCounter.__table__, counters)

    members: list[dict] = []
    requests: list[dict] = []
    samples: list[dict] = []
    written = 0

    def proposal_rows() -> Iterator[dict]:
        pid = 0
        for call, (_cycle_id, name, _starts) in zip(calls, cycles, strict=True):
            for n in range(1, gen.params.proposals_per_cycle + 1):
                pid += 1
                submitted = call["opens_at"] + timedelta(seconds=rng.randrange(60 * 86_400))
                team = rng.sample(range(1, people + 1), rng.choices(sizes, weights=size_weights)[0])
                for index, user_id in enumerate(team):
                    members.append(
                        {
                            "proposal_id": pid,
                            "user_id": user_id,
                            "role": "pi" if index == 0 else "co_proposer",
                            "snapshot_at": call["closes_at"],
                            "joined_at": submitted,
                        }
                    )
                chosen: set[int] = set()
                for _ in range(rng.choices([1, 2, 3], weights=[70, 25, 5])[0]):
                    chosen.add(rng.choices(instruments, weights=popularity)[0])
                for instrument_id in chosen:
                    shifts = max(low, min(high, round(median * 2.718281828 ** rng.gauss(0, 0.45))))
                    requests.append(
                        {
                            "proposal_id": pid,
                            "instrument_id": instrument_id,
                            "shifts": shifts,
                            "cycles": 1,
                            "justification": f"{shifts} shifts: references, then the sample series.",
                        }
                    )
                for k in range(rng.randint(1, 3)):
                    samples.append(
                        {
                            "proposal_id": pid,
                            "name": f"Sample {k + 1}",
                            "formula": "",
                            "form": "powder",
                            "quantity": "100 mg",
                            "hazards": rng.choice((["none"], ["none"], ["toxic"], ["cryogenic"])),
                            "notes": "",
                        }
                    )
                yield {
                    "id": pid,
                    "call_id": call["id"],
                    "reference": f"{name}-{n:04d}",
                    "status": rng.choices(statuses, weights=status_weights)[0],
                    "title": f"Proposal {pid} on {rng.choice(('catalysis', 'proteins', 'magnets', 'batteries', 'soils'))}",
                    "abstract": "An abstract of a few sentences. " * 6,
                    "subject_area": rng.choice(("chemistry", "biology", "materials", "condensed_matter")),
                    "science_case_key": None,
                    "created_by_id": team[0],
                    "created_at": submitted - timedelta(days=3),
                    "updated_at": submitted,
                    "submitted_at": submitted,
                    "affiliations_frozen_at": call["closes_at"],
                }

    iterator = proposal_rows()
    while chunk := list(islice(iterator, BATCH)):
        gen.conn.execute(insert(Proposal.__table__), chunk)
        for table, rows in ((ProposalMember, members), (BeamtimeRequest, requests), (Sample, samples)):
            gen.insert_rows(table.__table__, rows)
            written += len(rows)
            rows.clear()
        written += len(chunk)
        if chunk[-1]["id"] % (BATCH * 4) == 0:
            gen.log(f"    proposals: {chunk[-1]['id']:,} of {len(calls) * gen.params.proposals_per_cycle:,}")
    gen.log("    proposals: affiliation snapshots (set-based)")
    # the affiliation snapshot, set-based: each member's institution, its name and country
    gen.conn.execute(
        text(
            "UPDATE proposal_members SET institution_id = "
            "(SELECT u.institution_id FROM users u WHERE u.id = proposal_members.user_id)"
        )
    )
    gen.conn.execute(
        text(
            "UPDATE proposal_members SET "
            "institution_name = (SELECT i.name FROM institutions i WHERE i.id = proposal_members.institution_id), "
            "country_code = (SELECT i.country_code FROM institutions i WHERE i.id = proposal_members.institution_id)"
        )
    )
    if gen.postgresql:
        for table in ("proposals", "calls"):
            gen.conn.execute(
                text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
            )
    return written + len(calls) + len(offers)


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
