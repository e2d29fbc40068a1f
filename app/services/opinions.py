"""落实意见 / implementation opinions: record, correct and list them; each write to the history."""

from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, or_
from sqlmodel import Session, col, select

from app.errors import Forbidden, invalid
from app.models.common import Role, UnitKind, today_in_beijing, utcnow
from app.models.domain import Domain
from app.models.milestone import Opinion, OpinionCreate, OpinionUpdate
from app.models.unit import Unit
from app.principal import Principal
from app.rules.attributes import event_date_problem
from app.services import history

ISSUER_KINDS = (UnitKind.city, UnitKind.district, UnitKind.department)
"""Opinions are issued by the city, a district, or one of their domain departments."""

OUT_OF_SCOPE = "超出令牌的单位范围 / outside the unit scope of this token"


def etag(opinion: Opinion) -> str:
    return f'"o{opinion.id}.{opinion.revision}"'


def may_record(principal: Principal, issuer: Unit) -> bool:
    """Auditors and admins any unit; an editor its own unit or a department under it
    (a district editor, as everywhere, also the units under its district)."""
    if principal.role in (Role.auditor, Role.admin):
        return True
    return principal.can_write(issuer) or (
        principal.role == Role.editor
        and issuer.kind == UnitKind.department
        and issuer.parent_code is not None
        and issuer.parent_code == principal.unit_code
    )


def _scope(principal: Principal) -> ColumnElement[bool] | None:
    """The issuers an editor's list shows: the same units `may_record` lets it write."""
    if principal.role in (Role.auditor, Role.admin):
        return None
    below = col(Unit.parent_code) == principal.unit_code
    if principal.unit_kind != UnitKind.district:
        below = and_(below, col(Unit.kind) == UnitKind.department)
    return or_(col(Unit.code) == principal.unit_code, below)


def _ancestors(session: Session, principal: Principal) -> list[str]:
    """The units above an editor's unit (its district, the city): their opinions apply to it."""
    codes: list[str] = []
    unit = session.get(Unit, principal.unit_code) if principal.unit_code else None
    while unit is not None and unit.parent_code is not None and len(codes) < 8:
        codes.append(unit.parent_code)
        unit = session.get(Unit, unit.parent_code)
    return codes


def may_read(session: Session, principal: Principal, issuer: Unit) -> bool:
    """Whoever may record an opinion reads it, and so do the units it applies to below."""
    return may_record(principal, issuer) or issuer.code in _ancestors(session, principal)


def _not_in_future(day: date) -> None:
    """An opinion's date must be possible: not in the future, not before 2000."""
    if (problem := event_date_problem("issued_on", day, today_in_beijing())) is not None:
        raise invalid(("body", "issued_on"), problem[1], problem[0])


def _snapshot(opinion: Opinion) -> dict[str, Any]:
    return opinion.model_dump(
        mode="json",
        include={"domain_code", "issuer_unit_code", "title", "doc_number", "issued_on", "url"},
    )


def create(session: Session, data: OpinionCreate, *, actor: Principal) -> Opinion:
    if session.get(Domain, data.domain_code) is None:
        raise invalid(
            ("body", "domain_code"),
            f"领域 {data.domain_code} 不存在 / unknown domain {data.domain_code}",
            "unknown_domain",
        )
    issuer = session.get(Unit, data.issuer_unit_code)
    if issuer is None:
        raise invalid(
            ("body", "issuer_unit_code"),
            f"单位 {data.issuer_unit_code} 不存在 / unknown unit {data.issuer_unit_code}",
            "unknown_unit",
        )
    if issuer.kind not in ISSUER_KINDS:
        raise invalid(
            ("body", "issuer_unit_code"),
            "落实意见由市、区或其业务主管部门印发 / an opinion is issued by the city, a "
            f"district or one of their domain departments, not a {issuer.kind}",
            "issuer_kind",
        )
    if not may_record(actor, issuer):
        raise Forbidden(OUT_OF_SCOPE)
    _not_in_future(data.issued_on)
    opinion = Opinion.model_validate(data)
    session.add(opinion)
    session.flush()
    history.record(
        session,
        actor,
        action="create",
        entity="opinion",
        entity_id=opinion.id,
        unit_code=opinion.issuer_unit_code,
        domain_code=opinion.domain_code,
        after=_snapshot(opinion),
    )
    return opinion


def update(session: Session, opinion: Opinion, data: OpinionUpdate, *, actor: Principal) -> Opinion:
    """A correction (wrong date, number or address); the old values stay in the history."""
    if data.issued_on is not None:
        _not_in_future(data.issued_on)
    before = _snapshot(opinion)
    opinion.sqlmodel_update(data.model_dump(exclude_unset=True))
    if _snapshot(opinion) == before:
        return opinion
    opinion.updated_at = utcnow()
    session.add(opinion)
    session.flush()
    history.record(
        session,
        actor,
        action="correct",
        entity="opinion",
        entity_id=opinion.id,
        unit_code=opinion.issuer_unit_code,
        domain_code=opinion.domain_code,
        before=before,
        after=_snapshot(opinion),
    )
    return opinion


def find(
    session: Session,
    *,
    principal: Principal,
    domain_code: str | None = None,
    issuer_unit_code: str | None = None,
    limit: int,
    offset: int = 0,
) -> list[Opinion]:
    """Opinions by issue date; an editor sees those of the units it may record for."""
    query = select(Opinion).join(Unit, col(Unit.code) == col(Opinion.issuer_unit_code))
    if (scope := _scope(principal)) is not None:
        # Opinions apply downwards: a street also sees its district's and the city's.
        query = query.where(or_(scope, col(Unit.code).in_(_ancestors(session, principal))))
    if domain_code is not None:
        query = query.where(Opinion.domain_code == domain_code)
    if issuer_unit_code is not None:
        query = query.where(Opinion.issuer_unit_code == issuer_unit_code)
    query = query.order_by(col(Opinion.issued_on), col(Opinion.id)).offset(offset).limit(limit)
    return list(session.exec(query))


def with_issuer(session: Session, opinion_id: int) -> tuple[Opinion, Unit] | None:
    """The opinion with its issuing unit (one query), None when there is no such opinion."""
    row = session.exec(
        select(Opinion, Unit)
        .join(Unit, col(Unit.code) == col(Opinion.issuer_unit_code))
        .where(col(Opinion.id) == opinion_id)
    ).first()
    return None if row is None else (row[0], row[1])
