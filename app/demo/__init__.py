"""The demo facility for `make run` and `flask seed-demo`: idempotent, reproducible."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.demo import people
from app.demo.people import DEMO_PASSWORD

#: the demo facility's host country (ISO 3166-1 alpha-2)
HOST_COUNTRY = "CH"


@dataclass
class SeedResult:
    created: int = 0
    logins: list[tuple[str, str]] = field(default_factory=list)
    password: str = DEMO_PASSWORD


def seed(progress=None) -> SeedResult:
    """Create what is missing of the demo data; running it twice changes nothing."""
    result = SeedResult()
    result.logins = people.seed_people(host_country=HOST_COUNTRY, progress=progress)
    # facility: app.demo.facility is called here
    from app.accounts.services import find_user_by_email
    from app.demo import facility

    admin = find_user_by_email(f"admin@{people.DEMO_DOMAIN}")
    result.created += facility.seed(actor=admin, progress=progress)
    # proposals: calls of the demo cycles, full of proposals, and the demo user's drafts
    from flask import current_app

    from app.demo import proposals

    result.created += proposals.seed(actor=admin, upload_dir=current_app.config.get("UPLOAD_DIR"), progress=progress)
    # reviews: panels, and the older past call's review under way
    from app.demo import reviews

    result.created += reviews.seed(actor=admin, progress=progress)
    # long-term programmes: the older past cycle's long-term call, decided after its standard
    # call; its awards commit shifts on the newer past cycle and the coming one
    from app.demo import longterm

    result.created += longterm.seed(actor=admin, upload_dir=current_app.config.get("UPLOAD_DIR"), progress=progress)
    # scheduling: the cycles with awards solved; the past ones published and run, with delivered
    # shifts; the coming one (long-term programmes only so far) a draft of planned experiments
    from app.demo import scheduling

    result.created += scheduling.seed(actor=admin, progress=progress)
    # visits: courses, the access rule, visits of the experiments that exist (none is fine)
    from app.demo import visits

    result.created += visits.seed(actor=admin, progress=progress)
    # outcomes: experiment reports (some overdue) and publications of past cycles
    from app.demo import outcomes

    result.created += outcomes.seed(actor=admin, progress=progress)
    # guesthouse and front desk: rooms, beds of the visitors who asked, check-ins, feedback
    from app.demo import onsite

    result.created += onsite.seed(actor=admin, progress=progress)
    # reports: the directors' rollups built from all of the above (a few seconds at demo size)
    from app.reports import services as reports_services

    built = reports_services.rebuild_all()
    if progress is not None:
        progress.print(f"demo reports: {built.rows} rollup row(s)")
    return result
