"""Reads of the proposals domain: open calls, my proposals, a call's proposals for staff
(filters, search, pages, exports), previous collaborators. List queries load what a page
shows in a fixed number of statements, whatever the page size."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Integer,
    Select,
    and_,
    any_,
    bindparam,
    cast,
    exists,
    func,
    literal,
    null,
    or_,
    select,
)
from sqlalchemy.orm import aliased, joinedload, lazyload, selectinload

from app.accounts.models import User
from app.accounts.queries import Page, paginate
from app.core.db import utcnow
from app.core.errors import NotFound
from app.extensions import db
from app.facility.models import Instrument, OperatingMode
from app.proposals.models import (
    AccessRoute,
    BeamtimeRequest,
    Call,
    CallInstrument,
    DateConstraint,
    Invitation,
    MemberRole,
    Proposal,
    ProposalLink,
    ProposalMember,
    Sample,
)
from app.proposals.status import ProposalStatus


def list_open_calls(now: datetime | None = None) -> list[Call]:
    """Calls open now ([opens_at, closes_at)), soonest deadline first."""
    now = now or utcnow()
    return list(
        db.session.scalars(
            select(Call)
            .where(Call.opens_at <= now, Call.closes_at > now)
            .options(selectinload(Call.instruments).joinedload(CallInstrument.instrument))
            .order_by(Call.closes_at, Call.id)
        )
    )


@functools.cache
def _open_call_choices() -> Select:
    now = bindparam("now", type_=Call.opens_at.type)
    return (
        select(Call.id, Call.title).where(Call.opens_at <= now, Call.closes_at > now).order_by(Call.closes_at, Call.id)
    )


def open_call_choices(now: datetime | None = None) -> list[tuple[int, str]]:
    """(id, title) of the open calls, soonest deadline first: the clone form's choices (the
    proposal page asks on every view: the statement is built once per process)."""
    rows = db.session.execute(_open_call_choices(), {"now": now or utcnow()})
    return [(call_id, title) for call_id, title in rows]


def list_calls() -> list[Call]:
    return list(db.session.scalars(select(Call).order_by(Call.opens_at.desc(), Call.id.desc())))


def list_my_proposals(user_id: int) -> list[Proposal]:
    return list(
        db.session.scalars(
            select(Proposal)
            .join(ProposalMember, ProposalMember.proposal_id == Proposal.id)
            .where(ProposalMember.user_id == user_id)
            .options(selectinload(Proposal.members))
            .order_by(Proposal.updated_at.desc(), Proposal.id.desc())
        )
    )


def previous_collaborators(user_id: int, *, limit: int = 20) -> list[User]:
    """People who were on a team with this person, most frequent first (invitation suggestions)."""
    mine = select(ProposalMember.proposal_id).where(ProposalMember.user_id == user_id)
    counts = (
        select(ProposalMember.user_id, func.count().label("n"))
        .where(ProposalMember.proposal_id.in_(mine), ProposalMember.user_id != user_id)
        .group_by(ProposalMember.user_id)
        .subquery()
    )
    return list(
        db.session.scalars(
            select(User)
            .join(counts, counts.c.user_id == User.id)
            .where(User.active.is_(True))
            .options(lazyload(User.roles))  # names and e-mails are shown, not roles
            .order_by(counts.c.n.desc(), User.name)
            .limit(limit)
        )
    )


@dataclass(frozen=True, slots=True)
class ProposalFilters:
    """Filters of a proposal list. `call_id` None: every call; `member_id`: only the proposals
    this person is on the team of (their own list)."""

    call_id: int | None
    instrument_id: int | None = None
    country: str | None = None
    status: str | None = None
    route: str | None = None
    text: str = ""
    include_drafts: bool = False
    member_id: int | None = None


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


def _filter(filters: ProposalFilters) -> tuple[list[ColumnElement[bool]], dict[str, Any]]:
    """The WHERE clauses of a filtered proposal list (on `Proposal` alone: no join needed),
    each value a named bound parameter, and those parameters' values. The clauses' shape
    depends only on which parameters there are: a statement built for one filter serves every
    filter with the same parameter names, with that filter's values (`staff_page`)."""
    out: list[ColumnElement[bool]] = []
    params: dict[str, Any] = {}

    def value(name: str, column, given) -> Any:
        params[name] = given
        return bindparam(name, given, type_=column.type)

    if filters.call_id is not None:
        out.append(Proposal.call_id == value("f_call", Proposal.call_id, filters.call_id))
    if filters.member_id is not None:
        out.append(
            exists().where(
                ProposalMember.proposal_id == Proposal.id,
                ProposalMember.user_id == value("f_member", ProposalMember.user_id, filters.member_id),
            )
        )
    if not filters.include_drafts:
        out.append(Proposal.status != value("f_not_status", Proposal.status, ProposalStatus.DRAFT))
    if filters.status:
        out.append(Proposal.status == value("f_status", Proposal.status, filters.status))
    if filters.route:
        route = value("f_route", Call.route, filters.route)
        out.append(Proposal.call_id.in_(select(Call.id).where(Call.route == route)))
    if filters.instrument_id:
        instrument = value("f_instrument", BeamtimeRequest.instrument_id, filters.instrument_id)
        out.append(
            exists().where(BeamtimeRequest.proposal_id == Proposal.id, BeamtimeRequest.instrument_id == instrument)
        )
    if filters.country:
        # a proposal "is from" every country on its team's snapshot
        country = value("f_country", ProposalMember.country_code, filters.country)
        out.append(exists().where(ProposalMember.proposal_id == Proposal.id, ProposalMember.country_code == country))
    if filters.text.strip():
        pattern = value("f_text", Proposal.title, _like(filters.text.strip()))
        pi_name = (
            select(User.name)
            .join(ProposalMember, ProposalMember.user_id == User.id)
            .where(ProposalMember.proposal_id == Proposal.id, ProposalMember.role == MemberRole.PI)
            .scalar_subquery()
        )
        out.append(
            or_(
                func.lower(Proposal.title).like(pattern, escape="\\"),
                func.lower(func.coalesce(Proposal.reference, "")).like(pattern, escape="\\"),
                func.lower(func.coalesce(pi_name, "")).like(pattern, escape="\\"),
            )
        )
    return out, params


def _conditions(filters: ProposalFilters) -> list[ColumnElement[bool]]:
    """The WHERE clauses of a filtered proposal list, with their values bound."""
    return _filter(filters)[0]


_LIST_ORDER = (Proposal.reference.is_(None), Proposal.reference, Proposal.id)


def call_proposals_query(filters: ProposalFilters) -> Select:
    """Proposal entities with their teams and requests (the API's list and the exports)."""
    return (
        select(Proposal)
        .where(*_conditions(filters))
        .options(
            selectinload(Proposal.members).joinedload(ProposalMember.user),
            selectinload(Proposal.requests).joinedload(BeamtimeRequest.instrument),
        )
        .order_by(*_LIST_ORDER)
    )


def list_call_proposals(filters: ProposalFilters, *, page: int = 1, per_page: int = 50) -> Page[Proposal]:
    return paginate(call_proposals_query(filters), page, per_page)


class ProposalRow(NamedTuple):
    """One line of the staff list, ready to print: no entity behind it, nothing left to load.
    (A named tuple: 50 a page, and a frozen dataclass's `__init__` cost more than its SQL.)"""

    id: int
    reference: str | None
    title: str
    status: ProposalStatus
    pi_name: str | None
    pi_institution: str | None
    countries: str  # the team's snapshot countries, sorted, space-separated
    instruments: str  # "ID01 (9), ID03 (3)", in the order of the requests
    shifts: int  # all requests, shifts × cycles


#: made once: building an alias adapts every column, which costs more than the page's SQL
_PI = aliased(ProposalMember, name="pi")
_PI_USER = aliased(User, name="pi_user")


#: the staff list's statements by the shape of their filter (the names of its parameters):
#: built once each, then run with each request's values. Building them (the page's subquery,
#: the PI's aliases, the union of requests and countries) and computing their cache keys cost
#: more than running them on SQLite. At most one per combination of filters used.
_ROW_STATEMENTS: dict[tuple[str, ...], tuple[Select, Select, Select, Select]] = {}


def _row_statements(filters: ProposalFilters) -> tuple[tuple[Select, Select, Select, Select], dict[str, Any]]:
    """(rows, rows with the total, the total, the header with the rows' parts), the filter's values."""
    conditions, params = _filter(filters)
    dialect = db.session.get_bind().dialect.name
    shape = (dialect, *sorted(params))
    statements = _ROW_STATEMENTS.get(shape)
    if statements is None:
        statements = _ROW_STATEMENTS[shape] = _build_row_statements(conditions, arrays=dialect == "postgresql")
    return statements, params


def _build_row_statements(
    conditions: list[ColumnElement[bool]], *, arrays: bool
) -> tuple[Select, Select, Select, Select]:
    """The staff list's page: rows without and with the total, the total alone, the parts.
    `arrays` (PostgreSQL): the page's ids go to the parts as one array parameter (`= ANY`);
    elsewhere as an expanding IN, whose 50 parameters are rendered into the SQL on each run."""
    pi, pi_user = _PI, _PI_USER

    def rows_of(*counted: ColumnElement) -> Select:
        # the page's ids first, sorted on the narrow (id, reference) alone; then the page's
        # titles, statuses and PIs for those rows only: joined over the whole call, the PI
        # would cost one lookup per proposal of the call, and the wide rows a slower sort
        page_of = (
            select(Proposal.id, Proposal.reference, *counted)
            .where(*conditions)
            .order_by(*_LIST_ORDER)
            .limit(bindparam("limit", type_=Integer))
            .offset(bindparam("offset", type_=Integer))
            .subquery("page_of")
        )
        shown = aliased(Proposal, name="shown")
        return (
            select(page_of, shown.title, shown.status, pi_user.name, pi.institution_name)
            .join(shown, shown.id == page_of.c.id)
            .outerjoin(pi, and_(pi.proposal_id == page_of.c.id, pi.role == MemberRole.PI))
            .outerjoin(pi_user, pi_user.id == pi.user_id)
            .order_by(page_of.c.reference.is_(None), page_of.c.reference, page_of.c.id)
        )

    rows = rows_of()
    # the total of a filter the header's counts cannot answer: a window count over the
    # filtered proposals alone, computed before the LIMIT
    counted_rows = rows_of(func.count().over().label("total"))
    total = select(func.count()).select_from(Proposal).where(*conditions)
    if arrays:
        ids = bindparam("ids", type_=ARRAY(Integer))

        def among(column):
            return column == any_(ids)
    else:
        ids = bindparam("ids", expanding=True)

        def among(column):
            return column.in_(ids)

    # the call's header (title, offers in the call's order, counts by status) and the page's
    # requests and team countries, in one statement after the rows (one round trip fewer than
    # header, rows, parts): a UNION ALL over shared columns, `part` telling which is which
    call_id = bindparam("call_id", type_=Integer)
    none = cast(null(), Integer)
    offers = (
        select(
            literal(_OFFER, Integer).label("part"),
            Call.id.label("a"),
            CallInstrument.instrument_id.label("b"),
            CallInstrument.position.label("c"),
            none.label("d"),
            Instrument.code.label("t1"),
            Call.title.label("t2"),
        )
        .outerjoin(CallInstrument, CallInstrument.call_id == Call.id)
        .outerjoin(Instrument, Instrument.id == CallInstrument.instrument_id)
        .where(Call.id == call_id)
    )
    counts = (
        select(literal(_COUNT, Integer), Proposal.call_id, func.count(), none, none, Proposal.status, null())
        .where(Proposal.call_id == call_id)
        .group_by(Proposal.call_id, Proposal.status)
    )
    requests = (
        select(
            literal(_REQUEST, Integer),
            BeamtimeRequest.proposal_id,
            BeamtimeRequest.shifts,
            BeamtimeRequest.cycles,
            BeamtimeRequest.id,
            Instrument.code,
            null(),
        )
        .join(Instrument, Instrument.id == BeamtimeRequest.instrument_id)
        .where(among(BeamtimeRequest.proposal_id))
    )
    countries = (
        select(
            literal(_COUNTRY, Integer),
            ProposalMember.proposal_id,
            none,
            none,
            none,
            ProposalMember.country_code,
            null(),
        )
        .where(among(ProposalMember.proposal_id), ProposalMember.country_code.is_not(None))
        .distinct()
    )
    union = offers.union_all(counts, requests, countries).subquery("header_parts")
    header_parts = select(union).order_by(union.c.part, union.c.c, union.c.b)
    return rows, counted_rows, total, header_parts


#: the parts of the staff list's second statement, by its `part` column
_OFFER, _COUNT, _REQUEST, _COUNTRY = range(4)


def _counted_by_status(filters: ProposalFilters) -> bool:
    """Whether a call's counts by status answer how many proposals the filter finds: a filter
    by call and status alone (no instrument, country, route, text or member)."""
    return (
        filters.call_id is not None
        and filters.member_id is None
        and not (filters.instrument_id or filters.country or filters.route or filters.text.strip())
    )


def _total_from_counts(filters: ProposalFilters, counts: dict[str, int]) -> int:
    """The number of proposals a `_counted_by_status` filter finds, from its call's counts by
    status (`CallHeader.counts`, drafts among them)."""
    drafts = ProposalStatus.DRAFT.value
    if filters.status:
        return 0 if filters.status == drafts and not filters.include_drafts else counts.get(filters.status, 0)
    return sum(n for status, n in counts.items() if filters.include_drafts or status != drafts)


def staff_page(filters: ProposalFilters, *, page: int = 1, per_page: int = 50) -> tuple[CallHeader, Page[ProposalRow]]:
    """The staff list of a call (`filters.call_id`): its header and a page of its proposals,
    in two statements whatever the page's size. First the page's rows (PI joined; with a window
    count of the filtered proposals when the header's counts cannot answer the filter:
    `_counted_by_status`), then the call's header with the page's requests and team countries.
    Raises: NotFound call_not_found."""
    page = max(1, page)
    simple = _counted_by_status(filters)
    (rows_of, counted_rows_of, total_of, header_parts), params = _row_statements(filters)
    params = {**params, "limit": per_page, "offset": (page - 1) * per_page}
    # plain rows of columns: through the session's connection, without the ORM's result
    # machinery (no entity here; the session's transaction and flush rules are the same),
    # read by position
    connection = db.session.connection()
    rows = connection.execute(rows_of if simple else counted_rows_of, params).all()
    found = connection.execute(header_parts, {"call_id": filters.call_id, "ids": [row[0] for row in rows]}).all()
    if not found or found[0][0] != _OFFER:
        raise NotFound("call_not_found")
    offers: list[OfferRow] = []
    counts: dict[str, int] = {}
    requests: dict[int, list[tuple[int, str]]] = {}
    shifts: dict[int, int] = {}
    countries: dict[int, list[str]] = {}
    for part, a, b, c, d, t1, _t2 in found:
        if part == _REQUEST:  # proposal, shifts, cycles, request, instrument code
            requests.setdefault(a, []).append((d, f"{t1} ({b})"))
            shifts[a] = shifts.get(a, 0) + b * c
        elif part == _COUNTRY:  # proposal, country
            countries.setdefault(a, []).append(t1)
        elif part == _COUNT:  # call, count, status
            counts[str(t1)] = b
        elif b is not None:  # an offer: call, instrument, position, code
            offers.append(OfferRow(b, t1))
    header = CallHeader(found[0][1], found[0][6], offers, counts)
    if simple:
        total = _total_from_counts(filters, counts)
    elif rows:
        total = rows[0].total
    else:  # past the last page (or nothing at all): no row to carry the window's count
        total = connection.execute(total_of, params).scalar() or 0
    items = []
    for proposal_id, reference, *rest in rows:  # id, reference[, total], title, status, PI, institution
        title, status, pi_name, pi_institution = rest[-4:]
        asked = requests.get(proposal_id)
        items.append(
            ProposalRow(
                proposal_id,
                reference,
                title,
                status,
                pi_name,
                pi_institution,
                " ".join(sorted(countries.get(proposal_id, ()))),
                ", ".join(text for _id, text in sorted(asked)) if asked else "",
                shifts.get(proposal_id, 0),
            )
        )
    return header, Page(items, total, page, per_page)


class OfferRow(NamedTuple):
    instrument_id: int
    code: str


@dataclass(frozen=True, slots=True)
class CallHeader:
    """What the staff list shows of its call: the title, the offered instruments (the filter's
    choices, in the call's order) and its proposals' counts by status (drafts too). Plain
    values: no entity behind it."""

    id: int
    title: str
    instruments: list[OfferRow]
    counts: dict[str, int]


#: page facts: scalar columns higher domains add to the proposal page's statement so that their
#: notices (the NOTICES slot of the page) read a value instead of running a statement each;
#: name -> builder(the proposal's id column) -> a correlated scalar subquery
_PAGE_FACTS: dict[str, Callable[[Any], ColumnElement]] = {}


def add_page_fact(name: str, build: Callable[[Any], ColumnElement]) -> None:
    """Register a fact of the proposal page (at start-up, with the notice that reads it):
    `build(Proposal.id)` returns a scalar subquery correlated on the proposal, read by
    `proposal_for_page` in its one statement and handed to the notices as `facts[name]`.
    A notice must still work without it (`facts` None: the page was loaded another way)."""
    if _PAGE_FACTS.get(name) is not build:
        _PAGE_FACTS[name] = build
        _page_statements.cache_clear()
        _plain_page_statement.cache_clear()


@functools.cache
def _page_statements() -> dict[str, Select]:
    """The proposal page's statements, built once per process with bound parameters
    (`:proposal_id`, `:now`): building a select and computing its cache key on every request
    cost the page more than running some of them."""
    proposal_id = bindparam("proposal_id")
    facts = [build(Proposal.id).label(name) for name, build in sorted(_PAGE_FACTS.items())]
    return {
        # the team joined (2-7 rows, one round trip less than a selectin load), the facts of
        # the higher domains' notices as correlated scalar subqueries: one statement in all
        # and the facility row (the layout's name, every date's zone): a LEFT JOIN on its one id
        "proposal": select(Proposal, *facts)
        .where(Proposal.id == proposal_id)
        .options(
            joinedload(Proposal.call).lazyload(Call.instruments),
            # the team's people (the editor's completeness check reads more than their
            # names), not their roles or current institutions (their affiliations on the page
            # are the member rows' snapshot)
            joinedload(Proposal.members)
            .joinedload(ProposalMember.user)
            .options(lazyload(User.roles), lazyload(User.institution)),
        ),
        "parts": _parts_statement(proposal_id, bindparam("now", type_=Invitation.expires_at.type)),
    }


#: the parts of the proposal page in the one UNION ALL of `_parts_statement`, by its `part` column
_REQUESTS, _SAMPLES, _DATES, _LINKS, _INVITATIONS, _OPEN_CALLS = range(6)


def _parts_statement(proposal_id, now) -> Select:
    """The page's five lists and the open calls (the clone form) in one statement: a UNION ALL
    over shared columns, `part` telling which list a row belongs to. Every branch gives the
    typed columns (dates, instants, enums, the hazards' JSON) either a real column or NULL cast
    to that column's type, so they come back as they do from their own tables, on PostgreSQL
    and on SQLite (a compound select's result types are its first select's)."""

    def none(column):
        return cast(null(), column.type)

    def row(part, id_, *, n1=None, n2=None, t1=None, t2=None, t3=None, t4=None, n3=None, **typed):
        values = {"n1": n1, "n2": n2, "t1": t1, "t2": t2, "t3": t3, "t4": t4}
        columns = [literal(part, Integer).label("part"), id_.label("id")]
        columns += [(null() if v is None else v).label(k) for k, v in values.items()]
        for name, column in _TYPED.items():
            columns.append((typed[name] if name in typed else none(column)).label(name))
        columns.append((null() if n3 is None else n3).label("n3"))
        return columns

    requests = (
        select(
            *row(
                _REQUESTS,
                BeamtimeRequest.id,
                n1=BeamtimeRequest.shifts,
                n2=BeamtimeRequest.cycles,
                t1=Instrument.code,
                t2=BeamtimeRequest.justification,
                t3=OperatingMode.name,
                n3=BeamtimeRequest.instrument_id,
            )
        )
        .join(Instrument, Instrument.id == BeamtimeRequest.instrument_id)
        .outerjoin(OperatingMode, OperatingMode.id == BeamtimeRequest.operating_mode_id)
        .where(BeamtimeRequest.proposal_id == proposal_id)
    )
    samples = select(
        *row(
            _SAMPLES,
            Sample.id,
            n1=Sample.biological_risk_group,
            t1=Sample.name,
            t2=Sample.formula,
            t4=Sample.quantity,
            form=Sample.form,
            hazards=Sample.hazards,
        )
    ).where(Sample.proposal_id == proposal_id)
    dates = select(
        *row(
            _DATES,
            DateConstraint.id,
            t2=DateConstraint.note,
            kind=DateConstraint.kind,
            starts_on=DateConstraint.starts_on,
            ends_on=DateConstraint.ends_on,
        )
    ).where(DateConstraint.proposal_id == proposal_id)
    links = (
        select(*row(_LINKS, ProposalLink.earlier_id, t1=Proposal.reference, t2=Proposal.title))
        .join(Proposal, ProposalLink.earlier_id == Proposal.id)
        .where(ProposalLink.proposal_id == proposal_id)
    )
    invitations = select(*row(_INVITATIONS, Invitation.id, t1=Invitation.email, at=Invitation.expires_at)).where(
        Invitation.proposal_id == proposal_id,
        Invitation.accepted_at.is_(None),
        Invitation.revoked_at.is_(None),
        Invitation.expires_at > now,
    )
    open_calls = select(*row(_OPEN_CALLS, Call.id, t1=Call.title, at=Call.closes_at)).where(
        Call.opens_at <= now, Call.closes_at > now
    )
    union = requests.union_all(samples, dates, links, invitations, open_calls).subquery("parts")
    return select(union).order_by(union.c.part, union.c.id)


#: the typed columns of the parts' union (the others are numbers and texts): name -> the column
#: whose type they carry
_TYPED = {
    "form": Sample.form,
    "hazards": Sample.hazards,
    "kind": DateConstraint.kind,
    "starts_on": DateConstraint.starts_on,
    "ends_on": DateConstraint.ends_on,
    "at": Invitation.expires_at,
}


def proposal_for_page(proposal_id: int) -> tuple[Proposal, Mapping[str, Any]] | None:
    """The proposal for its page, with its call and cycle and its team with the people (what
    the permission checks and the team list read), and the page facts of higher domains
    (`add_page_fact`), by name: one statement. The facility row (the layout's name, every
    date's zone) came with the session's person (`accounts.services.add_session_companion`).
    The call's offered instruments are left out (only the editor's request form needs them)
    and so are the team's people's roles and current institutions. The other parts are read
    as rows by `proposal_parts`."""
    row = db.session.execute(_page_statements()["proposal"], {"proposal_id": proposal_id}).unique().first()
    if row is None:
        return None
    proposal, *values = row
    return proposal, dict(zip(sorted(_PAGE_FACTS), values, strict=True))


class RequestRow(NamedTuple):
    id: int
    code: str
    shifts: int
    cycles: int
    justification: str
    mode: str | None
    instrument_id: int


class SampleRow(NamedTuple):
    id: int
    name: str
    formula: str | None
    form: Any
    quantity: str | None
    hazards: list
    biological_risk_group: int | None


class DateRow(NamedTuple):
    id: int
    kind: Any
    starts_on: Any
    ends_on: Any
    note: str | None


class LinkRow(NamedTuple):
    reference: str | None
    title: str


class InvitationRow(NamedTuple):
    id: int
    email: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class ProposalParts:
    """What the proposal page lists, as plain rows (attribute access by the names below), all
    read in one statement whatever their number: no entity, nothing left to load while
    rendering."""

    requests: list[RequestRow]  # in the order they were added
    samples: list[SampleRow]
    dates: list[DateRow]  # by kind, then first day
    links: list[LinkRow]  # by the earlier proposal's id
    invitations: list[InvitationRow]  # the pending ones only
    open_calls: list[tuple[int, str]]  # (id, title) of the calls open now, soonest deadline first


def proposal_parts(proposal_id: int, now: datetime) -> ProposalParts:
    """The page's lists and the open calls (the clone form's choices), one statement."""
    by_part: list[list] = [[] for _ in range(6)]
    # plain rows: through the session's connection, without the ORM's result machinery; read
    # by position (a Row's attribute by name costs a lookup per read)
    for r in db.session.connection().execute(_page_statements()["parts"], {"proposal_id": proposal_id, "now": now}):
        by_part[r[0]].append(r)
    requests, samples, dates, links, invitations, calls = by_part
    # columns: part, id, n1, n2, t1, t2, t3, t4, form, hazards, kind, starts_on, ends_on, at, n3
    return ProposalParts(
        requests=[RequestRow(r[1], r[4], r[2], r[3], r[5], r[6], r[14]) for r in requests],
        samples=[SampleRow(r[1], r[4], r[5], r[8], r[7], r[9], r[2]) for r in samples],
        dates=sorted(
            (DateRow(r[1], r[10], r[11], r[12], r[5]) for r in dates),
            key=lambda d: (str(d.kind), d.starts_on),
        ),
        links=[LinkRow(r[4], r[5]) for r in links],
        invitations=[InvitationRow(r[1], r[4], r[13]) for r in invitations],
        open_calls=[(r[1], r[4]) for r in sorted(calls, key=lambda r: (r[13], r[1]))],
    )


class PagePerson(NamedTuple):
    id: int
    name: str


class PageMember(NamedTuple):
    """A team member as the proposal page shows it (the entity's attribute names)."""

    id: int
    user_id: int
    role: MemberRole
    institution_name: str | None  # the affiliation snapshot
    country_code: str | None
    user: PagePerson


@dataclass(frozen=True, slots=True)
class PageCall:
    """The proposal's call as its page reads it; the entity's own rules (`is_open`, `has_closed`)."""

    id: int
    title: str
    opens_at: datetime
    closes_at: datetime
    route: AccessRoute
    max_cycles: int

    is_open = Call.is_open
    has_closed = Call.has_closed


@dataclass(frozen=True, slots=True)
class PageProposal:
    """A proposal as its page shows it to someone who does not edit it, read as plain rows
    (`proposal_page`): the entity's attribute names and its own rules (`is_editable`, `pi`,
    `label`…), so the permission predicates, the notices of higher domains and the template
    read it as they read a `Proposal`. No session behind it: nothing on it loads or writes.
    The team, the call and the requests (`requests`: the parts' rows, with their instruments
    for the reviews domain's readers) are what the page and those rules read; anything else
    is not here (an AttributeError, which the tests of the page would show)."""

    id: int
    call_id: int
    reference: str | None
    status: ProposalStatus
    title: str
    abstract: str
    subject_area: Any
    science_case_key: str | None
    science_case_name: str | None
    science_case_pages: int | None
    science_case_uploaded_at: datetime | None
    call: PageCall
    members: tuple[PageMember, ...]
    requests: list[RequestRow]

    pi = Proposal.pi
    member = Proposal.member
    is_draft = Proposal.is_draft
    is_editable = Proposal.is_editable
    is_withdrawable = Proposal.is_withdrawable
    label = Proposal.label


class ProposalPage(NamedTuple):
    proposal: PageProposal
    facts: Mapping[str, Any]  # the higher domains' page facts, by name (`add_page_fact`)
    parts: ProposalParts


@functools.cache
def _plain_page_statement() -> Select:
    """The proposal, its call and its team with the people's names, one row per member, with
    the page facts: built once per process (`:proposal_id`)."""
    p, c, m, u = Proposal.__table__.c, Call.__table__.c, ProposalMember.__table__.c, User.__table__.c
    facts = [build(Proposal.id).label(name) for name, build in sorted(_PAGE_FACTS.items())]
    return (
        select(
            *(p.id, p.call_id, p.reference, p.status, p.title, p.abstract, p.subject_area, p.science_case_key),
            *(p.science_case_name, p.science_case_pages, p.science_case_uploaded_at),
            *(c.title, c.opens_at, c.closes_at, c.route, c.max_cycles),
            *(m.id, m.user_id, m.role, m.institution_name, m.country_code, u.name),
            *facts,
        )
        .select_from(
            Proposal.__table__.join(Call.__table__, c.id == p.call_id)
            .outerjoin(ProposalMember.__table__, m.proposal_id == p.id)
            .outerjoin(User.__table__, u.id == m.user_id)
        )
        .where(p.id == bindparam("proposal_id", type_=Integer))
        .order_by(m.id)
    )


def proposal_page(proposal_id: int, now: datetime) -> ProposalPage | None:
    """The proposal page for someone who does not edit it, as plain rows in two statements
    sent back to back: the page's lists and the open calls (`proposal_parts`), then the
    proposal with its call, team and facts. Measured on bench B2 (M, PostgreSQL): 12 % of the
    page's time against loading the entities (`proposal_for_page`), whose ORM setup for the
    joined call, team and people cost more than the statement itself. The editor still loads
    the entity (its forms and completeness check work on it). The parts are read before the
    caller checks who may see the proposal; nothing is shown before."""
    parts = proposal_parts(proposal_id, now)
    rows = db.session.connection().execute(_plain_page_statement(), {"proposal_id": proposal_id}).all()
    if not rows:
        return None
    first = rows[0]
    call = PageCall(first[1], *first[11:16])
    members = tuple(PageMember(*r[16:21], PagePerson(r[17], r[21])) for r in rows if r[16] is not None)
    proposal = PageProposal(*first[:11], call=call, members=members, requests=parts.requests)
    return ProposalPage(proposal, dict(zip(sorted(_PAGE_FACTS), first[22:], strict=True)), parts)


EXPORT_COLUMNS = (
    "reference",
    "status",
    "route",
    "title",
    "subject_area",
    "pi",
    "pi_institution",
    "pi_country",
    "team_size",
    "team_countries",
    "instruments",
    "shifts",
    "submitted_at",
)


def export_rows(filters: ProposalFilters, *, batch: int = 500) -> Iterator[dict[str, Any]]:
    """One plain row per proposal for CSV/XLSX, read in batches (a few statements per batch)."""
    query = call_proposals_query(filters)
    offset = 0
    while True:
        chunk = list(db.session.scalars(query.limit(batch).offset(offset)))
        if not chunk:
            return
        for p in chunk:
            pi = p.pi
            yield {
                "reference": p.reference or "",
                "status": p.status.value,
                "route": p.call.route.value if isinstance(p.call.route, AccessRoute) else p.call.route,
                "title": p.title,
                "subject_area": p.subject_area.value if p.subject_area else "",
                "pi": pi.user.name if pi else "",
                "pi_institution": (pi.institution_name or "") if pi else "",
                "pi_country": (pi.country_code or "") if pi else "",
                "team_size": len(p.members),
                "team_countries": " ".join(sorted({m.country_code for m in p.members if m.country_code})),
                "instruments": " ".join(r.instrument.code for r in p.requests),
                "shifts": p.total_shifts,
                "submitted_at": p.submitted_at.isoformat() if p.submitted_at else "",
            }
        offset += batch


@functools.cache
def _count_by_status_statement() -> Select:
    return (
        select(Proposal.status, func.count())
        .where(Proposal.call_id == bindparam("call_id", type_=Integer))
        .group_by(Proposal.status)
    )


def count_by_status(call_id: int) -> dict[str, int]:
    rows = db.session.execute(_count_by_status_statement(), {"call_id": call_id}).all()
    return {status.value if hasattr(status, "value") else status: n for status, n in rows}


def count_submitted_by_call() -> dict[int, int]:
    """Call id → how many proposals were handed in (drafts not counted), in one statement."""
    rows = db.session.execute(
        select(Proposal.call_id, func.count()).where(Proposal.status != ProposalStatus.DRAFT).group_by(Proposal.call_id)
    ).all()
    return {call_id: n for call_id, n in rows}


def offered_instruments(call_id: int) -> list[CallInstrument]:
    return list(
        db.session.scalars(
            select(CallInstrument).where(CallInstrument.call_id == call_id).order_by(CallInstrument.position)
        )
    )


__all__ = [
    "EXPORT_COLUMNS",
    "add_page_fact",
    "ProposalFilters",
    "ProposalParts",
    "ProposalRow",
    "call_proposals_query",
    "count_by_status",
    "count_submitted_by_call",
    "export_rows",
    "staff_page",
    "list_call_proposals",
    "list_calls",
    "list_my_proposals",
    "list_open_calls",
    "offered_instruments",
    "open_call_choices",
    "previous_collaborators",
    "PageProposal",
    "ProposalPage",
    "proposal_for_page",
    "proposal_page",
    "proposal_parts",
]
