"""factory-boy factories: each builds only what a test asks for."""

from __future__ import annotations

import factory

from app.accounts import passwords
from app.accounts.models import (
    ApiToken,
    CountryGroup,
    CountryGroupMember,
    Institution,
    InstitutionKind,
    Role,
    RoleAssignment,
    User,
)
from app.core.db import utcnow
from app.extensions import db

PASSWORD = "correct-horse-battery-42"


class _Base(factory.alchemy.SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731 - the session swapped in by the fixture
        sqlalchemy_session_persistence = "flush"


class UserFactory(_Base):
    class Meta:
        model = User

    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"person{n}@example.org")
    password_hash = factory.LazyFunction(lambda: passwords.hash_password(PASSWORD))
    email_verified_at = factory.LazyFunction(utcnow)
    active = True
    session_version = 1

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        for item in extracted or []:
            role, scope = (item, None) if isinstance(item, Role) else item
            self.roles.append(RoleAssignment(role=role, scope_id=scope))
        if extracted:
            db.session.flush()


class InstitutionFactory(_Base):
    class Meta:
        model = Institution

    name = factory.Sequence(lambda n: f"Institute of Examples {n}")
    kind = InstitutionKind.UNIVERSITY
    country_code = "FR"
    reviewed_at = factory.LazyFunction(utcnow)


def make_institution(**kwargs) -> Institution:
    return InstitutionFactory(**kwargs)


def make_country_group(name: str = "Members", codes: tuple[str, ...] = ("CH", "FR"), **kwargs) -> CountryGroup:
    group = CountryGroup(name=name, description=kwargs.pop("description", ""), **kwargs)
    group.members = [CountryGroupMember(country_code=c) for c in codes]
    db.session.add(group)
    db.session.flush()
    return group


def make_user(**kwargs) -> User:
    return UserFactory(**kwargs)


def login(client, user: User, password: str = PASSWORD):
    """Log in through the real form; returns the response."""
    return client.post("/login", data={"email": user.email, "password": password}, follow_redirects=False)


__all__ = [
    "ApiToken",
    "PASSWORD",
    "InstitutionFactory",
    "UserFactory",
    "login",
    "make_country_group",
    "make_institution",
    "make_user",
]
