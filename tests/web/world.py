"""The World of the permission matrix: one object of each kind, and a person for each persona.

`build_world(app)` makes, inside the test's rolled-back transaction:
- one user per persona of `permission_matrix.PERSONAS` (but "anonymous"), with the persona's
  role (scoped roles get scope_id 1) and a bearer token each (`world.bearer[persona]`);
- the objects the matrix entries point at: `world.job` (a job request made by "user"),
  `world.token` (a token of "user", distinct from their bearer token), `world.institution`
  and `world.country_group` (reference data staff may edit), `world.role_assignment` (the
  director persona's role, for the revoke route).

Domains add their objects in their section below (an attribute each, made with the
services, owned by "user" where ownership matters) and use them in MATRIX entries as
`args=lambda w: {"proposal_id": w.proposal.id}`.

Objects stay readable once the building app context is gone (their columns; lazy
relationships do not load: store what the entries need).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.web.permission_matrix import PERSONAS, ROLES

SCOPED = {"reviewer", "panel_chair", "instrument_scientist"}


@dataclass
class World:
    users: dict[str, Any] = field(default_factory=dict)  # persona → User (not "anonymous")
    bearer: dict[str, str] = field(default_factory=dict)  # persona → token secret
    job: Any = None
    token: Any = None
    # --- accounts ---
    institution: Any = None
    country_group: Any = None
    role_assignment: Any = None
    # --- facility (tests/factories_facility.add_facility_objects) ---
    facility: Any = None
    instrument: Any = None
    cycle: Any = None
    mode: Any = None
    contribution: Any = None
    downtime: Any = None
    mode_period: Any = None
    block: Any = None
    override: Any = None
    # --- proposals (tests/factories_proposals.add_proposal_objects) ---
    call: Any = None
    proposal: Any = None
    co_proposer: Any = None
    request: Any = None
    sample: Any = None
    date: Any = None
    invitation: Any = None
    invitation_token: Any = None
    # --- reviews (tests/factories_reviews.add_review_objects) ---
    panel: Any = None
    review_call: Any = None
    review_proposal: Any = None
    technical_review: Any = None
    assignment: Any = None
    award: Any = None
    decision: Any = None
    # --- scheduling ---
    # --- visits (tests/factories_visits.add_visit_objects) ---
    experiment: Any = None
    visit: Any = None
    visit_invitation_token: Any = None
    access_rule: Any = None
    course: Any = None
    # --- scheduling calendars (tests/factories_scheduling.add_schedule_objects) ---
    running_experiment: Any = None
    feed: Any = None
    feed_secret: str = ""
    user_feed_secret: str = ""
    # --- scheduling workflow (tests/factories_scheduling.add_scheduling_objects) ---
    workflow_booking: Any = None
    schedule_cycle: Any = None
    draft: Any = None
    solve_job: Any = None
    # --- visits ---
    # --- outcomes (tests/factories_outcomes.add_outcome_objects) ---
    ended_experiment: Any = None
    publication: Any = None
    # --- guesthouse and front desk (tests/factories_onsite.add_onsite_objects) ---
    guest_room: Any = None
    bed_booking: Any = None
    approved_visit: Any = None

    def user(self, persona: str) -> Any:
        return self.users[persona]


def build_world(app) -> World:
    from app.accounts import services as accounts
    from app.accounts.models import ApiToken, Role
    from app.core import jobrequests
    from app.core.db import utcnow
    from app.extensions import db
    from tests.dbstate import commit_and_keep
    from tests.factories import make_user
    from tests.factories_facility import add_facility_objects
    from tests.factories_proposals import add_proposal_objects
    from tests.factories_reviews import add_review_objects
    from tests.factories_scheduling import add_schedule_objects

    world = World()
    with app.app_context():
        now = utcnow()
        for persona in PERSONAS:
            if persona == "anonymous":
                continue
            roles = []
            if persona in ROLES:
                roles = [(Role(persona), 1 if persona in SCOPED else None)]
            user = make_user(name=f"Persona {persona}", email=f"{persona}@matrix.example.org", roles=roles)
            _token, secret = accounts.create_token(user.id, "matrix bearer", actor=user, now=now)
            world.users[persona] = user
            world.bearer[persona] = secret
        owner = world.users["user"]
        world.job = jobrequests.request_job("outbox.send", actor=owner, now=now)
        world.token, _secret = accounts.create_token(owner.id, "matrix target", actor=owner, now=now)

        # --- accounts ---
        staff = world.users["user_office"]
        world.institution = accounts.create_institution(
            accounts.InstitutionInput("Matrix University", "university", "FR"), actor=staff, now=now
        )
        world.country_group = accounts.create_country_group("Matrix members", ["FR", "DE"], actor=staff, now=now)
        world.role_assignment = world.users["director"].roles[0]
        # --- facility ---
        add_facility_objects(world, actor=staff)
        # --- proposals ---
        add_proposal_objects(world, owner=owner, other=world.users["other"], actor=staff)
        # --- reviews ---
        add_review_objects(world, owner=owner, actor=staff)
        # --- scheduling ---
        add_schedule_objects(world, owner=owner, actor=staff)
        from tests.factories_scheduling import add_scheduling_objects

        add_scheduling_objects(world, actor=staff)
        # --- visits ---
        from tests.factories_visits import add_visit_objects

        add_visit_objects(world, owner=owner, actor=staff)
        # --- outcomes ---
        from tests.factories_outcomes import add_outcome_objects

        add_outcome_objects(world, owner=owner, actor=staff)
        # --- guesthouse and front desk ---
        from tests.factories_onsite import add_onsite_objects

        add_onsite_objects(world, owner=owner, actor=staff)

        # A token used within the last minute is not touched again (accounts.user_for_token), so
        # a refused API call leaves every table as it was and the fingerprint stays strict.
        for token in db.session.scalars(db.select(ApiToken)):
            token.last_used_at = now
        commit_and_keep()  # readable after the app context ends
    return world
