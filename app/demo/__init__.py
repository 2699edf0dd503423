"""The demo facility for `make run` and `flask seed-demo`: idempotent, reproducible."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.accounts import services as accounts
from app.accounts.models import Role
from app.core import outbox
from app.core.transaction import unit_of_work

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
            _queue_welcome(email, names[label])
        result.logins.append((label, email))
    if progress is not None:
        progress.print(f"demo data: {result.created} new account(s)")
    return result


def _queue_welcome(email: str, name: str) -> None:
    """A welcome e-mail per new demo account, so the outbox has something to send
    (`make run` prints it on the console: MAIL_BACKEND=console in development)."""
    with unit_of_work():
        outbox.enqueue(
            email,
            "Welcome to the Beamtime demo",
            f"Dear {name},\n\nyour demo account {email} is ready; the password is {DEMO_PASSWORD}.\n\n"
            "The Beamtime user office",
            idempotency_key=f"demo-welcome:{email}",
        )
