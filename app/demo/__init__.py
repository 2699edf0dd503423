"""The demo facility for `make run` and `flask seed-demo`: idempotent, reproducible."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.accounts import services as accounts
from app.accounts.models import Role

DEMO_PASSWORD = "beamtime-demo-2027"
DEMO_LOGINS: list[tuple[str, str, list[Role]]] = [
    ("admin", "admin@beamtime.example", [Role.ADMIN]),
    ("user", "user@beamtime.example", []),
]


@dataclass
class SeedResult:
    created: int = 0
    logins: list[tuple[str, str]] = field(default_factory=list)
    password: str = DEMO_PASSWORD


def seed(progress=None) -> SeedResult:
    """Create what is missing of the demo data; running it twice changes nothing."""
    result = SeedResult()
    names = {"admin": "Ada Admin", "user": "Ugo User"}
    for label, email, roles in DEMO_LOGINS:
        if accounts.find_user_by_email(email) is None:
            accounts.create_user(
                email=email,
                name=names[label],
                password=DEMO_PASSWORD,
                verified=True,
                roles=[(r, None) for r in roles],
                check_strength=False,
            )
            result.created += 1
        result.logins.append((label, email))
    if progress is not None:
        progress.print(f"demo data: {result.created} new account(s)")
    from app.demo import facility as demo_facility

    result.created += demo_facility.seed(actor=accounts.find_user_by_email("admin@beamtime.example"), progress=progress)
    return result
