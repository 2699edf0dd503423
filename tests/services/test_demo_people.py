from sqlalchemy import func, select

from app.accounts import identifiers, queries
from app.accounts.models import CountryGroup, Institution, InstitutionKind, Role, User
from app.demo import people
from app.extensions import db


def _count(query) -> int:
    return db.session.scalar(select(func.count()).select_from(query.subquery()))


def test_demo_people_have_the_promised_shape_and_seeding_twice_changes_nothing():
    logins = people.seed_people(host_country="CH")
    by_country = queries.count_users_by_country()
    users = sum(by_country.values())
    assert 300 <= users <= 600
    assert 55 <= len([c for c in by_country if c is not None]) <= 65
    assert 0.30 <= by_country["CH"] / users <= 0.36
    tail = sorted((n for c, n in by_country.items() if c not in (None, "CH")), reverse=True)
    assert tail[0] > 5 * tail[-1]  # a long tail, not an even spread
    assert 200 <= _count(select(Institution)) <= 500
    assert _count(select(Institution).where(Institution.kind == InstitutionKind.INTERNATIONAL_ORGANISATION)) >= 5
    assert _count(select(Institution).where(Institution.parent_id.is_not(None))) >= 3
    orcids = list(db.session.scalars(select(User.orcid).where(User.orcid.is_not(None))))
    assert len(orcids) > users // 4 and all(identifiers.is_valid_orcid(o) for o in orcids)
    members = db.session.scalar(select(CountryGroup).where(CountryGroup.name == "Members"))
    assert "CH" in members.codes and len(members.codes) >= 8
    assert {label for label, _ in logins} >= {"user", "admin", "director", "user office", "reviewer"}
    admin = db.session.scalar(select(User).where(User.email == "admin@beamtime.example"))
    assert admin.has_role(Role.ADMIN) and admin.email_verified_at is not None

    totals = (_count(select(User)), _count(select(Institution)), _count(select(CountryGroup)))
    names = list(db.session.scalars(select(User.name).order_by(User.id).limit(20)))
    people.seed_people(host_country="CH")
    assert (_count(select(User)), _count(select(Institution)), _count(select(CountryGroup))) == totals
    assert list(db.session.scalars(select(User.name).order_by(User.id).limit(20))) == names
