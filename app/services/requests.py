"""依申请公开台账 / the request register: record applications and their events, derive the
clock from the events (app.rules.request_clock), count table 三 and the audit from it."""

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import and_, bindparam, func, insert, or_, update
from sqlalchemy import select as core_select
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.errors import Conflict, Stale, invalid
from app.models.common import utcnow
from app.models.request import (
    DisclosureRequest,
    EventBase,
    EventCreate,
    EventPublic,
    Outcome,
    RequestCreate,
    RequestEvent,
    RequestPublic,
    RequestState,
    TableThree,
    Template,
)
from app.models.unit import Unit
from app.principal import Principal
from app.rules import request_clock
from app.rules.request_clock import Calendar, Clock, SequenceError
from app.services import history, paging
from app.services.calendar import calendar_for, work_calendar

log = logging.getLogger("app.requests")

APPLICANT_COLUMNS: tuple[str, ...] = (
    "natural",
    "business",
    "research",
    "nonprofit",
    "legal",
    "other_org",
)
COLUMNS: tuple[str, ...] = (*APPLICANT_COLUMNS, "total")
_OUTCOME_ROWS: tuple[str, ...] = (
    "granted",
    "partial",
    "refused_secret",
    "refused_law",
    "refused_safety",
    "refused_third_party",
    "refused_internal",
    "refused_process",
    "refused_enforcement",
    "refused_inquiry",
    "unable_not_held",
    "unable_needs_making",
    "unable_unclear",
    "ignored_petition",
    "ignored_repeat",
    "ignored_publication",
    "ignored_excessive",
    "ignored_confirm",
)
OUTCOME_ROWS: dict[str, tuple[str, ...]] = {
    "2019": (*_OUTCOME_ROWS, "other"),
    "2021": (*_OUTCOME_ROWS, "other_no_correction", "other_no_fee", "other_misc"),
}
ROWS: dict[str, tuple[str, ...]] = {
    template: ("received", "carried_in", *outcomes, "total", "carried_out")
    for template, outcomes in OUTCOME_ROWS.items()
}
_OTHER_2021 = ("other_no_correction", "other_no_fee", "other_misc")

_REQUESTS = DisclosureRequest.__table__  # type: ignore[attr-defined]
_EVENTS = RequestEvent.__table__  # type: ignore[attr-defined]
_EVENT_FIELDS = ("kind", "on", "days", "approved_by", "party", "outcome")
# The write path's statements, built once: each execution then finds its compiled form in
# SQLAlchemy's cache without building the statement and its cache key again.
_INSERT_REQUEST = insert(_REQUESTS)
_INSERT_EVENT = insert(_EVENTS)
_REVISION = (
    core_select(_REQUESTS.c.revision)
    .where(_REQUESTS.c.id == bindparam("request_id"))
    .with_for_update()
)
_EVENTS_OF = (
    core_select(_EVENTS.c.id, *(_EVENTS.c[name] for name in _EVENT_FIELDS))
    .where(_EVENTS.c.request_id == bindparam("request_id"))
    .order_by(_EVENTS.c.id)
)
_UPDATE_REQUEST = update(_REQUESTS).where(
    _REQUESTS.c.id == bindparam("request_id"), _REQUESTS.c.revision == bindparam("seen")
)
"""Sets the columns its parameters name besides these two."""
_REFERENCE_TAKEN = core_select(_REQUESTS.c.id).where(
    _REQUESTS.c.unit_code == bindparam("unit_code"),
    _REQUESTS.c.reference == bindparam("reference"),
)


def etag(request: DisclosureRequest) -> str:
    return f'"r{request.id}.{request.revision}"'


def mask(summary: str) -> str:
    """What a log line may show of a summary: its first character and its length."""
    return f"{summary[:1]}***({len(summary)})" if summary else ""


def _snapshot(request: DisclosureRequest) -> dict[str, Any]:
    """The history's copy: the summary masked, like in the logs."""
    data = request.model_dump(
        mode="json",
        exclude={"created_at", "updated_at", "revision", "summary"},
    )
    data["summary"] = mask(request.summary)
    return data


def clock_event(event: EventBase) -> request_clock.Event:
    return request_clock.Event(
        kind=str(event.kind),
        on=event.on,
        days=event.days,
        approved_by=event.approved_by,
        party=None if event.party is None else str(event.party),
        outcome=None if event.outcome is None else str(event.outcome),
    )


def replay(
    request: DisclosureRequest,
    events: Sequence[RequestEvent | EventPublic],
    calendar: Calendar,
    *,
    through: date | None = None,
) -> Clock:
    """The clock from the recorded events (only those dated on or before `through`)."""
    chosen = [e for e in events if through is None or e.on <= through]
    return request_clock.replay(request.received_on, [clock_event(e) for e in chosen], calendar)


def derived_columns(received_on: date, clock: Clock) -> dict[str, Any]:
    """Every column an application's clock defines: what `store` writes and what the
    derived-columns check (services/derived) compares with the stored row."""
    return {
        "state": RequestState(clock.state),
        "clock_start": clock.clock_start,
        "due_on": clock.due_on,
        "paused_until": clock.paused_until,
        "extended_days": clock.extended_days,
        "late_notice": clock.late_notice,
        "outcome": None if clock.outcome is None else Outcome(clock.outcome),
        "answered_on": clock.answered_on,
        "closed_on": clock.closed_on,
        "on_time": clock.on_time,
        "note": clock.note,
        **report_columns(received_on, clock),
    }


def store(request: DisclosureRequest, clock: Clock) -> dict[str, Any]:
    """Rewrite the derived columns from a fresh clock: they are never left stale. Answers
    the columns and values written (what a Core UPDATE of the row sets)."""
    values = derived_columns(request.received_on, clock)
    for name, value in values.items():
        setattr(request, name, value)
    return values


def report_columns(received_on: date, clock: Clock) -> dict[str, Any]:
    """The stored columns table 三 groups on: the year received, the year closed (None
    while open) and, once closed, the row it counts in (the 2021 template's code)."""
    closed = clock.state in (RequestState.answered, RequestState.withdrawn)
    return {
        "received_year": received_on.year,
        "closed_year": clock.closed_on.year if closed and clock.closed_on else None,
        "report_row": outcome_row(clock.state, clock.outcome, "2021") if closed else None,
    }


def events_of(session: Session, request_ids: Iterable[int]) -> dict[int, list[RequestEvent]]:
    """Each request's events in the order recorded (which is date order)."""
    ids = list(request_ids)
    found: dict[int, list[RequestEvent]] = {i: [] for i in ids}
    if not ids:
        return found
    for event in session.exec(
        select(RequestEvent)
        .where(col(RequestEvent.request_id).in_(ids))
        .order_by(col(RequestEvent.request_id), col(RequestEvent.id))
    ):
        found[event.request_id].append(event)
    return found


def to_public(
    request: DisclosureRequest,
    events: Sequence[RequestEvent | EventPublic],
    calendar: Calendar,
    *,
    as_of: date,
    clock: Clock | None = None,
) -> RequestPublic:
    """REQUEST as of a day: the clock replayed from the events (or the one a write just
    replayed from them), days left counted to `as_of`."""
    clock = clock or replay(request, events, calendar)
    assert request.id is not None
    return RequestPublic(
        id=request.id,
        unit_code=request.unit_code,
        reference=request.reference,
        received_on=request.received_on,
        channel=request.channel,  # type: ignore[arg-type]
        applicant_type=request.applicant_type,
        summary=request.summary,
        state=RequestState(clock.state_on(as_of)),
        clock_start=clock.clock_start,
        due_on=clock.due_on,
        days_left=clock.days_left(as_of, calendar),
        extended_days=clock.extended_days,
        late_notice=clock.late_notice,
        paused_until=clock.paused_until if clock.state_on(as_of) == "paused" else None,
        outcome=None if clock.outcome is None else Outcome(clock.outcome),
        answered_on=clock.answered_on,
        on_time=clock.on_time,
        note=clock.note,
        events=[
            e if isinstance(e, EventPublic) else EventPublic.model_validate(e, from_attributes=True)
            for e in events
        ],
    )


def publics(
    session: Session,
    requests: Sequence[DisclosureRequest],
    *,
    as_of: date,
    calendar: Calendar | None = None,
) -> list[RequestPublic]:
    calendar = calendar or work_calendar(session)
    events = events_of(session, (r.id for r in requests if r.id is not None))
    return [to_public(r, events[r.id or 0], calendar, as_of=as_of) for r in requests]


def public(
    session: Session,
    request: DisclosureRequest,
    *,
    as_of: date,
    calendar: Calendar | None = None,
) -> RequestPublic:
    return publics(session, [request], as_of=as_of, calendar=calendar)[0]


def clock_calendar(
    session: Session, request: DisclosureRequest | RequestCreate, as_of: date
) -> Calendar:
    """One query for every calendar year a write and its answer count through: from the
    receipt to `as_of` (days left), and the year after."""
    return calendar_for(session, request.received_on, as_of)


def _check_reference(session: Session, unit_code: str, reference: str | None) -> None:
    if reference is None:
        return
    taken = (
        session.connection()
        .execute(_REFERENCE_TAKEN, {"unit_code": unit_code, "reference": reference})
        .scalar()
    )
    if taken is not None:
        raise Conflict(
            f"编号 {reference} 已用于申请 {taken} / reference {reference} is already used by "
            f"request {taken}"
        )


def create(
    session: Session,
    unit: Unit,
    data: RequestCreate,
    *,
    actor: Principal,
    calendar: Calendar | None = None,
) -> DisclosureRequest:
    """Register an application on receipt; its due date is the 20th working day after."""
    return register(session, unit, data, actor=actor, calendar=calendar)[0]


def register(
    session: Session,
    unit: Unit,
    data: RequestCreate,
    *,
    actor: Principal,
    calendar: Calendar | None = None,
) -> tuple[DisclosureRequest, Clock]:
    """`create`, answering the clock too (for the answer, which need not replay it again).

    The row and its history are two Core INSERTs on the session's connection: the request
    object is never added to the session (no unit of work, no flush)."""
    _check_reference(session, unit.code, data.reference)
    request = DisclosureRequest.model_validate(
        data, update={"unit_code": unit.code, "received_year": data.received_on.year}
    )
    clock = request_clock.replay(data.received_on, [], calendar or work_calendar(session))
    store(request, clock)
    row = {c.name: getattr(request, c.name) for c in _REQUESTS.columns if c.name != "id"}
    try:
        inserted = session.connection().execute(_INSERT_REQUEST, row)
    except IntegrityError:
        # Two clerks registering one reference at once (PostgreSQL; SQLite's write lock
        # queues them): the loser's INSERT meets the unique key after the winner commits.
        # Its transaction is void; a fresh look finds the winner and answers 409.
        session.rollback()
        _check_reference(session, unit.code, data.reference)
        raise
    request.id = _inserted_id(inserted)
    history.write(
        session,
        actor,
        action="create",
        entity="request",
        entity_id=request.id,
        unit_code=unit.code,
        after=_snapshot(request),
    )
    log.info("request %s registered for %s: %s", request.id, unit.code, mask(request.summary))
    return request, clock


def _inserted_id(result: CursorResult[Any]) -> int:
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def add_event(
    session: Session,
    request: DisclosureRequest,
    data: EventCreate,
    *,
    actor: Principal,
    calendar: Calendar | None = None,
) -> DisclosureRequest:
    """Record an event; 422 naming the rule when it cannot follow the events before it."""
    record_event(session, request, data, actor=actor, calendar=calendar)
    return request


def _events(session: Session, request_id: int) -> list[EventPublic]:
    """A request's events in the order recorded, read with Core (the write path's read)."""
    rows = session.connection().execute(_EVENTS_OF, {"request_id": request_id})
    return [EventPublic.model_validate(dict(row._mapping)) for row in rows]


def record_event(
    session: Session,
    request: DisclosureRequest,
    data: EventCreate,
    *,
    actor: Principal,
    calendar: Calendar | None = None,
) -> tuple[list[EventPublic], Clock]:
    """add_event, answering the request's events with the new one last and the clock after
    it (for its answer). `request` is the row as read before (its revision is the one the
    clerk's If-Match matched); it is brought up to date in memory, never added to the
    session: the event, the row's UPDATE and the history are Core statements."""
    assert request.id is not None
    seen = request.revision
    # The row lock (PostgreSQL; SQLite's write lock is already held) before the events are
    # read: a clerk whose If-Match was current when checked but who lost the race to another
    # event is told 412, not judged against an event they never saw (a 422).
    connection = session.connection()
    current = connection.execute(_REVISION, {"request_id": request.id}).scalar()
    if current != seen:
        raise Stale("申请已被他人修改 / the request was changed by someone else")
    events = _events(session, request.id)
    sequence = [*(clock_event(e) for e in events), clock_event(data)]
    try:
        clock = request_clock.replay(
            request.received_on, sequence, calendar or work_calendar(session)
        )
    except SequenceError as error:
        raise invalid(("body", error.field), error.message, error.rule) from error
    before = _snapshot(request)
    fields = {name: getattr(data, name) for name in _EVENT_FIELDS}
    inserted = connection.execute(
        _INSERT_EVENT, {**fields, "request_id": request.id, "created_at": utcnow()}
    )
    event = EventPublic(id=_inserted_id(inserted), **fields)
    values = store(request, clock)
    request.updated_at = utcnow()
    changed = connection.execute(
        _UPDATE_REQUEST,
        {
            **values,
            "updated_at": request.updated_at,
            "revision": seen + 1,
            "request_id": request.id,
            "seen": seen,
        },
    )
    if changed.rowcount != 1:  # not after the lock above; as the ORM's version check did
        raise Stale("申请已被他人修改 / the request was changed by someone else")
    request.revision = seen + 1
    history.write(
        session,
        actor,
        action=str(data.kind),
        entity="request",
        entity_id=request.id,
        unit_code=request.unit_code,
        before=before,
        after=_snapshot(request) | {"event": data.model_dump(mode="json", exclude_none=True)},
    )
    return [*events, event], clock


def find(
    session: Session,
    unit_code: str,
    *,
    as_of: date,
    state: RequestState | None = None,
    year: int | None = None,
    overdue: bool | None = None,
    limit: int,
    offset: int = 0,
) -> list[DisclosureRequest]:
    """A unit's applications by receipt date; `state` and `overdue` as of `as_of`."""
    query = select(DisclosureRequest).where(DisclosureRequest.unit_code == unit_code)
    paused = and_(
        col(DisclosureRequest.state) == RequestState.paused,
        or_(
            col(DisclosureRequest.paused_until).is_(None),
            col(DisclosureRequest.paused_until) >= as_of,
        ),
    )
    if state == RequestState.paused:
        query = query.where(paused)
    elif state == RequestState.open:
        # A consultation past its 15 working days no longer pauses (第32条, 第34条).
        running = col(DisclosureRequest.state).in_([RequestState.open, RequestState.paused])
        query = query.where(running, ~paused)
    elif state is not None:
        query = query.where(DisclosureRequest.state == state)
    if year is not None:
        query = query.where(
            col(DisclosureRequest.received_on) >= date(year, 1, 1),
            col(DisclosureRequest.received_on) <= date(year, 12, 31),
        )
    if overdue is not None:
        late = and_(
            col(DisclosureRequest.state).in_([RequestState.open, RequestState.paused]),
            col(DisclosureRequest.due_on) < as_of,
        )
        query = query.where(late if overdue else ~late)
    query = query.order_by(col(DisclosureRequest.received_on), col(DisclosureRequest.id))
    return list(session.exec(query.offset(offset).limit(limit)))


# --------------------------------------------------------------------------- table 三


def outcome_row(state: str, outcome: str | None, template: Template) -> str:
    """The table 三 row a closed application counts in under a template.

    A withdrawn application is 三(六) 其他处理 (2021: 三(六)3 其他); the 2021 rows of 三(六)
    fold into the 2019 template's one row, and a plain `other` is 2021's 三(六)3.
    """
    if state == RequestState.withdrawn or outcome is None:
        return "other" if template == "2019" else "other_misc"
    if template == "2019" and outcome in _OTHER_2021:
        return "other"
    if template == "2021" and outcome == "other":
        return "other_misc"
    return outcome


def _empty(template: Template) -> TableThree:
    return {row: dict.fromkeys(COLUMNS, 0) for row in ROWS[template]}


def table_three_query(unit_codes: Sequence[str], year: int) -> Any:
    """The one grouped read table 三 needs: the units' applications received by the end of
    `year` and not closed before it, counted by the stored columns, in the order of the
    covering index ix_disclosure_requests_table_three (no table row is read)."""
    t = DisclosureRequest.__table__  # type: ignore[attr-defined]
    closed = t.c.closed_year
    keys = (t.c.unit_code, t.c.received_year, closed, t.c.applicant_type, t.c.report_row)
    return (
        select(*keys, func.count())  # type: ignore[call-overload]
        .where(
            t.c.unit_code.in_(list(unit_codes)),
            t.c.received_year <= year,
            or_(closed.is_(None), closed >= year),
        )
        .group_by(*keys)
    )


_FOLD_2019 = dict.fromkeys((*_OTHER_2021, "other"), "other")


def table_three_many(
    session: Session, unit_codes: Sequence[str], year: int, template: Template
) -> dict[str, TableThree]:
    """Table 三 of each unit, in one grouped query (see `table_three`).

    Each group of applications counts once on each side: 一 received (received this year)
    or 二 carried in (earlier), and one outcome row (closed this year) or 四 carried out.
    """
    tables = {code: _empty(template) for code in unit_codes}
    if not unit_codes:
        return tables
    fold = _FOLD_2019 if template == "2019" else {}
    for unit_code, received_year, closed_year, applicant, row, n in (
        session.connection().execute(table_three_query(unit_codes, year)).all()
    ):
        table = tables[unit_code]
        column = str(getattr(applicant, "value", applicant))
        table["received" if received_year == year else "carried_in"][column] += n
        if closed_year == year:
            table[fold.get(row, row)][column] += n
        else:
            table["carried_out"][column] += n
    for table in tables.values():
        for column in APPLICANT_COLUMNS:
            table["total"][column] = sum(table[row][column] for row in OUTCOME_ROWS[template])
        for cells in table.values():
            cells["total"] = sum(cells[column] for column in APPLICANT_COLUMNS)
    return tables


def table_three(session: Session, unit_code: str, year: int, template: Template) -> TableThree:
    """年度报告表三 / the annual report's table 三 for a unit and year, from the register.

    {ROW: {COLUMN: int}} with the annual-report codes: 一 `received` (received in the year),
    二 `carried_in` (received before, still open at the end of the previous year), one row
    per outcome for the applications closed in the year (withdrawn ones count as 其他处理),
    三(七) `total`, 四 `carried_out` (open at the end of the year); columns the applicant
    types and `total`. Every application in it is received in or carried into the year and
    either closed in it or carried out, so 一 + 二 = 三(七) + 四 in every column.
    """
    return table_three_many(session, [unit_code], year, template)[unit_code]


def default_template(year: int) -> Template:
    """国办公开办函〔2019〕60号 for the 2019 and 2020 reports, 〔2021〕30号 from 2021."""
    return "2019" if year <= 2020 else "2021"


def sum_tables(tables: Iterable[TableThree], template: Template) -> TableThree:
    total = _empty(template)
    for table in tables:
        for row, cells in table.items():
            for column, value in cells.items():
                total[row][column] += value
    return total


# --------------------------------------------------------------------------- audit


@dataclass(frozen=True)
class AuditScope:
    as_of: date
    district: str | None


def audit(session: Session, scope: AuditScope, *, limit: int, offset: int) -> dict[str, Any]:
    """Per unit that has open applications or answered some this year, as of a day: open,
    due within 5 working days, overdue (listed) and answered late in the year."""
    as_of = scope.as_of
    year_start = date(as_of.year, 1, 1)
    r = DisclosureRequest
    open_then = and_(
        col(r.received_on) <= as_of, or_(col(r.closed_on).is_(None), col(r.closed_on) > as_of)
    )
    answered_this_year = and_(col(r.closed_on) >= year_start, col(r.closed_on) <= as_of)
    units_query = (
        select(col(Unit.code), col(Unit.name))
        .join(r, col(r.unit_code) == col(Unit.code))
        .where(or_(open_then, answered_this_year))
        .group_by(col(Unit.code), col(Unit.name))
        .order_by(col(Unit.code))
    )
    if scope.district is not None:
        units_query = units_query.where(
            or_(col(Unit.code) == scope.district, col(Unit.parent_code) == scope.district)
        )
    units = session.exec(units_query.offset(offset).limit(limit + 1)).all()
    units, more = paging.cut(units, limit)
    codes = [code for code, _ in units]
    rows: dict[str, dict[str, Any]] = {
        code: {
            "unit_code": code,
            "unit_name": name,
            "open": 0,
            "due_within_5": 0,
            "overdue": 0,
            "answered_late": 0,
            "overdue_requests": [],
        }
        for code, name in units
    }
    if codes:
        late = session.exec(
            select(col(r.unit_code), func.count())
            .where(col(r.unit_code).in_(codes), answered_this_year, col(r.on_time).is_(False))
            .group_by(col(r.unit_code))
        ).all()
        for code, n in late:
            rows[code]["answered_late"] = n
        pending = list(
            session.exec(
                select(r)
                .where(col(r.unit_code).in_(codes), open_then)
                .order_by(col(r.unit_code), col(r.received_on), col(r.id))
            )
        )
        calendar = work_calendar(session)
        events = events_of(session, (p.id for p in pending if p.id is not None))
        for request in pending:
            clock = replay(request, events[request.id or 0], calendar, through=as_of)
            row = rows[request.unit_code]
            row["open"] += 1
            left = clock.days_left(as_of, calendar)
            if left is None:
                continue
            if left < 0:
                row["overdue"] += 1
                row["overdue_requests"].append(
                    {
                        "id": request.id,
                        "reference": request.reference,
                        "received_on": request.received_on,
                        "due_on": clock.due_on,
                        "days_overdue": -left,
                        "state": clock.state_on(as_of),
                    }
                )
            elif left <= 5:
                row["due_within_5"] += 1
    return {
        "as_of": as_of,
        "district": scope.district,
        "units": list(rows.values()),
        "next_offset": paging.next_offset(offset, limit, more),
    }
