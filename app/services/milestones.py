"""节点 / milestones: who is obliged, what meets them, and each obliged unit × domain's state.

The obligation (unit kinds × domains, minus domains declared not applicable) and the event
date are worked out by one SQL statement; the state is then a pure function of
(due date, event date, as-of date), `state_of`, the only place the four states are decided.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    Select,
    String,
    and_,
    bindparam,
    case,
    cast,
    delete,
    false,
    func,
    literal,
    true,
    union_all,
)
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlalchemy.orm.attributes import flag_modified
from sqlmodel import Session, col, select

from app.errors import Conflict, invalid
from app.models.catalogue import Catalogue, CatalogueVersion
from app.models.common import UnitKind
from app.models.domain import Domain
from app.models.milestone import (
    Milestone,
    MilestoneCreate,
    MilestoneDomain,
    MilestoneEvent,
    MilestonePublic,
    MilestoneState,
    MilestoneStatus,
    MilestoneUpdate,
    Opinion,
)
from app.models.unit import Unit
from app.principal import Principal
from app.services import history


@dataclass(frozen=True)
class Filters:
    """`district`: that district and its streets and towns; `domain`: one domain code."""

    district: str | None = None
    domain: str | None = None
    units: tuple[str, ...] | None = None
    """only these units (the audit's page of units)"""


def state_of(due_on: date, done_on: date | None, as_of: date) -> tuple[MilestoneState, int]:
    """The state and its days, in calendar days; an event after `as_of` has not happened yet."""
    if done_on is not None and done_on <= as_of:
        if done_on <= due_on:
            return MilestoneState.on_time, 0
        return MilestoneState.late, (done_on - due_on).days
    if as_of <= due_on:
        return MilestoneState.pending, (due_on - as_of).days
    return MilestoneState.overdue, (as_of - due_on).days


def _first_opinions(counts_from: date | None) -> Any:
    """The earliest opinion per (unit it counts for, domain), on or after `counts_from`.

    A domain department's opinion counts for the unit it belongs to (the city or a district).
    The unit is worked out in an inner query and grouped on outside: PostgreSQL would not
    see two renderings of the same CASE with bound parameters as one GROUP BY expression.
    """
    issuer = aliased(Unit)
    counts_for = case(
        (col(issuer.kind) == UnitKind.department, col(issuer.parent_code)),
        else_=col(issuer.code),
    )
    each = (
        select(
            counts_for.label("unit_code"),
            col(Opinion.domain_code).label("domain_code"),
            col(Opinion.issued_on).label("issued_on"),
        )
        .join(issuer, col(issuer.code) == col(Opinion.issuer_unit_code))
        .where(col(Opinion.issued_on) >= counts_from if counts_from is not None else true())
        .subquery()
    )
    return (
        select(
            each.c.unit_code,
            each.c.domain_code,
            func.min(each.c.issued_on).label("done_on"),
        )
        .group_by(each.c.unit_code, each.c.domain_code)
        .subquery()
    )


def _units(codes: Sequence[str]) -> Any:
    return bindparam("codes", list(codes), expanding=True)


def _first_publishes(counts_from: date, filters: Filters) -> Any:
    """The earliest version per unit × domain published on or after `counts_from`."""
    query: Any = select(
        col(CatalogueVersion.unit_code).label("unit_code"),
        col(CatalogueVersion.domain_code).label("domain_code"),
        func.min(CatalogueVersion.published_on).label("done_on"),
    ).where(col(CatalogueVersion.published_on) >= counts_from)
    if filters.units is not None:
        query = query.where(col(CatalogueVersion.unit_code).in_(_units(filters.units)))
    return query.group_by(
        col(CatalogueVersion.unit_code), col(CatalogueVersion.domain_code)
    ).subquery()


def _event(milestone: Milestone, filters: Filters) -> tuple[Any, Any]:
    """The event date of a unit × domain: (its column, the subquery it comes from, to be
    joined on unit_code and domain_code; None: a column of the unit × domain's catalogue)."""
    event = MilestoneEvent(milestone.event)
    if event is MilestoneEvent.opinion:
        events = _first_opinions(milestone.counts_from)
        return events.c.done_on, events
    if event is MilestoneEvent.compiled:
        return col(Catalogue.first_compiled_on), None
    if milestone.counts_from is not None:
        events = _first_publishes(milestone.counts_from, filters)
        return events.c.done_on, events
    return col(Catalogue.first_published_on), None


def _obligations(milestone: Milestone, filters: Filters) -> Select[Any]:
    """unit_code, domain_code, done_on for every unit × domain the milestone obliges: the
    unit kinds × the milestone's own domain set (milestone_domains)."""
    done_on, events = _event(milestone, filters)
    on = and_(
        col(Catalogue.unit_code) == col(Unit.code),
        col(Catalogue.domain_code) == col(Domain.code),
    )
    if filters.units is not None:
        # said on the catalogue side too, so that the planner looks up the few catalogues
        # through (unit_code, domain_code) instead of hashing every catalogue of the nation
        on = and_(on, col(Catalogue.unit_code).in_(_units(filters.units)))
    query: Select[Any] = (
        sa_select(
            col(Unit.code).label("unit_code"),
            col(Domain.code).label("domain_code"),
            done_on.label("done_on"),
        )
        .select_from(Unit)
        .join(Domain, true())
        .join(
            MilestoneDomain,
            and_(
                col(MilestoneDomain.milestone_code) == literal(milestone.code),
                col(MilestoneDomain.domain_code) == col(Domain.code),
            ),
        )
        .join(Catalogue, on, isouter=True)
        .where(
            col(Unit.kind).in_(milestone.unit_kinds),
            # a unit that declared the domain not applicable is not obliged for it
            col(Catalogue.applicable).is_not(False),
        )
    )
    if events is not None:
        query = query.join(
            events,
            and_(
                events.c.unit_code == col(Unit.code),
                events.c.domain_code == col(Domain.code),
            ),
            isouter=True,
        )
    if filters.district is not None:
        district: Any = bindparam("district", filters.district)
        query = query.where((col(Unit.code) == district) | (col(Unit.parent_code) == district))
    if filters.domain is not None:
        query = query.where(col(Domain.code) == bindparam("domain", filters.domain))
    if filters.units is not None:
        query = query.where(col(Unit.code).in_(_units(filters.units)))
    return query


def _in_state(done_on: Any, milestone: Milestone, state: MilestoneState, as_of: date) -> Any:
    """`state_of` as a SQL condition on the event date, for filtering before paging."""
    done = done_on.is_not(None) & (done_on <= as_of)
    if state is MilestoneState.on_time:
        return done & (done_on <= milestone.due_on)
    if state is MilestoneState.late:
        return done & (done_on > milestone.due_on)
    waiting = done_on.is_(None) | (done_on > as_of)
    if state is MilestoneState.pending:
        return waiting if as_of <= milestone.due_on else false()
    return waiting if as_of > milestone.due_on else false()


def _status_query(
    milestone: Milestone,
    as_of: date,
    district: str | None,
    domain: str | None,
    state: MilestoneState | None,
    limit: int | None,
    offset: int,
) -> Any:
    rows = _obligations(milestone, Filters(district, domain)).subquery()
    query = sa_select(rows.c.unit_code, rows.c.domain_code, rows.c.done_on)
    if state is not None:
        query = query.where(_in_state(rows.c.done_on, milestone, state, as_of))
    query = query.order_by(rows.c.unit_code, rows.c.domain_code)
    if offset:
        query = query.offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return query


def status_dicts(
    session: Session,
    milestone: Milestone,
    *,
    as_of: date,
    district: str | None = None,
    domain: str | None = None,
    state: MilestoneState | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """One row per obliged unit × domain (only those in `state` if given), by unit then
    domain code, in one SQL statement: plain dicts in MilestoneStatus's field order, for a
    JSON answer serialised once (no model per row: a page holds up to 1,000 rows and few
    distinct states, decided once each by Decider)."""
    query = _status_query(milestone, as_of, district, domain, state, limit, offset)
    decide = Decider([milestone], as_of)
    code = milestone.code
    result: list[dict[str, Any]] = []
    for unit_code, domain_code, done_on in session.execute(query):
        found, days, done = decide(code, done_on)
        result.append(
            {
                "unit_code": unit_code,
                "domain_code": domain_code,
                "state": found.value,
                "days": days,
                "done_on": done,
            }
        )
    return result


StateKey = tuple[str, str, str]
"""(milestone code, unit code, domain code)"""


StateTuple = tuple[MilestoneState, int, date | None]
"""(state, days, done_on): a MilestoneStatus without the model, for callers with many rows"""


def states_query(milestones: Sequence[Milestone], filters: Filters) -> Any:
    """unit_code, domain_code, done_on, milestone_code for every milestone and every unit ×
    domain it obliges: one statement. Its values are named parameters `district`, `domain`
    and `codes` (the units), so that a caller may compile it once per shape."""
    return union_all(
        *[
            _obligations(m, filters).add_columns(
                cast(literal(m.code), String).label("milestone_code")
            )
            for m in milestones
        ]
    )


def domain_columns(milestones: Sequence[Milestone], domain_code: Any) -> list[Any]:
    """Per milestone, whether the domain is in its domain set (milestone_domains): columns
    for a statement over domains, so that row_columns reads each set once per domain."""
    return [
        sa_select(literal(1))
        .where(
            col(MilestoneDomain.milestone_code) == literal(m.code),
            col(MilestoneDomain.domain_code) == domain_code,
        )
        .exists()
        .label(f"in_set_{i}")
        for i, m in enumerate(milestones)
    ]


def row_columns(
    milestones: Sequence[Milestone],
    filters: Filters,
    *,
    unit_code: Any,
    unit_kind: Any,
    domain_code: Any,
    in_sets: Sequence[Any],
) -> tuple[list[Any], list[tuple[Any, Any]]]:
    """What states_query says, as columns of a statement that already has one row per unit ×
    domain with the unit × domain's catalogue outer-joined (Catalogue; the audit's page
    rows): per milestone, whether it obliges the row (1 or 0: the unit's kind, the domain in
    its set, `in_sets` being the caller's domain_columns, the catalogue not declared not
    applicable) and the event date. Also the subqueries the dates come from, each with its
    join condition, to be outer-joined."""
    columns: list[Any] = []
    joins: list[tuple[Any, Any]] = []
    for m, in_set in zip(milestones, in_sets, strict=True):
        done_on, events = _event(m, filters)
        obliged = and_(
            unit_kind.in_(m.unit_kinds), col(Catalogue.applicable).is_not(False), in_set == true()
        )
        columns += [case((obliged, 1), else_=0), done_on]
        if events is not None:
            on = and_(events.c.unit_code == unit_code, events.c.domain_code == domain_code)
            joins.append((events, on))
    return columns, joins


class Decider:
    """state_of for each distinct milestone and event date (a page holds thousands of rows
    and few dates). `done_on` may be ISO text (SQLite's driver)."""

    def __init__(self, milestones: Sequence[Milestone], as_of: date) -> None:
        self.due = {m.code: m.due_on for m in milestones}
        self.as_of = as_of
        self.decided: dict[tuple[str, Any], StateTuple] = {}

    def __call__(self, code: str, done_on: Any) -> StateTuple:
        found = self.decided.get((code, done_on))
        if found is None:
            day = date.fromisoformat(done_on) if isinstance(done_on, str) else done_on
            state, days = state_of(self.due[code], day, self.as_of)
            done = day if state in (MilestoneState.on_time, MilestoneState.late) else None
            found = self.decided[(code, done_on)] = (state, days, done)
        return found


def decide(
    milestones: Sequence[Milestone], rows: Iterable[Sequence[Any]], as_of: date
) -> dict[StateKey, StateTuple]:
    """The states of states_query's rows."""
    decider = Decider(milestones, as_of)
    return {
        (code, unit_code, domain_code): decider(code, done_on)
        for unit_code, domain_code, done_on, code in rows
    }


def state_tuples(
    session: Session,
    *,
    as_of: date,
    district: str | None = None,
    domain: str | None = None,
    units: Sequence[str] | None = None,
) -> dict[StateKey, StateTuple]:
    """Every milestone's state for every obliged unit × domain (or only `units`): two SQL
    statements in all; state_of decides each state."""
    milestones = listing(session)
    if not milestones:
        return {}
    filters = Filters(district, domain, tuple(units) if units is not None else None)
    rows = session.execute(states_query(milestones, filters)).all()
    return decide(milestones, rows, as_of)


def states_for(
    session: Session,
    *,
    as_of: date,
    district: str | None = None,
    domain: str | None = None,
    units: Sequence[str] | None = None,
) -> dict[StateKey, MilestoneStatus]:
    """Every milestone's state for every obliged unit × domain (or only `units`): two SQL
    statements in all."""
    return {
        (code, unit_code, domain_code): MilestoneStatus(
            unit_code=unit_code, domain_code=domain_code, state=state, days=days, done_on=done
        )
        for (code, unit_code, domain_code), (state, days, done) in state_tuples(
            session, as_of=as_of, district=district, domain=domain, units=units
        ).items()
    }


def listing(session: Session) -> list[Milestone]:
    return list(
        session.exec(select(Milestone).order_by(col(Milestone.position), col(Milestone.due_on)))
    )


def etag(milestone: Milestone) -> str:
    return f'"m-{milestone.code}.{milestone.revision}"'


def domain_sets(session: Session) -> dict[str, list[str]]:
    """Every milestone's domain codes, in code order: one statement."""
    sets: dict[str, list[str]] = {}
    rows = session.exec(
        select(MilestoneDomain).order_by(
            col(MilestoneDomain.milestone_code), col(MilestoneDomain.domain_code)
        )
    )
    for row in rows:
        sets.setdefault(row.milestone_code, []).append(row.domain_code)
    return sets


def domain_codes(session: Session, milestone: Milestone) -> list[str]:
    return list(
        session.exec(
            select(col(MilestoneDomain.domain_code))
            .where(MilestoneDomain.milestone_code == milestone.code)
            .order_by(col(MilestoneDomain.domain_code))
        )
    )


def public(milestone: Milestone, codes: list[str]) -> MilestonePublic:
    return MilestonePublic.model_validate(
        milestone.model_dump() | {"domain_codes": codes, "etag": etag(milestone)}
    )


def publics(session: Session) -> list[MilestonePublic]:
    sets = domain_sets(session)
    return [public(m, sets.get(m.code, [])) for m in listing(session)]


def resolve_domains(session: Session, domains: str) -> list[str]:
    """`pilot` or `all`, resolved now: the set is stored, so a domain added later is not in it."""
    query = select(col(Domain.code)).order_by(col(Domain.code))
    if domains == "pilot":
        query = query.where(col(Domain.is_pilot).is_(True))
    return list(session.exec(query))


def _check_codes(session: Session, codes: list[str]) -> None:
    known = set(session.exec(select(col(Domain.code)).where(col(Domain.code).in_(codes))))
    if unknown := [code for code in codes if code not in known]:
        raise invalid(
            ("body", "domain_codes"),
            f"未知领域 {', '.join(unknown)} / unknown domains: {', '.join(unknown)}",
            "unknown_domain",
        )


def _check_counts_from(event: str, counts_from: date | None) -> None:
    if counts_from is not None and event == MilestoneEvent.compiled:
        raise invalid(
            ("body", "counts_from"),
            "counts_from 只适用于 opinion 和 published 事件（只记录了首次编制日期） / counts_from "
            "applies to the opinion and published events only (only the first compile date is "
            "kept)",
            "counts_from_event",
        )


def set_domains(session: Session, milestone: Milestone, codes: list[str]) -> None:
    session.exec(
        delete(MilestoneDomain).where(col(MilestoneDomain.milestone_code) == milestone.code)
    )
    session.add_all(MilestoneDomain(milestone_code=milestone.code, domain_code=c) for c in codes)


def _snapshot(milestone: Milestone, codes: list[str]) -> dict[str, Any]:
    return milestone.model_dump(mode="json", exclude={"revision"}) | {"domain_codes": codes}


def create(session: Session, data: MilestoneCreate, *, actor: Principal) -> MilestonePublic:
    if session.get(Milestone, data.code) is not None:
        raise Conflict(f"节点 {data.code} 已存在 / milestone {data.code} exists")
    _check_counts_from(data.event, data.counts_from)
    codes = data.domain_codes
    if codes is None:
        codes = resolve_domains(session, data.domains)
    else:
        _check_codes(session, codes)
    milestone = Milestone.model_validate(data.model_dump(exclude={"domain_codes"}))
    session.add(milestone)
    session.flush()
    set_domains(session, milestone, codes)
    session.flush()
    history.record(
        session,
        actor,
        action="create",
        entity="milestone",
        entity_id=milestone.code,
        after=_snapshot(milestone, codes),
    )
    return public(milestone, codes)


def update(
    session: Session, milestone: Milestone, data: MilestoneUpdate, *, actor: Principal
) -> MilestonePublic:
    """Move a date or change who is obliged; the change and the old values go to the history.
    `domain_codes` replaces the domain set; `domains` alone chooses it again from today's
    domains."""
    sent = data.model_dump(exclude_unset=True)
    old_codes = domain_codes(session, milestone)
    before = _snapshot(milestone, old_codes)
    codes = sent.pop("domain_codes", None)
    if codes is not None:
        _check_codes(session, codes)
    elif "domains" in sent:
        codes = resolve_domains(session, sent["domains"])
    milestone.sqlmodel_update(sent)
    _check_counts_from(milestone.event, milestone.counts_from)
    codes = codes if codes is not None else old_codes
    if _snapshot(milestone, codes) == before:
        return public(milestone, old_codes)
    if codes != old_codes:
        set_domains(session, milestone, codes)
    flag_modified(milestone, "title")  # the revision (ETag) moves on with the domain set too
    session.add(milestone)
    session.flush()
    history.record(
        session,
        actor,
        action="update",
        entity="milestone",
        entity_id=milestone.code,
        before=before,
        after=_snapshot(milestone, codes),
    )
    return public(milestone, codes)


def find(session: Session, code: str) -> Milestone | None:
    """The milestone `code`, None when there is none."""
    return session.get(Milestone, code)
