"""参考数据 / reference data: domains, units, the standard guides, and the reference rows
a request names in its query, with one answer for a bad one.

A filter that names no such district or domain is a 422 naming the parameter, on every
route that takes it (milestone status, audits)."""

from collections.abc import Iterable

from sqlmodel import Session, col, select

from app.errors import Conflict, invalid
from app.models.common import UnitKind
from app.models.domain import Domain, DomainCreate
from app.models.guide import GuideItem
from app.models.unit import Unit, UnitCreate
from app.principal import Principal
from app.services import history


def find_unit(session: Session, code: str) -> Unit | None:
    """The unit `code`, None when there is none."""
    return session.get(Unit, code)


def find_domain(session: Session, code: str) -> Domain | None:
    """The domain `code`, None when there is none."""
    return session.get(Domain, code)


def district(session: Session, code: str) -> Unit:
    """The district `code`, or 422 on query.district."""
    unit = session.get(Unit, code)
    if unit is None or unit.kind != UnitKind.district:
        raise invalid(
            ("query", "district"),
            f"{code} 不是已知的区 / {code} is not a known district",
            "unknown_district",
        )
    return unit


def domain(session: Session, code: str) -> Domain:
    """The domain `code`, or 422 on query.domain."""
    row = session.get(Domain, code)
    if row is None:
        raise invalid(
            ("query", "domain"),
            f"领域 {code} 不存在 / unknown domain {code}",
            "unknown_domain",
        )
    return row


def domains(session: Session) -> list[Domain]:
    """Every domain, by code."""
    return list(session.exec(select(Domain).order_by(col(Domain.code))))


def guide_items(session: Session, domain_code: str) -> list[GuideItem]:
    """The standard guide's items for the domain, in order."""
    return list(
        session.exec(
            select(GuideItem)
            .where(GuideItem.domain_code == domain_code)
            .order_by(col(GuideItem.position), col(GuideItem.id))
        )
    )


def unit_names(session: Session, codes: Iterable[str]) -> dict[str, str]:
    """单位名称 / the names of the units `codes` names, by code."""
    query = select(col(Unit.code), col(Unit.name)).where(col(Unit.code).in_(list(codes)))
    return dict(session.exec(query).all())


def domain_names(session: Session) -> dict[str, str]:
    """领域名称 / every domain's name, by code."""
    return dict(session.exec(select(col(Domain.code), col(Domain.name))).all())


def units(
    session: Session,
    *,
    parent_code: str | None,
    kind: UnitKind | None,
    limit: int,
    offset: int,
) -> list[Unit]:
    """Units by code from `offset`, at most `limit` (ask for one more to know if more follow)."""
    query = select(Unit)
    if parent_code is not None:
        query = query.where(Unit.parent_code == parent_code)
    if kind is not None:
        query = query.where(Unit.kind == kind)
    return list(session.exec(query.order_by(col(Unit.code)).offset(offset).limit(limit)))


def create_domain(session: Session, auditor: Principal, data: DomainCreate) -> Domain:
    """Add a "26+N" domain: 409 when its code or name is taken."""
    if session.get(Domain, data.code) is not None:
        raise Conflict(f"领域代码 {data.code} 已存在 / domain code {data.code} exists")
    if session.exec(select(Domain).where(Domain.name == data.name)).first() is not None:
        raise Conflict(f"领域名称 {data.name} 已存在 / domain name {data.name} exists")
    domain = Domain.model_validate(data)
    session.add(domain)
    session.flush()
    history.record(
        session,
        auditor,
        action="create",
        entity="domain",
        entity_id=domain.code,
        domain_code=domain.code,
        after=data.model_dump(),
    )
    return domain


PARENT_KINDS: dict[UnitKind, tuple[UnitKind | None, ...]] = {
    UnitKind.city: (None,),
    UnitKind.district: (UnitKind.city,),
    UnitKind.street: (UnitKind.district,),
    UnitKind.town: (UnitKind.district,),
    UnitKind.department: (UnitKind.city, UnitKind.district),
}
"""The unit tree: 市 → 区 → 街道/镇; a domain department under the city or a district."""


def create_unit(session: Session, admin: Principal, data: UnitCreate) -> Unit:
    """Add a unit: its parent must exist and fit the tree; 409 when the code is taken."""
    if session.get(Unit, data.code) is not None:
        raise Conflict(f"单位代码 {data.code} 已存在 / unit code {data.code} exists")
    parent = session.get(Unit, data.parent_code) if data.parent_code is not None else None
    if data.parent_code is not None and parent is None:
        raise invalid(
            ("body", "parent_code"),
            f"上级单位 {data.parent_code} 不存在 / parent unit {data.parent_code} is unknown",
            "unknown_unit",
        )
    allowed = PARENT_KINDS[data.kind]
    if (parent.kind if parent else None) not in allowed:
        names = ", ".join(str(kind) if kind else "none" for kind in allowed)
        raise invalid(
            ("body", "parent_code"),
            f"{data.kind} 单位的上级须为 {names} / a {data.kind} unit's parent must be: {names}",
            "unit_tree",
        )
    unit = Unit.model_validate(data)
    session.add(unit)
    session.flush()
    history.record(
        session,
        admin,
        action="create",
        entity="unit",
        entity_id=unit.code,
        unit_code=unit.code,
        after=data.model_dump(mode="json"),
    )
    return unit
