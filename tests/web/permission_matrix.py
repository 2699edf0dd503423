"""The permission matrix: who may call every route of the app (DESIGN.md §8).

`test_permission_matrix.py` walks the app's URL map and the OpenAPI document: a route without
an entry here fails the suite. For each entry it calls the route as every persona and checks
that the allowed ones get in and the others are refused (login redirect, 401, 403 or 404)
with no change to any table.

Personas: "anonymous"; "user" (a plain registered person, who owns the objects the World
builds for ownership rules); "other" (another plain person); one persona per role of
DESIGN.md §1, named after the role. `ANYONE` = every persona including anonymous;
`LOGGED_IN` = every persona but anonymous. API routes are called with each persona's
bearer token instead of the session.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

ROLES = (
    "reviewer",
    "panel_chair",
    "instrument_scientist",
    "user_office",
    "access_approver",
    "safety_reviewer",
    "director",
    "admin",
)
PERSONAS = ("anonymous", "user", "other", *ROLES)
LOGGED_IN = frozenset(PERSONAS) - {"anonymous"}
ANYONE = frozenset(PERSONAS)
STAFF = frozenset({"user_office", "admin"})


@dataclass(frozen=True)
class Entry:
    allow: frozenset[str]
    #: URL arguments, built from the World (objects made for the matrix test)
    args: Callable[[Any], dict[str, Any]] = field(default=lambda world: {})
    #: form or JSON body for writes
    data: Callable[[Any], dict[str, Any]] = field(default=lambda world: {})
    #: statuses that count as "got in" for allowed personas (default: anything but 401/403/404)
    ok: frozenset[int] | None = None
    #: a write that an allowed persona may run only once per test (the test then checks only refusals)
    once: bool = False


def _pdf_available() -> bool:
    from app.reports.pdf import available

    return available()


def allow(*personas: str | frozenset[str]) -> frozenset[str]:
    out: set[str] = set()
    for p in personas:
        out |= {p} if isinstance(p, str) else set(p)
    unknown = out - set(PERSONAS)
    assert not unknown, f"unknown personas {unknown}"
    return frozenset(out)


MATRIX: dict[tuple[str, str], Entry] = {
    # web
    ("web.home", "GET"): Entry(ANYONE),
    ("web.healthz", "GET"): Entry(ANYONE),
    ("web.job", "GET"): Entry(allow("user", STAFF), args=lambda w: {"job_id": w.job.id}),
    ("web.job_progress", "GET"): Entry(allow("user", STAFF), args=lambda w: {"job_id": w.job.id}),
    ("web.outbox", "GET"): Entry(STAFF),
    ("web.outbox_send", "POST"): Entry(STAFF, ok=frozenset({302})),
    ("static", "GET"): Entry(ANYONE, args=lambda w: {"filename": "css/beamtime.css"}),
    # accounts
    ("accounts.login", "GET"): Entry(ANYONE),
    ("accounts.login", "POST"): Entry(
        ANYONE, data=lambda w: {"email": "nobody@example.org", "password": "x"}, ok=frozenset({200, 302, 422})
    ),
    ("accounts.logout", "POST"): Entry(ANYONE, ok=frozenset({302})),
    ("accounts.profile", "GET"): Entry(LOGGED_IN),
    ("accounts.tokens", "GET"): Entry(LOGGED_IN),
    ("accounts.tokens", "POST"): Entry(LOGGED_IN, data=lambda w: {"name": "matrix"}),
    ("accounts.revoke_token", "POST"): Entry(
        allow("user", "admin"), args=lambda w: {"token_id": w.token.id}, once=True
    ),
    # accounts (issue 3) — the World provides: institution, country_group (objects staff may edit),
    # role_assignment (a role of some persona, for the revoke route), token (the "user" persona's)
    ("accounts.register", "GET"): Entry(ANYONE),
    ("accounts.register", "POST"): Entry(
        ANYONE, data=lambda w: {"email": "not-an-address"}, ok=frozenset({200, 302, 422})
    ),
    ("accounts.privacy", "GET"): Entry(ANYONE),
    ("accounts.institution_search", "GET"): Entry(ANYONE),
    ("accounts.verify_email", "GET"): Entry(ANYONE, args=lambda w: {"token": "not-a-token"}, ok=frozenset({400})),
    ("accounts.resend_verification", "POST"): Entry(
        ANYONE, data=lambda w: {"email": "nobody@example.org"}, ok=frozenset({302})
    ),
    ("accounts.forgot_password", "GET"): Entry(ANYONE),
    ("accounts.forgot_password", "POST"): Entry(
        ANYONE, data=lambda w: {"email": "nobody@example.org"}, ok=frozenset({302})
    ),
    ("accounts.reset_password", "GET"): Entry(ANYONE, args=lambda w: {"token": "not-a-token"}, ok=frozenset({400})),
    ("accounts.reset_password", "POST"): Entry(ANYONE, args=lambda w: {"token": "not-a-token"}, ok=frozenset({400})),
    ("accounts.edit_profile", "GET"): Entry(LOGGED_IN),
    ("accounts.edit_profile", "POST"): Entry(LOGGED_IN, data=lambda w: {"name": ""}, ok=frozenset({422})),
    ("accounts.change_email", "GET"): Entry(LOGGED_IN),
    ("accounts.change_email", "POST"): Entry(LOGGED_IN, data=lambda w: {"email": "x"}, ok=frozenset({422})),
    ("accounts.change_password", "GET"): Entry(LOGGED_IN),
    ("accounts.change_password", "POST"): Entry(
        LOGGED_IN, data=lambda w: {"current_password": "wrong"}, ok=frozenset({422})
    ),
    ("accounts.my_data", "GET"): Entry(LOGGED_IN),
    ("accounts.close_account", "GET"): Entry(LOGGED_IN),
    ("accounts.close_account", "POST"): Entry(LOGGED_IN, data=lambda w: {"password": "wrong"}, ok=frozenset({422})),
    ("accounts.people", "GET"): Entry(allow("admin")),
    ("accounts.person", "GET"): Entry(allow("admin"), args=lambda w: {"user_id": w.token.user_id}),
    ("accounts.grant_role", "POST"): Entry(
        allow("admin"), args=lambda w: {"user_id": w.token.user_id}, data=lambda w: {"role": "director"}, once=True
    ),
    ("accounts.revoke_role", "POST"): Entry(
        allow("admin"),
        args=lambda w: {"user_id": w.role_assignment.user_id, "assignment_id": w.role_assignment.id},
        once=True,
    ),
    ("accounts.institutions", "GET"): Entry(STAFF),
    ("accounts.institution_new", "GET"): Entry(STAFF),
    ("accounts.institution_new", "POST"): Entry(STAFF, data=lambda w: {"name": ""}, ok=frozenset({422})),
    ("accounts.institution_edit", "GET"): Entry(STAFF, args=lambda w: {"institution_id": w.institution.id}),
    ("accounts.institution_edit", "POST"): Entry(
        STAFF, args=lambda w: {"institution_id": w.institution.id}, data=lambda w: {"name": ""}, ok=frozenset({422})
    ),
    ("accounts.institution_review", "POST"): Entry(
        STAFF, args=lambda w: {"institution_id": w.institution.id}, ok=frozenset({302}), once=True
    ),
    ("accounts.institution_merge", "POST"): Entry(
        STAFF,
        args=lambda w: {"institution_id": w.institution.id},
        data=lambda w: {"survivor_id": ""},
        ok=frozenset({422}),
    ),
    ("accounts.country_groups", "GET"): Entry(STAFF),
    ("accounts.country_groups", "POST"): Entry(STAFF, data=lambda w: {"name": ""}, ok=frozenset({422})),
    ("accounts.country_group_edit", "GET"): Entry(STAFF, args=lambda w: {"group_id": w.country_group.id}),
    ("accounts.country_group_edit", "POST"): Entry(
        STAFF, args=lambda w: {"group_id": w.country_group.id}, data=lambda w: {"name": ""}, ok=frozenset({422})
    ),
    ("accounts.country_group_delete", "POST"): Entry(
        STAFF, args=lambda w: {"group_id": w.country_group.id}, ok=frozenset({302}), once=True
    ),
    # api
    ("api-docs.openapi_json", "GET"): Entry(ANYONE),
    ("api.docs", "GET"): Entry(ANYONE),
    ("api_me.me", "GET"): Entry(LOGGED_IN),
    # facility (issue 3): the World gets its objects from tests.factories_facility.add_facility_objects
    # (facility, instrument, cycle "2090-I", mode, contribution, downtime, mode_period, block, override).
    ("facility.settings_page", "GET"): Entry(allow(STAFF, "director")),
    ("facility.settings_update", "POST"): Entry(
        allow("admin"),
        data=lambda w: {
            "name": "Matrix facility",
            "host_country": "CH",
            "timezone": "Europe/Zurich",
            "shift_pattern": "00:00, 08:00, 16:00",
            "letterhead": "",
        },
        ok=frozenset({302}),
    ),
    ("facility.partitions_update", "POST"): Entry(
        allow("admin"),
        data=lambda w: {"in_house": "10", "rapid_access": "5", "proprietary": "0"},
        ok=frozenset({302}),
    ),
    ("facility.contributions", "GET"): Entry(allow(STAFF, "director")),
    ("facility.contribution_set", "POST"): Entry(
        STAFF, data=lambda w: {"year": "2091", "country": "DE", "share": "1"}, ok=frozenset({302})
    ),
    ("facility.contribution_remove", "POST"): Entry(
        STAFF, args=lambda w: {"contribution_id": w.contribution.id}, ok=frozenset({302}), once=True
    ),
    ("facility.instruments", "GET"): Entry(LOGGED_IN),
    ("facility.instrument_new", "GET"): Entry(STAFF),
    ("facility.instrument_new", "POST"): Entry(
        STAFF,
        data=lambda w: {
            "code": "MATRIX2",
            "name": "Matrix two",
            "start_shifts": ["0"],
            "start_weekdays": ["0"],
            "changeover_shifts": "0",
            "min_session_shifts": "1",
        },
        ok=frozenset({302, 422}),  # the second allowed persona finds the code taken
    ),
    ("facility.instrument", "GET"): Entry(LOGGED_IN, args=lambda w: {"instrument_id": w.instrument.id}),
    ("facility.instrument", "POST"): Entry(
        STAFF,
        args=lambda w: {"instrument_id": w.instrument.id},
        data=lambda w: {
            "code": w.instrument.code,
            "name": "Renamed by the matrix",
            "start_shifts": ["0"],
            "start_weekdays": ["0"],
            "changeover_shifts": "0",
            "min_session_shifts": "1",
            "active": "y",
        },
        ok=frozenset({302}),
    ),
    ("facility.cycles", "GET"): Entry(LOGGED_IN),
    ("facility.cycle_create", "POST"): Entry(
        STAFF,
        data=lambda w: {"name": "2091-I", "starts_on": "2091-03-01", "ends_on": "2091-07-31"},
        ok=frozenset({302, 422}),  # the second allowed persona finds the name taken
    ),
    ("facility.modes", "GET"): Entry(allow(STAFF, "director", "instrument_scientist")),
    ("facility.mode_create", "POST"): Entry(
        STAFF, data=lambda w: {"code": "matrix-new", "name": "Matrix new"}, ok=frozenset({302, 422})
    ),
    ("facility.mode_toggle", "POST"): Entry(STAFF, args=lambda w: {"mode_id": w.mode.id}, ok=frozenset({302})),
    ("facility.calendar", "GET"): Entry(
        allow(STAFF, "director", "instrument_scientist"), args=lambda w: {"name": w.cycle.name}
    ),
    ("facility.downtime_add", "POST"): Entry(
        STAFF, args=lambda w: {"name": w.cycle.name}, ok=frozenset({302, 409, 422})
    ),
    ("facility.period_add", "POST"): Entry(STAFF, args=lambda w: {"name": w.cycle.name}, ok=frozenset({302, 409, 422})),
    ("facility.block_add", "POST"): Entry(STAFF, args=lambda w: {"name": w.cycle.name}, ok=frozenset({302, 409, 422})),
    ("facility.downtime_remove", "POST"): Entry(
        STAFF, args=lambda w: {"name": w.cycle.name, "item_id": w.downtime.id}, ok=frozenset({302}), once=True
    ),
    ("facility.period_remove", "POST"): Entry(
        STAFF, args=lambda w: {"name": w.cycle.name, "item_id": w.mode_period.id}, ok=frozenset({302}), once=True
    ),
    ("facility.block_remove", "POST"): Entry(
        STAFF, args=lambda w: {"name": w.cycle.name, "item_id": w.block.id}, ok=frozenset({302}), once=True
    ),
    ("facility.capacity", "GET"): Entry(
        allow(STAFF, "director", "instrument_scientist"), args=lambda w: {"name": w.cycle.name}
    ),
    ("facility.capacity_override", "POST"): Entry(
        STAFF,
        args=lambda w: {"name": w.cycle.name, "instrument_id": w.instrument.id},
        data=lambda w: {f"o{w.instrument.id}-shifts": "7", f"o{w.instrument.id}-reason": "matrix"},
        ok=frozenset({302}),
    ),
    ("facility.capacity_clear", "POST"): Entry(
        STAFF,
        args=lambda w: {"name": w.cycle.name, "instrument_id": w.instrument.id},
        ok=frozenset({302}),
        once=True,
    ),
    ("api_instruments.list_instruments", "GET"): Entry(LOGGED_IN),
    ("api_cycles.list_cycles", "GET"): Entry(LOGGED_IN),
    ("api_cycles.cycle_capacity", "GET"): Entry(
        allow(STAFF, "director", "instrument_scientist"), args=lambda w: {"name": w.cycle.name}
    ),
    ("api_countries.countries", "GET"): Entry(LOGGED_IN),
    # proposals (issue 4): the World gets its objects from tests.factories_proposals.add_proposal_objects
    # (call open now, proposal: a draft of "user" with a stored science case, request, sample, date,
    # co_proposer, and an invitation to "other"'s address with its token).
    ("proposals.calls", "GET"): Entry(LOGGED_IN),
    ("proposals.mine", "GET"): Entry(LOGGED_IN),
    ("proposals.create", "POST"): Entry(LOGGED_IN, args=lambda w: {"call_id": w.call.id}, ok=frozenset({302})),
    ("proposals.edit", "GET"): Entry(allow("user", STAFF, "director"), args=lambda w: {"proposal_id": w.proposal.id}),
    ("proposals.print_view", "GET"): Entry(
        allow("user", STAFF, "director"), args=lambda w: {"proposal_id": w.proposal.id}
    ),
    ("proposals.science_case", "GET"): Entry(
        allow("user", STAFF, "director"), args=lambda w: {"proposal_id": w.proposal.id}
    ),
    ("proposals.autosave", "POST"): Entry(
        allow("user"), args=lambda w: {"proposal_id": w.proposal.id}, data=lambda w: {"abstract": "matrix"}
    ),
    ("proposals.save_text", "POST"): Entry(
        allow("user"),
        args=lambda w: {"proposal_id": w.proposal.id},
        data=lambda w: {"title": "Matrix", "abstract": "matrix", "subject_area": "chemistry"},
        ok=frozenset({302}),
    ),
    ("proposals.upload", "POST"): Entry(allow("user"), args=lambda w: {"proposal_id": w.proposal.id}),
    ("proposals.add_request", "POST"): Entry(
        allow("user"),
        args=lambda w: {"proposal_id": w.proposal.id},
        data=lambda w: {"req-instrument_id": str(w.call.instruments[0].instrument_id), "req-shifts": "3"},
    ),
    ("proposals.remove_request", "POST"): Entry(
        allow("user"), args=lambda w: {"proposal_id": w.proposal.id, "request_id": w.request.id}, once=True
    ),
    ("proposals.add_sample", "POST"): Entry(
        allow("user"),
        args=lambda w: {"proposal_id": w.proposal.id},
        data=lambda w: {"smp-name": "Matrix sample", "smp-form": "powder", "smp-hazards": "none"},
    ),
    ("proposals.remove_sample", "POST"): Entry(
        allow("user"), args=lambda w: {"proposal_id": w.proposal.id, "sample_id": w.sample.id}, once=True
    ),
    ("proposals.add_date", "POST"): Entry(allow("user"), args=lambda w: {"proposal_id": w.proposal.id}),
    ("proposals.remove_date", "POST"): Entry(
        allow("user"), args=lambda w: {"proposal_id": w.proposal.id, "date_id": w.date.id}, once=True
    ),
    ("proposals.add_link", "POST"): Entry(
        allow("user"), args=lambda w: {"proposal_id": w.proposal.id}, data=lambda w: {"lnk-reference": "NONE-0001"}
    ),
    ("proposals.invite", "POST"): Entry(
        allow("user"), args=lambda w: {"proposal_id": w.proposal.id}, data=lambda w: {"inv-email": "x@example.org"}
    ),
    ("proposals.revoke_invitation", "POST"): Entry(
        allow("user"),
        args=lambda w: {"proposal_id": w.proposal.id, "invitation_id": w.invitation.id},
        ok=frozenset({302}),
        once=True,
    ),
    ("proposals.hand_over", "POST"): Entry(
        allow("user"),
        args=lambda w: {"proposal_id": w.proposal.id, "user_id": w.co_proposer.id},
        ok=frozenset({302}),
        once=True,
    ),
    ("proposals.remove_member", "POST"): Entry(
        allow("user"),
        args=lambda w: {"proposal_id": w.proposal.id, "user_id": w.co_proposer.id},
        ok=frozenset({302}),
        once=True,
    ),
    ("proposals.submit", "POST"): Entry(
        allow("user"), args=lambda w: {"proposal_id": w.proposal.id}, ok=frozenset({302, 409}), once=True
    ),
    ("proposals.withdraw", "POST"): Entry(
        allow("user"), args=lambda w: {"proposal_id": w.proposal.id}, ok=frozenset({302}), once=True
    ),
    ("proposals.clone", "POST"): Entry(
        allow("user"), args=lambda w: {"proposal_id": w.proposal.id}, ok=frozenset({302}), once=True
    ),
    # the token is the secret: every logged-in person sees the invitation; only "other" (its address) joins
    ("proposals.invitation", "GET"): Entry(LOGGED_IN, args=lambda w: {"token": w.invitation_token}),
    ("proposals.invitation", "POST"): Entry(
        allow("other"), args=lambda w: {"token": w.invitation_token}, ok=frozenset({302}), once=True
    ),
    ("proposals.staff_calls", "GET"): Entry(allow(STAFF, "director")),
    ("proposals.call_proposals", "GET"): Entry(allow(STAFF, "director"), args=lambda w: {"call_id": w.call.id}),
    ("proposals.export", "GET"): Entry(allow(STAFF, "director"), args=lambda w: {"call_id": w.call.id, "fmt": "csv"}),
    # reviews (issue 5): the World gets its objects from tests.factories_reviews.add_review_objects;
    # the decision is staged, not released: its PI ("user") gets 404 like everyone but staff and directors
    ("reviews.mine", "GET"): Entry(LOGGED_IN),
    ("reviews.expertise", "POST"): Entry(allow("reviewer"), data=lambda w: {"keywords": "xafs, catalysis"}),
    ("reviews.grade", "GET"): Entry(allow("reviewer"), args=lambda w: {"assignment_id": w.assignment.id}),
    ("reviews.submit_grade", "POST"): Entry(
        allow("reviewer"),
        args=lambda w: {"assignment_id": w.assignment.id},
        data=lambda w: {"grade": "4", "comment_for_panel": "Sound."},
    ),
    ("reviews.declare_conflict", "POST"): Entry(
        allow("reviewer"),
        args=lambda w: {"proposal_id": w.review_proposal.id},
        data=lambda w: {"reason": "matrix"},
        once=True,
    ),
    ("reviews.bid", "POST"): Entry(
        allow("reviewer"),
        args=lambda w: {"proposal_id": w.review_proposal.id},
        data=lambda w: {f"b{w.review_proposal.id}-level": "eager"},
    ),
    ("reviews.technical_queue", "GET"): Entry(allow("instrument_scientist", STAFF)),
    ("reviews.technical_form", "GET"): Entry(
        allow("instrument_scientist", STAFF), args=lambda w: {"technical_review_id": w.technical_review.id}
    ),
    ("reviews.submit_technical", "POST"): Entry(
        allow("instrument_scientist"),
        args=lambda w: {"technical_review_id": w.technical_review.id},
        data=lambda w: {"feasibility": "feasible", "recommended_shifts": "4", "comment_for_panel": "ok"},
    ),
    ("reviews.meeting", "GET"): Entry(
        allow(STAFF, "director", "panel_chair"), args=lambda w: {"call_id": w.review_call.id, "panel_id": w.panel.id}
    ),
    ("reviews.ranking_export", "GET"): Entry(
        allow(STAFF, "director", "panel_chair"),
        args=lambda w: {"call_id": w.review_call.id, "panel_id": w.panel.id, "fmt": "csv"},
    ),
    ("reviews.panel_decision", "POST"): Entry(
        allow("panel_chair"),
        args=lambda w: {"proposal_id": w.review_proposal.id},
        data=lambda w: {
            f"p{w.review_proposal.id}-final_grade": "4",
            f"p{w.review_proposal.id}-final_rank": "1",
            f"p{w.review_proposal.id}-justification": "j",
            f"p{w.review_proposal.id}-comment_for_pi": "c",
        },
    ),
    ("reviews.staff_calls", "GET"): Entry(allow(STAFF, "director")),
    ("reviews.start", "POST"): Entry(allow(STAFF), args=lambda w: {"call_id": w.call.id}),
    ("reviews.panels", "GET"): Entry(allow(STAFF)),
    ("reviews.create_panel", "POST"): Entry(
        allow(STAFF), data=lambda w: {"new-name": "Matrix biology", "new-subject_areas": "biology"}
    ),
    ("reviews.update_panel", "POST"): Entry(
        allow(STAFF),
        args=lambda w: {"panel_id": w.panel.id},
        data=lambda w: {
            f"panel{w.panel.id}-name": "Matrix chemistry panel",
            f"panel{w.panel.id}-subject_areas": "chemistry",
        },
    ),
    ("reviews.assignment", "GET"): Entry(allow(STAFF), args=lambda w: {"call_id": w.review_call.id}),
    ("reviews.run_assignment", "POST"): Entry(
        allow(STAFF), args=lambda w: {"call_id": w.review_call.id, "panel_id": w.panel.id}
    ),
    ("reviews.override", "POST"): Entry(
        allow(STAFF),
        args=lambda w: {"proposal_id": w.review_proposal.id},
        data=lambda w: {
            f"o{w.review_proposal.id}-reviewer_id": str(w.users["reviewer"].id),
            f"o{w.review_proposal.id}-reason": "r",
        },
    ),
    ("reviews.allocation", "GET"): Entry(allow(STAFF, "director"), args=lambda w: {"call_id": w.review_call.id}),
    ("reviews.allocation_export", "GET"): Entry(
        allow(STAFF, "director"), args=lambda w: {"call_id": w.review_call.id, "fmt": "xlsx"}
    ),
    ("reviews.allocate", "POST"): Entry(allow(STAFF), args=lambda w: {"call_id": w.review_call.id}),
    ("reviews.edit_award", "POST"): Entry(
        allow(STAFF),
        args=lambda w: {"award_id": w.award.id},
        data=lambda w: {f"a{w.award.id}-shifts": "5", f"a{w.award.id}-reason": "matrix"},
    ),
    ("reviews.withdraw_award", "POST"): Entry(
        allow(STAFF), args=lambda w: {"award_id": w.award.id}, data=lambda w: {"reason": "matrix"}, once=True
    ),
    ("reviews.sign_off", "POST"): Entry(
        allow(STAFF), args=lambda w: {"call_id": w.review_call.id}, data=lambda w: {"notify_on": "2091-01-10"}
    ),
    ("reviews.decision", "GET"): Entry(allow(STAFF, "director"), args=lambda w: {"proposal_id": w.review_proposal.id}),
    ("api_allocation.call_allocation", "GET"): Entry(allow(STAFF), args=lambda w: {"call_id": w.review_call.id}),
    ("proposals.call_new", "GET"): Entry(STAFF, args=lambda w: {"cycle_id": w.call.cycle_id}),
    ("proposals.call_new", "POST"): Entry(
        STAFF, args=lambda w: {"cycle_id": w.call.cycle_id}, data=lambda w: {"title": ""}, ok=frozenset({422})
    ),
    ("proposals.call_edit", "GET"): Entry(STAFF, args=lambda w: {"call_id": w.call.id}),
    ("proposals.call_edit", "POST"): Entry(
        STAFF, args=lambda w: {"call_id": w.call.id}, data=lambda w: {"title": ""}, ok=frozenset({422})
    ),
    # proposals API: a draft has no reference, so the World's proposal is addressed as id:<id>
    ("api_calls.list_calls", "GET"): Entry(LOGGED_IN),
    ("api_proposals.list_proposals", "GET"): Entry(LOGGED_IN),
    ("api_proposals.create_proposal", "POST"): Entry(
        LOGGED_IN, data=lambda w: {"call_id": w.call.id, "title": "Matrix draft"}, ok=frozenset({201})
    ),
    ("api_proposals.get_proposal", "GET"): Entry(
        allow("user", STAFF, "director"), args=lambda w: {"key": f"id:{w.proposal.id}"}, ok=frozenset({200})
    ),
    ("api_proposals.update_proposal", "PATCH"): Entry(
        allow("user"),
        args=lambda w: {"key": f"id:{w.proposal.id}"},
        data=lambda w: {"abstract": "Matrix abstract"},
        ok=frozenset({200}),
    ),
    ("api_proposals.submit_proposal", "POST"): Entry(
        allow("user"), args=lambda w: {"key": f"id:{w.proposal.id}"}, ok=frozenset({200, 409}), once=True
    ),
    # scheduling (issue 6): uses the facility objects of the World (cycle "2090-I", instrument)
    ("scheduling.book", "GET"): Entry(STAFF, args=lambda w: {"name": w.cycle.name}),
    ("scheduling.book_post", "POST"): Entry(
        STAFF,
        args=lambda w: {"name": w.cycle.name},
        data=lambda w: {
            "instrument_id": str(w.instrument.id),
            "kind": "maintenance",
            "day": "2090-05-04",
            "shift": "0",
            "length": "2",
            "title": "matrix",
        },
        ok=frozenset({302, 409, 422}),
    ),
    # the World's award (reviews) belongs to "user" as PI; its decision is not released, so the PI
    # does not see it yet (404) and staff are refused the booking (409: not a released rapid-access award)
    ("scheduling.book_session", "GET"): Entry(STAFF, args=lambda w: {"award_id": w.award.id}),
    ("scheduling.book_session_post", "POST"): Entry(
        STAFF,
        args=lambda w: {"award_id": w.award.id},
        data=lambda w: {"day": "2091-03-10", "shift": "0", "length": "1"},
        ok=frozenset({302, 409, 422}),
    ),
    ("scheduling.awards", "GET"): Entry(
        allow(STAFF, "director", "instrument_scientist"), args=lambda w: {"name": w.cycle.name}
    ),
    ("scheduling.max_sessions", "POST"): Entry(
        STAFF,
        args=lambda w: {"award_id": w.award.id},
        data=lambda w: {f"a{w.award.id}-max_sessions": "2"},
        ok=frozenset({302}),
    ),
    # visits (issue 8): the World's published experiment has "user" as PI and visitor (tests/factories_visits)
    ("visits.mine", "GET"): Entry(LOGGED_IN),
    ("visits.experiment", "GET"): Entry(
        allow("user", STAFF, "instrument_scientist", "access_approver", "safety_reviewer"),
        args=lambda w: {"experiment_id": w.experiment.booking_id},
    ),
    ("visits.export", "GET"): Entry(
        allow("user", STAFF, "instrument_scientist", "access_approver", "safety_reviewer"),
        args=lambda w: {"experiment_id": w.experiment.booking_id},
        ok=frozenset({200}),
    ),
    ("visits.add_visitor", "POST"): Entry(
        allow("user"),
        args=lambda w: {"experiment_id": w.experiment.booking_id},
        data=lambda w: {"mode": "on_site", "email": "matrix-guest@example.org"},
        ok=frozenset({302, 422}),
    ),
    ("visits.confirm_safety", "POST"): Entry(
        allow("user"),
        args=lambda w: {"experiment_id": w.experiment.booking_id},
        data=lambda w: {"samples": "Water: none"},
        ok=frozenset({302}),
    ),
    ("visits.sign_safety", "POST"): Entry(
        allow("instrument_scientist", "safety_reviewer"),
        args=lambda w: {"experiment_id": w.experiment.booking_id},
        ok=frozenset({302}),
    ),
    ("visits.visit", "GET"): Entry(
        allow("user", STAFF, "instrument_scientist", "access_approver", "safety_reviewer"),
        args=lambda w: {"visit_id": w.visit.id},
        ok=frozenset({200}),
    ),
    ("visits.register", "POST"): Entry(
        allow("user"), args=lambda w: {"visit_id": w.visit.id}, data=lambda w: {"arrives_on": ""}, ok=frozenset({422})
    ),
    ("visits.cancel", "POST"): Entry(allow("user"), args=lambda w: {"visit_id": w.visit.id}, once=True),
    ("visits.decide", "POST"): Entry(
        STAFF, args=lambda w: {"visit_id": w.visit.id}, data=lambda w: {"action": "approve"}, ok=frozenset({302})
    ),
    ("visits.decide_access", "POST"): Entry(
        allow("access_approver"),
        args=lambda w: {"visit_id": w.visit.id},
        data=lambda w: {"decision": "approve"},
        ok=frozenset({302}),
    ),
    ("visits.invitation", "GET"): Entry(LOGGED_IN, args=lambda w: {"token": w.visit_invitation_token}),
    ("visits.accept_invitation", "POST"): Entry(
        allow("other"), args=lambda w: {"token": w.visit_invitation_token}, ok=frozenset({302}), once=True
    ),
    ("visits.office", "GET"): Entry(STAFF),
    ("visits.access_queue", "GET"): Entry(allow("access_approver")),
    ("visits.safety_queue", "GET"): Entry(allow(STAFF, "instrument_scientist", "safety_reviewer")),
    ("visits.rules", "GET"): Entry(allow(STAFF, "access_approver")),
    ("visits.create_rule", "POST"): Entry(STAFF, data=lambda w: {"lead_days": "soon"}, ok=frozenset({422})),
    ("visits.delete_rule", "POST"): Entry(STAFF, args=lambda w: {"rule_id": w.access_rule.id}, once=True),
    ("visits.training", "GET"): Entry(allow(STAFF, "instrument_scientist")),
    ("visits.create_course", "POST"): Entry(STAFF, data=lambda w: {"name": ""}, ok=frozenset({422})),
    ("visits.record_training", "POST"): Entry(
        allow(STAFF, "instrument_scientist"), data=lambda w: {"user_email": "nobody"}, ok=frozenset({422})
    ),
    ("api_visits.experiment_visits", "GET"): Entry(
        allow("user", STAFF, "instrument_scientist", "access_approver", "safety_reviewer"),
        args=lambda w: {"experiment_id": w.experiment.booking_id},
        ok=frozenset({200}),
    ),
    # outcomes (issue 9): world.ended_experiment is an ended experiment of world.award ("user" is its PI);
    # its report is read by staff, directors and the instrument's scientist; the team writes it
    ("outcomes.report", "GET"): Entry(
        allow("user", STAFF, "director", "instrument_scientist"),
        args=lambda w: {"experiment_id": w.ended_experiment.booking_id},
    ),
    ("outcomes.save_report", "POST"): Entry(
        allow("user"),
        args=lambda w: {"experiment_id": w.ended_experiment.booking_id},
        data=lambda w: {"body": "<p>matrix</p>", "action": "save"},
        ok=frozenset({302}),
    ),
    ("outcomes.upload_report_pdf", "POST"): Entry(
        allow("user"), args=lambda w: {"experiment_id": w.ended_experiment.booking_id}, ok=frozenset({422})
    ),
    # no PDF uploaded: 404 for everyone, which the matrix reads as refused — so nobody "gets in"
    ("outcomes.report_pdf", "GET"): Entry(frozenset(), args=lambda w: {"experiment_id": w.ended_experiment.booking_id}),
    ("outcomes.my_reports", "GET"): Entry(LOGGED_IN),
    ("outcomes.staff_reports", "GET"): Entry(allow(STAFF, "director")),
    ("outcomes.proposal_publications", "GET"): Entry(
        allow("user", STAFF, "director", "reviewer", "instrument_scientist"),
        args=lambda w: {"proposal_id": w.review_proposal.id},
    ),
    ("outcomes.add_publication", "POST"): Entry(
        allow("user", STAFF),
        args=lambda w: {"proposal_id": w.review_proposal.id},
        data=lambda w: {"doi": "10.5555/matrix.0002", "title": "Matrix", "year": "2027"},
        ok=frozenset({302}),
        once=True,
    ),
    ("outcomes.remove_publication", "POST"): Entry(
        STAFF, args=lambda w: {"publication_id": w.publication.id}, ok=frozenset({302}), once=True
    ),
    ("outcomes.instrument_publications", "GET"): Entry(LOGGED_IN, args=lambda w: {"instrument_id": w.instrument.id}),
    ("outcomes.publications", "GET"): Entry(LOGGED_IN),
    ("outcomes.publications_export", "GET"): Entry(LOGGED_IN, args=lambda w: {"fmt": "xlsx"}),
    ("api_publications.proposal_publications", "GET"): Entry(
        allow("user", STAFF, "director", "reviewer", "instrument_scientist"),
        args=lambda w: {"key": w.review_proposal.reference},
        ok=frozenset({200}),
    ),
    ("api_publications.instrument_publications", "GET"): Entry(
        LOGGED_IN, args=lambda w: {"code": w.instrument.code}, ok=frozenset({200})
    ),
    # scheduling: calendars, iCal feeds (the World's feed and secrets belong to "user"), the schedule API
    ("scheduling.instrument_timeline", "GET"): Entry(LOGGED_IN, args=lambda w: {"code": w.instrument.code}),
    ("scheduling.overview", "GET"): Entry(LOGGED_IN),
    ("scheduling.mine", "GET"): Entry(LOGGED_IN),
    ("scheduling.running_now", "GET"): Entry(LOGGED_IN),
    ("scheduling.feeds_page", "GET"): Entry(LOGGED_IN),
    ("scheduling.feeds_create", "POST"): Entry(LOGGED_IN, data=lambda w: {"kind": "user"}, ok=frozenset({201})),
    ("scheduling.feed_revoke", "POST"): Entry(
        allow("user", "admin"), args=lambda w: {"feed_id": w.feed.id}, ok=frozenset({302}), once=True
    ),
    # the secret in the URL is the credential: calendar programs cannot log in
    ("scheduling.ical_feed", "GET"): Entry(ANYONE, args=lambda w: {"secret": w.feed_secret}, ok=frozenset({200})),
    ("api_schedule.instrument_schedule", "GET"): Entry(
        LOGGED_IN,
        args=lambda w: {"code": w.instrument.code, "start": "2090-03-01T00:00:00Z", "end": "2090-04-01T00:00:00Z"},
        ok=frozenset({200}),
    ),
    ("api_schedule.instrument_current", "GET"): Entry(
        allow(STAFF, "director", "instrument_scientist"),
        args=lambda w: {"code": w.instrument.code},
        ok=frozenset({200}),
    ),
    ("api_schedule.book_block", "POST"): Entry(
        STAFF,
        args=lambda w: {"code": w.instrument.code},
        data=lambda w: {"cycle": w.cycle.name, "kind": "maintenance", "day": "2090-05-11", "shift": 0, "length": 1},
        ok=frozenset({201, 409}),
    ),
    ("api_schedule.book_session", "POST"): Entry(
        STAFF,
        args=lambda w: {"award_id": w.award.id},
        data=lambda w: {"day": "2091-03-10", "shift": 0, "length": 1},
        ok=frozenset({409, 422}),
    ),
    # the schedule workflow (issue 7): the World's planned `workflow_booking` of the award (cycle 2091-I,
    # on the instrument scientist's instrument, no local contact), a `draft` of that cycle, and a
    # finished `solve_job` requested by the user office persona
    ("scheduling.plan_index", "GET"): Entry(allow(STAFF, "instrument_scientist")),
    ("scheduling.plan", "GET"): Entry(
        allow(STAFF, "instrument_scientist"), args=lambda w: {"name": w.schedule_cycle.name}
    ),
    ("scheduling.solve", "POST"): Entry(
        allow(STAFF, "instrument_scientist"),
        args=lambda w: {"name": w.schedule_cycle.name},
        data=lambda w: {"effort": "eleven"},
        ok=frozenset({422}),
    ),
    ("scheduling.solve_progress", "GET"): Entry(STAFF, args=lambda w: {"job_id": w.solve_job.id}),
    ("scheduling.draft", "GET"): Entry(allow(STAFF, "instrument_scientist"), args=lambda w: {"draft_id": w.draft.id}),
    ("scheduling.apply_draft", "POST"): Entry(
        allow(STAFF, "instrument_scientist"), args=lambda w: {"draft_id": w.draft.id}, once=True
    ),
    ("scheduling.compare", "GET"): Entry(
        allow(STAFF, "instrument_scientist"), args=lambda w: {"name": w.schedule_cycle.name}
    ),
    ("scheduling.publish", "POST"): Entry(STAFF, args=lambda w: {"name": w.schedule_cycle.name}, once=True),
    ("scheduling.timeline", "GET"): Entry(
        allow(STAFF, "instrument_scientist"), args=lambda w: {"name": w.schedule_cycle.name}
    ),
    ("scheduling.check_add", "POST"): Entry(
        allow(STAFF, "instrument_scientist"), args=lambda w: {"name": w.schedule_cycle.name}, ok=frozenset({422})
    ),
    ("scheduling.add", "POST"): Entry(
        allow(STAFF, "instrument_scientist"), args=lambda w: {"name": w.schedule_cycle.name}, ok=frozenset({422})
    ),
    ("scheduling.experiment", "GET"): Entry(
        allow(STAFF, "instrument_scientist"), args=lambda w: {"booking_id": w.workflow_booking.id}
    ),
    ("scheduling.check_move", "POST"): Entry(
        allow(STAFF, "instrument_scientist"), args=lambda w: {"booking_id": w.workflow_booking.id}, ok=frozenset({422})
    ),
    ("scheduling.move", "POST"): Entry(
        allow(STAFF, "instrument_scientist"), args=lambda w: {"booking_id": w.workflow_booking.id}, ok=frozenset({422})
    ),
    ("scheduling.check_swap", "POST"): Entry(
        allow(STAFF, "instrument_scientist"), args=lambda w: {"booking_id": w.workflow_booking.id}, ok=frozenset({422})
    ),
    ("scheduling.swap", "POST"): Entry(
        allow(STAFF, "instrument_scientist"), args=lambda w: {"booking_id": w.workflow_booking.id}, ok=frozenset({422})
    ),
    ("scheduling.pin", "POST"): Entry(
        allow(STAFF, "instrument_scientist"), args=lambda w: {"booking_id": w.workflow_booking.id}, once=True
    ),
    ("scheduling.unpin", "POST"): Entry(
        allow(STAFF, "instrument_scientist"), args=lambda w: {"booking_id": w.workflow_booking.id}, ok=frozenset({302})
    ),
    ("scheduling.remove", "POST"): Entry(
        allow(STAFF, "instrument_scientist"), args=lambda w: {"booking_id": w.workflow_booking.id}, once=True
    ),
    ("scheduling.cancel", "POST"): Entry(
        STAFF, args=lambda w: {"booking_id": w.workflow_booking.id}, data=lambda w: {"reason": ""}, ok=frozenset({422})
    ),
    # the local contact or staff (the World's experiment has no local contact)
    ("scheduling.delivery", "POST"): Entry(
        STAFF, args=lambda w: {"booking_id": w.workflow_booking.id}, ok=frozenset({409, 422})
    ),
    # reports (issue 10): directors, the user office and admins; no objects needed
    ("reports.dashboard", "GET"): Entry(allow(STAFF, "director")),
    ("reports.export", "GET"): Entry(allow(STAFF, "director"), args=lambda w: {"name": "countries", "fmt": "csv"}),
    ("reports.export_visits", "GET"): Entry(allow(STAFF, "director")),
    ("reports.annual", "GET"): Entry(allow(STAFF, "director")),
    # the PDF: 200 where WeasyPrint is installed, else 404 with the reason (wrong roles: 403 either way)
    ("reports.annual_pdf", "GET"): Entry(allow(STAFF, "director"), ok=frozenset({200 if _pdf_available() else 404})),
    ("reports.refresh_status", "GET"): Entry(allow(STAFF, "director")),
    ("reports.refresh", "POST"): Entry(STAFF, ok=frozenset({302})),
    ("reports.static", "GET"): Entry(ANYONE, args=lambda w: {"filename": "reports/reports.css"}),
    ("api_reports.usage", "GET"): Entry(allow(STAFF, "director")),
    ("api_reports.collaboration", "GET"): Entry(allow(STAFF, "director")),
    # guesthouse and front desk (issue 9): world.visit is "user"'s own visit (it asks for a room; one night
    # booked in world.guest_room: world.bed_booking); world.approved_visit is "user"'s approved visit
    ("guesthouse.index", "GET"): Entry(STAFF),
    ("guesthouse.create_room", "POST"): Entry(
        STAFF, data=lambda w: {"name": "", "kind": "single"}, ok=frozenset({422})
    ),
    ("guesthouse.assign", "POST"): Entry(STAFF, ok=frozenset({302})),
    ("guesthouse.book", "POST"): Entry(
        STAFF, args=lambda w: {"visit_id": w.visit.id}, data=lambda w: {"bed_id": ""}, ok=frozenset({422})
    ),
    ("guesthouse.free", "POST"): Entry(
        STAFF, args=lambda w: {"booking_id": w.bed_booking.id}, ok=frozenset({302}), once=True
    ),
    ("guesthouse.occupancy", "GET"): Entry(STAFF, ok=frozenset({200})),
    ("guesthouse.stay", "GET"): Entry(
        allow("user", STAFF), args=lambda w: {"visit_id": w.visit.id}, ok=frozenset({200})
    ),
    ("guesthouse.stay", "POST"): Entry(
        allow("user", STAFF),
        args=lambda w: {"visit_id": w.visit.id},
        data=lambda w: {"accepts_sharing": "y"},
        ok=frozenset({302}),
    ),
    ("desk.static", "GET"): Entry(ANYONE, args=lambda w: {"filename": "desk.css"}),
    ("desk.index", "GET"): Entry(STAFF, ok=frozenset({200})),
    ("desk.check_in", "POST"): Entry(
        STAFF,
        args=lambda w: {"visit_id": w.approved_visit.id},
        data=lambda w: {f"v{w.approved_visit.id}-override_reason": "Training booked for this afternoon"},
        ok=frozenset({302}),
        once=True,
    ),
    ("desk.check_out", "POST"): Entry(STAFF, args=lambda w: {"visit_id": w.approved_visit.id}, ok=frozenset({302})),
    ("desk.on_site", "GET"): Entry(STAFF, ok=frozenset({200})),
    ("desk.on_site_rows", "GET"): Entry(STAFF, ok=frozenset({200})),
    ("desk.on_site_csv", "GET"): Entry(STAFF, ok=frozenset({200})),
    ("desk.letter", "GET"): Entry(
        allow("user", STAFF), args=lambda w: {"visit_id": w.approved_visit.id}, ok=frozenset({200})
    ),
    ("desk.feedback", "GET"): Entry(
        allow("user"), args=lambda w: {"visit_id": w.approved_visit.id}, ok=frozenset({200})
    ),
    # the experiment has not ended: the visitor gets in and is told so (409), nothing saved
    ("desk.feedback", "POST"): Entry(
        allow("user"),
        args=lambda w: {"visit_id": w.approved_visit.id},
        data=lambda w: {"instrument": "5", "support": "5", "overall": "5"},
        ok=frozenset({409}),
    ),
    ("desk.feedback_results", "GET"): Entry(allow(STAFF, "director"), ok=frozenset({200})),
    ("desk.feedback_csv", "GET"): Entry(allow(STAFF, "director"), ok=frozenset({200})),
    ("api_onsite.on_site", "GET"): Entry(STAFF, ok=frozenset({200})),
}
