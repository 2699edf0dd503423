"""factory-boy factories: each builds only what a test asks for."""

from __future__ import annotations

import factory

from app.accounts import passwords
from app.accounts.models import ApiToken, Role, RoleAssignment, User
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


def make_user(**kwargs) -> User:
    return UserFactory(**kwargs)


def login(client, user: User, password: str = PASSWORD):
    """Log in through the real form; returns the response."""
    return client.post("/login", data={"email": user.email, "password": password}, follow_redirects=False)


__all__ = ["ApiToken", "PASSWORD", "UserFactory", "login", "make_user"]
