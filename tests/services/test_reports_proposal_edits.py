"""Edits of a submitted proposal while its call is open (team, affiliation snapshots, requested
shifts) and its withdrawal publish events the reports follow: after each one, an incremental
refresh leaves the rollups equal to a full rebuild (issue 10)."""

from __future__ import annotations

from datetime import date, timedelta

from app.extensions import db
from app.proposals import services as proposals
from app.proposals.services.parts import RequestInput
from app.reports import services as reports
from app.reports.models import ReportUsage
from tests import factories_facility as ff
from tests import factories_proposals as fp
from tests.services.test_reports_incremental import rebuilt, snapshot


def _setup():
    ff.make_facility(host_country="FR", timezone="Europe/Paris")
    cycle = fp.make_cycle(name="ED-2027", starts_on=date(2027, 1, 15), ends_on=date(2027, 6, 30))
    i1, i2 = fp.make_instrument(code="ED-I1"), fp.make_instrument(code="ED-I2")
    call = fp.make_call(cycle=cycle, instruments=[i1, i2])
    fr, de, it = (fp.make_institution(country_code=c) for c in ("FR", "DE", "IT"))
    pi = fp.make_person(institution=fr)
    co = fp.make_person(institution=it)
    proposal = fp.make_proposal(call=call, pi=pi, co_proposers=(co,))
    proposals.submit_proposal(proposal.id, actor=pi, now=fp.DURING)
    reports.refresh_dirty()
    assert reports.dirty_cycle_ids() == []
    return cycle, proposal, pi, co, de, i2


def _countries(cycle, unit: str) -> set[str]:
    return {r.country for r in db.session.query(ReportUsage).filter_by(cycle_id=cycle.id, unit=unit) if r.whole or r.pi}


def _in_step(cycle) -> None:
    """The edit marked the cycle; the incremental refresh then equals a full rebuild."""
    assert reports.dirty_cycle_ids() == [cycle.id]
    reports.refresh_dirty()
    assert reports.dirty_cycle_ids() == []
    assert snapshot([cycle.id]) == rebuilt([cycle])


def test_edits_of_a_submitted_proposal_keep_the_rollups_in_step():
    cycle, proposal, pi, co, de, i2 = _setup()
    assert _countries(cycle, "proposals_submitted") == {"FR", "IT"}
    later = fp.DURING + timedelta(hours=1)

    # the PI moved to a German institute; their next edit (requested shifts) refreshes the snapshot
    pi.institution = de
    db.session.commit()
    request = proposal.requests[0]
    proposals.update_request(
        request.id, RequestInput(request.instrument_id, 9, "Nine shifts: ..."), actor=pi, now=later
    )
    _in_step(cycle)
    assert _countries(cycle, "proposals_submitted") == {"DE", "IT"}

    # another instrument asked for
    proposals.add_request(proposal.id, RequestInput(i2.id, 3, "Three shifts: ..."), actor=pi, now=later)
    _in_step(cycle)

    # the team changes: the co-proposer leaves
    proposals.remove_member(proposal.id, co.id, actor=pi, now=later)
    _in_step(cycle)
    assert _countries(cycle, "proposals_submitted") == {"DE"}

    # withdrawn: it counts no more
    proposals.withdraw_proposal(proposal.id, actor=pi, now=later)
    _in_step(cycle)
    assert _countries(cycle, "proposals_submitted") == set()


def test_edits_of_a_draft_mark_nothing():
    ff.make_facility(host_country="FR", timezone="Europe/Paris")
    call = fp.make_call(cycle=fp.make_cycle(name="ED-draft"))
    pi = fp.make_person()
    draft = fp.make_proposal(call=call, pi=pi)
    reports.refresh_dirty()
    request = draft.requests[0]
    proposals.update_request(request.id, RequestInput(request.instrument_id, 4, "Four: ..."), actor=pi, now=fp.DURING)
    assert reports.dirty_cycle_ids() == []
