"""The people part of the demo facility: countries with a long tail, institutions (international
organisations and sub-units included), a few hundred users, the "Members" consortium and one
demo log-in per role of DESIGN.md §1.

Deterministic (one seeded random generator) and idempotent (what exists is not made again);
fast: institutions and users go in with bulk inserts and one argon2 hash serves every account.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, insert, select

from app.accounts import countries, identifiers, passwords
from app.accounts.models import (
    CountryGroup,
    CountryGroupMember,
    Institution,
    InstitutionKind,
    Role,
    RoleAssignment,
    User,
)
from app.core import outbox
from app.core.transaction import transactional
from app.extensions import db

SEED = 2027
#: the population of the demo, without the demo log-ins
USERS = 420
HOST_SHARE = 0.33
INTERNATIONAL_SHARE = 0.05
#: when the demo people registered: spread over the years before this instant
REFERENCE = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
DEMO_DOMAIN = "beamtime.example"
DEMO_PASSWORD = "beamtime-demo-2027"

#: (label, e-mail, roles with scope) — scoped roles take id 1 until panels and instruments exist
DEMO_LOGINS: list[tuple[str, str, str, list[tuple[Role, int | None]]]] = [
    ("user", f"user@{DEMO_DOMAIN}", "Ugo User", []),
    ("reviewer", f"reviewer@{DEMO_DOMAIN}", "Rita Reviewer", [(Role.REVIEWER, 1)]),
    ("panel chair", f"panel-chair@{DEMO_DOMAIN}", "Pavel Chair", [(Role.PANEL_CHAIR, 1), (Role.REVIEWER, 1)]),
    ("instrument scientist", f"scientist@{DEMO_DOMAIN}", "Ines Scientist", [(Role.INSTRUMENT_SCIENTIST, 1)]),
    ("user office", f"user-office@{DEMO_DOMAIN}", "Olga Office", [(Role.USER_OFFICE, None)]),
    ("access approver", f"access@{DEMO_DOMAIN}", "Aziz Approver", [(Role.ACCESS_APPROVER, None)]),
    ("safety reviewer", f"safety@{DEMO_DOMAIN}", "Sofia Safety", [(Role.SAFETY_REVIEWER, None)]),
    ("director", f"director@{DEMO_DOMAIN}", "Dana Director", [(Role.DIRECTOR, None)]),
    ("admin", f"admin@{DEMO_DOMAIN}", "Ada Admin", [(Role.ADMIN, None)]),
]

#: countries of the user community after the host, most users first (a Zipf-like tail)
COUNTRY_RANKING = (
    "DE FR IT GB ES US NL BE AT SE PL DK JP CN IN PT CZ FI NO IL IE GR HU BR CA AU KR SK SI RU "
    "UA TR EG JO ZA AR MX CL RS HR RO BG LT LV EE IR PK SG TW TH MA TN NZ LU IS CY MT XK KE NG"
).split()
MEMBERS = ("DE", "FR", "IT", "GB", "ES", "NL", "BE", "AT", "SE", "DK", "PL")
ASSOCIATES = ("IL", "PT", "CZ", "FI", "NO", "IN")
EU = ("AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE").split()

CITIES = {
    "CH": [
        "Zurich",
        "Geneva",
        "Basel",
        "Bern",
        "Lausanne",
        "Fribourg",
        "Neuchâtel",
        "Lugano",
        "St. Gallen",
        "Villigen",
    ],
    "DE": ["Berlin", "Hamburg", "Munich", "Heidelberg", "Göttingen", "Dresden", "Karlsruhe", "Jülich", "Aachen"],
    "FR": ["Paris", "Grenoble", "Lyon", "Marseille", "Toulouse", "Strasbourg", "Orsay", "Bordeaux"],
    "IT": ["Rome", "Milan", "Trieste", "Bologna", "Padua", "Turin", "Naples"],
    "GB": ["Oxford", "Cambridge", "Manchester", "Edinburgh", "Bristol", "London"],
    "ES": ["Madrid", "Barcelona", "Valencia", "Seville", "Zaragoza"],
    "US": ["Boston", "Berkeley", "Chicago", "Stanford", "Argonne", "Brookhaven"],
    "NL": ["Amsterdam", "Utrecht", "Leiden", "Delft", "Groningen"],
    "BE": ["Leuven", "Ghent", "Liège", "Brussels"],
    "AT": ["Vienna", "Graz", "Innsbruck"],
    "SE": ["Lund", "Uppsala", "Stockholm", "Gothenburg"],
    "PL": ["Warsaw", "Kraków", "Wrocław"],
    "DK": ["Copenhagen", "Aarhus"],
    "JP": ["Tokyo", "Osaka", "Kyoto", "Tsukuba"],
    "CN": ["Beijing", "Shanghai", "Hefei"],
    "IN": ["Bangalore", "Mumbai", "Delhi"],
}
FIRST_NAMES = (
    "Anna Lukas Sofia Marco Elena Jonas Clara Paolo Marie Jan Laura David Sara Pierre Julia Tomás Eva Ahmed "
    "Yuki Wei Priya Olga Mateo Fatima Nikolai Ingrid Kwame Leila Hiroshi Ana Omar Chiara Felix Noor Sven "
    "Irene Raj Mei Lars Amira Carlos Zofia Emeka Hana Giulia Matthias Aisha Bruno Katarzyna Dimitri Nadia"
).split()
LAST_NAMES = (
    "Müller Rossi García Martin Schmidt Dubois Novak Jensen Kowalski Silva Bianchi Fischer Moreau Nielsen "
    "Tanaka Wang Sharma Ivanova Haddad Okafor Costa Lindqvist Papadopoulos Horvat Kaya Cohen Suzuki Chen "
    "Patel Andersson Meier Keller Weber Ricci Romano Lefebvre Fernández López Kim Nakamura Singh Petrov "
    "Nowak Svensson Virtanen Brennan Murphy Yilmaz Mansour Abboud Dvořák Kovács Popescu Hansen Olsen"
).split()
INTERNATIONAL = [
    "European Molecular Biology Laboratory (EMBL)",
    "Institut Laue-Langevin (ILL)",
    "European Synchrotron Radiation Facility (ESRF)",
    "European Organization for Nuclear Research (CERN)",
    "European XFEL",
    "Joint Research Centre of the European Commission",
    "International Atomic Energy Agency (IAEA)",
    "Abdus Salam International Centre for Theoretical Physics (ICTP)",
    "SESAME Synchrotron-light for Experimental Science and Applications in the Middle East",
    "European Southern Observatory (ESO)",
]
#: (parent, country, sub-units): research organisations whose laboratories register separately
PARENTS = [
    (
        "Centre national de la recherche scientifique (CNRS)",
        "FR",
        ["Institut Néel", "Laboratoire de Physique des Solides", "Institut de Chimie de la Matière Condensée"],
    ),
    (
        "Max Planck Society",
        "DE",
        [
            "Max Planck Institute for Solid State Research",
            "Max Planck Institute of Biochemistry",
            "Max Planck Institute for Chemical Physics of Solids",
        ],
    ),
    (
        "Consiglio Nazionale delle Ricerche (CNR)",
        "IT",
        ["Istituto Officina dei Materiali", "Istituto di Cristallografia"],
    ),
]
COMPANIES = ["Pharma", "Materials", "Batteries", "Semiconductors", "Catalysts"]


@dataclass
class PeopleReport:
    created_users: int = 0
    created_institutions: int = 0


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower().replace(" ", "")


def _orcid(rng: random.Random) -> str:
    base = f"0000000{rng.randint(1, 3)}{rng.randint(0, 9999_9999):08d}"[:15]
    return identifiers.normalise_orcid(base + identifiers.orcid_check_digit(base))


def user_counts(total: int, host: str) -> dict[str | None, int]:
    """Users per country (None: international organisations): the host's share, then a Zipf
    tail with at least one user in each of the other countries (largest remainders)."""
    ranking = [c for c in COUNTRY_RANKING if c != host][:60]
    n_host = round(total * HOST_SHARE)
    n_international = round(total * INTERNATIONAL_SHARE)
    rest = total - n_host - n_international
    weights = [1 / (rank + 1) ** 0.8 for rank in range(len(ranking))]
    spare = rest - len(ranking)
    shares = [spare * w / sum(weights) for w in weights]
    counts = [1 + int(s) for s in shares]
    left = rest - sum(counts)
    for i in sorted(range(len(ranking)), key=lambda i: shares[i] - int(shares[i]), reverse=True)[:left]:
        counts[i] += 1
    return {host: n_host, None: n_international, **dict(zip(ranking, counts, strict=True))}


def _institution_rows(host: str, per_country: dict[str | None, int], rng: random.Random, now: datetime) -> list[dict]:
    rows: list[dict] = [
        {"name": "Beamtime Demo Light Source", "kind": InstitutionKind.FACILITY, "country_code": host},
    ]
    rows += [
        {"name": n, "kind": InstitutionKind.INTERNATIONAL_ORGANISATION, "country_code": None} for n in INTERNATIONAL
    ]
    for country, users in per_country.items():
        if country is None:
            continue
        name = countries.name(country)
        wanted = max(2, min(45 if country == host else 20, round(users**0.9)))
        cities = CITIES.get(country, [])
        names: list[tuple[str, InstitutionKind]] = []
        for city in cities:
            names.append((f"University of {city}", InstitutionKind.UNIVERSITY))
        for city in cities:
            names.append((f"{city} Institute of Technology", InstitutionKind.UNIVERSITY))
            names.append((f"{city} Centre for Materials Research", InstitutionKind.RESEARCH_INSTITUTE))
        names += [
            (f"National University of {name}", InstitutionKind.UNIVERSITY),
            (f"{name} Institute of Science and Technology", InstitutionKind.RESEARCH_INSTITUTE),
            (f"{name} Academy of Sciences", InstitutionKind.RESEARCH_INSTITUTE),
            (f"State University of {name}", InstitutionKind.UNIVERSITY),
        ]
        names += [(f"{name} {c} Ltd", InstitutionKind.COMPANY) for c in COMPANIES]
        for i in range(len(names), wanted):
            names.append((f"University of {name} {i - len(names) + 2}", InstitutionKind.UNIVERSITY))
        order = sorted(names[: max(wanted, 1) + 2], key=lambda pair: pair[1] == InstitutionKind.COMPANY)
        for inst_name, kind in order[:wanted]:
            rows.append({"name": inst_name, "kind": kind, "country_code": country})
    for row in rows:
        row["created_at"] = now - timedelta(days=rng.randint(400, 3000))
        row["reviewed_at"] = row["created_at"]
    return rows


@transactional
def seed_people(*, host_country: str = "CH", progress=None) -> list[tuple[str, str]]:
    """Create the demo people if missing; returns the (label, e-mail) of each demo log-in."""
    rng = random.Random(SEED)
    now = REFERENCE
    password_hash = passwords.hash_password(DEMO_PASSWORD)
    report = PeopleReport()
    if db.session.scalar(select(func.count()).select_from(CountryGroup).where(CountryGroup.name == "Members")) == 0:
        _seed_population(host_country, rng, now, password_hash, report)
    logins = _seed_logins(host_country, now, password_hash, report)
    if progress is not None:
        progress.print(
            f"demo people: {report.created_institutions} institution(s), {report.created_users} account(s) created"
        )
    return logins


def _seed_population(host: str, rng: random.Random, now: datetime, password_hash: str, report: PeopleReport) -> None:
    per_country = user_counts(USERS, host)
    rows = _institution_rows(host, per_country, rng, now)
    institutions = [Institution(**row) for row in rows]
    db.session.add_all(institutions)
    db.session.flush()
    for parent_name, country, units in PARENTS:
        created = now - timedelta(days=2000)
        parent = Institution(
            name=parent_name,
            kind=InstitutionKind.RESEARCH_INSTITUTE,
            country_code=country,
            created_at=created,
            reviewed_at=created,
        )
        db.session.add(parent)
        db.session.flush()
        for unit in units:
            child = Institution(
                name=unit,
                kind=InstitutionKind.RESEARCH_INSTITUTE,
                country_code=country,
                parent_id=parent.id,
                created_at=created,
                reviewed_at=created,
            )
            db.session.add(child)
            institutions.append(child)
        institutions.append(parent)
    db.session.flush()
    report.created_institutions = len(institutions)
    by_country: dict[str | None, list[int]] = {}
    for institution in institutions:
        if institution.kind != InstitutionKind.FACILITY:
            by_country.setdefault(institution.country_code, []).append(institution.id)
    orcids: set[str] = set()
    users: list[dict] = []
    serial = 0
    for country, count in per_country.items():
        for _ in range(count):
            serial += 1
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            orcid = None
            if rng.random() < 0.45:
                orcid = _orcid(rng)
                while orcid in orcids:
                    orcid = _orcid(rng)
                orcids.add(orcid)
            created = now - timedelta(days=rng.randint(1, 3650), minutes=rng.randint(0, 1440))
            users.append(
                {
                    "email": f"{_ascii(first)}.{_ascii(last)}.{serial}@people.{DEMO_DOMAIN}",
                    "name": f"{first} {last}",
                    "password_hash": password_hash,
                    "active": True,
                    "email_verified_at": created + timedelta(minutes=20),
                    "created_at": created,
                    "privacy_accepted_at": created,
                    "session_version": 1,
                    "institution_id": rng.choice(by_country[country]),
                    "orcid": orcid,
                }
            )
    db.session.execute(insert(User), users)
    report.created_users += len(users)
    for name, codes, description in (
        ("Members", (host, *MEMBERS), "Countries of the consortium that funds the facility"),
        ("Associates", ASSOCIATES, "Associate countries: access at members' conditions for a fee"),
        ("EU", tuple(EU), "Member states of the European Union"),
        ("Needs security approval", ("IR", "RU", "PK"), "Visitors need the access approver's sign-off"),
    ):
        group = CountryGroup(name=name, description=description, created_at=now)
        group.members = [CountryGroupMember(country_code=c) for c in sorted(set(codes))]
        db.session.add(group)


def _seed_logins(host: str, now: datetime, password_hash: str, report: PeopleReport) -> list[tuple[str, str]]:
    facility = db.session.scalar(
        select(Institution).where(Institution.kind == InstitutionKind.FACILITY).order_by(Institution.id).limit(1)
    )
    if facility is None:
        facility = Institution(
            name="Beamtime Demo Light Source",
            kind=InstitutionKind.FACILITY,
            country_code=host,
            created_at=now,
            reviewed_at=now,
        )
        db.session.add(facility)
        db.session.flush()
    university = db.session.scalar(
        select(Institution).where(Institution.kind == InstitutionKind.UNIVERSITY).order_by(Institution.id).limit(1)
    )
    logins = []
    for label, email, name, roles in DEMO_LOGINS:
        exists = db.session.scalar(select(User.id).where(func.lower(User.email) == email))
        if exists is None:
            home = university if label == "user" and university is not None else facility
            user = User(
                email=email,
                name=name,
                password_hash=password_hash,
                active=True,
                email_verified_at=now,
                created_at=now,
                privacy_accepted_at=now,
                session_version=1,
                institution_id=home.id,
            )
            user.roles = [RoleAssignment(role=role, scope_id=scope, granted_at=now) for role, scope in roles]
            db.session.add(user)
            report.created_users += 1
            _queue_welcome(email, name)
        logins.append((label, email))
    db.session.flush()
    return logins


def _queue_welcome(email: str, name: str) -> None:
    """A welcome e-mail per new demo log-in, so the outbox has something to send (`make run`
    prints it on the console: MAIL_BACKEND=console in development)."""
    outbox.enqueue(
        email,
        "Welcome to the Beamtime demo",
        f"Dear {name},\n\nyour demo account {email} is ready; the password is {DEMO_PASSWORD}.\n\n"
        "The Beamtime user office",
        idempotency_key=f"demo-welcome:{email}",
    )
