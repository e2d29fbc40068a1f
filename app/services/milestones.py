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
    func,
    literal,
    true,
    union_all,
)
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from app.errors import Conflict
from app.models.catalogue import Catalogue
from app.models.common import UnitKind
from app.models.domain import Domain
from app.models.milestone import (
    Milestone,
    MilestoneCreate,
    MilestoneEvent,
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


def status_row(
    milestone: Milestone, unit_code: str, domain_code: str, done_on: date | None, as_of: date
) -> MilestoneStatus:
    state, days = state_of(milestone.due_on, done_on, as_of)
    return MilestoneStatus(
        unit_code=unit_code,
        domain_code=domain_code,
        state=state,
        days=days,
        done_on=done_on if state in (MilestoneState.on_time, MilestoneState.late) else None,
    )


def _first_opinions() -> Any:
    """The earliest opinion per (unit it counts for, domain).

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


def _obligations(milestone: Milestone, filters: Filters) -> Select[Any]:
    """unit_code, domain_code, done_on for every unit × domain the milestone obliges."""
    done_on: Any
    event = MilestoneEvent(milestone.event)
    if event is MilestoneEvent.opinion:
        opinions = _first_opinions()
        done_on = opinions.c.done_on
    elif event is MilestoneEvent.compiled:
        done_on = col(Catalogue.first_compiled_on)
    else:
        done_on = col(Catalogue.first_published_on)
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
        .join(Catalogue, on, isouter=True)
        .where(
            col(Unit.kind).in_(milestone.unit_kinds),
            # a unit that declared the domain not applicable is not obliged for it
            col(Catalogue.applicable).is_not(False),
        )
    )
    if event is MilestoneEvent.opinion:
        query = query.join(
            opinions,
            and_(
                opinions.c.unit_code == col(Unit.code),
                opinions.c.domain_code == col(Domain.code),
            ),
            isouter=True,
        )
    if milestone.domains == "pilot":
        query = query.where(col(Domain.is_pilot).is_(True))
    if filters.district is not None:
        district: Any = bindparam("district", filters.district)
        query = query.where((col(Unit.code) == district) | (col(Unit.parent_code) == district))
    if filters.domain is not None:
        query = query.where(col(Domain.code) == bindparam("domain", filters.domain))
    if filters.units is not None:
        query = query.where(col(Unit.code).in_(_units(filters.units)))
    return query


def statuses(
    session: Session,
    milestone: Milestone,
    *,
    as_of: date,
    district: str | None = None,
    domain: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[MilestoneStatus]:
    """One row per obliged unit × domain, by unit then domain code; one SQL statement."""
    query = _obligations(milestone, Filters(district, domain)).order_by(
        col(Unit.code), col(Domain.code)
    )
    if offset:
        query = query.offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return [
        status_row(milestone, unit_code, domain_code, done_on, as_of)
        for unit_code, domain_code, done_on in session.execute(query)
    ]


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


def decide(
    milestones: Sequence[Milestone], rows: Iterable[Sequence[Any]], as_of: date
) -> dict[StateKey, StateTuple]:
    """The states of states_query's rows (state_of for each distinct milestone and event
    date: a page holds thousands of rows and few dates). `done_on` may be ISO text (SQLite's
    driver)."""
    due = {m.code: m.due_on for m in milestones}
    decided: dict[tuple[str, Any], StateTuple] = {}
    result: dict[StateKey, StateTuple] = {}
    for unit_code, domain_code, done_on, code in rows:
        found = decided.get((code, done_on))
        if found is None:
            day = date.fromisoformat(done_on) if isinstance(done_on, str) else done_on
            state, days = state_of(due[code], day, as_of)
            done = day if state in (MilestoneState.on_time, MilestoneState.late) else None
            found = decided[(code, done_on)] = (state, days, done)
        result[code, unit_code, domain_code] = found
    return result


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


def _snapshot(milestone: Milestone) -> dict[str, Any]:
    return milestone.model_dump(mode="json")


def create(session: Session, data: MilestoneCreate, *, actor: Principal) -> Milestone:
    if session.get(Milestone, data.code) is not None:
        raise Conflict(f"节点 {data.code} 已存在 / milestone {data.code} exists")
    milestone = Milestone.model_validate(data)
    session.add(milestone)
    session.flush()
    history.record(
        session,
        actor,
        action="create",
        entity="milestone",
        entity_id=milestone.code,
        after=_snapshot(milestone),
    )
    return milestone


def update(
    session: Session, milestone: Milestone, data: MilestoneUpdate, *, actor: Principal
) -> Milestone:
    """Move a date or change who is obliged; the change and the old values go to the history."""
    before = _snapshot(milestone)
    milestone.sqlmodel_update(data.model_dump(exclude_unset=True))
    if _snapshot(milestone) == before:
        return milestone
    session.add(milestone)
    session.flush()
    history.record(
        session,
        actor,
        action="update",
        entity="milestone",
        entity_id=milestone.code,
        before=before,
        after=_snapshot(milestone),
    )
    return milestone
