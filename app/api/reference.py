"""Reference data: domains, units and the standard guides (public: website teams need codes)."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlmodel import col, select

from app.api.deps import MAX_ID, DomainDep, UnitDep, link_next_offset
from app.api.responses import CONFLICT, FORBIDDEN, NOT_FOUND, UNAUTHORIZED
from app.auth import Admin, Auditor
from app.db import SessionDep
from app.errors import Conflict, invalid
from app.models.common import UnitKind
from app.models.domain import Domain, DomainCreate, DomainPublic
from app.models.guide import GuideItem, GuideItemPublic
from app.models.unit import Unit, UnitCreate, UnitPublic
from app.services import history, paging

router = APIRouter(tags=["reference"])


@router.get("/domains", response_model=list[DomainPublic])
def list_domains(session: SessionDep) -> list[Domain]:
    """Every domain (领域), by code: the 26 pilot domains 01..26, then any added later. No token."""
    return list(session.exec(select(Domain).order_by(col(Domain.code))))


@router.post(
    "/domains",
    status_code=201,
    response_model=DomainPublic,
    responses=UNAUTHORIZED | FORBIDDEN | CONFLICT,
)
def create_domain(data: DomainCreate, auditor: Auditor, session: SessionDep) -> Domain:
    """Add a "26+N" domain (e.g. 社会信用体系建设)."""
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


@router.get(
    "/domains/{domain_code}/guide-items",
    response_model=list[GuideItemPublic],
    responses=NOT_FOUND,
)
def list_guide_items(domain: DomainDep, session: SessionDep) -> list[GuideItem]:
    """标准指引: the national standard guide's items for the domain, in order."""
    return list(
        session.exec(
            select(GuideItem)
            .where(GuideItem.domain_code == domain.code)
            .order_by(col(GuideItem.position), col(GuideItem.id))
        )
    )


@router.get("/units", response_model=list[UnitPublic])
def list_units(
    request: Request,
    response: Response,
    session: SessionDep,
    parent_code: Annotated[str | None, Query(max_length=32)] = None,
    kind: UnitKind | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 1000,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> list[Unit]:
    """Units by code; a full page carries a `Link: <…>; rel="next"` header."""
    query = select(Unit)
    if parent_code is not None:
        query = query.where(Unit.parent_code == parent_code)
    if kind is not None:
        query = query.where(Unit.kind == kind)
    rows = list(session.exec(query.order_by(col(Unit.code)).offset(offset).limit(limit + 1)))
    rows, more = paging.cut(rows, limit)
    link_next_offset(request, response, paging.next_offset(offset, limit, more), limit)
    return rows


@router.get("/units/{unit_code}", response_model=UnitPublic, responses=NOT_FOUND)
def read_unit(unit: UnitDep) -> Unit:
    """One unit (单位) by its code: name, kind and parent. No token; 404 for an unknown code."""
    return unit


PARENT_KINDS: dict[UnitKind, tuple[UnitKind | None, ...]] = {
    UnitKind.city: (None,),
    UnitKind.district: (UnitKind.city,),
    UnitKind.street: (UnitKind.district,),
    UnitKind.town: (UnitKind.district,),
    UnitKind.department: (UnitKind.city, UnitKind.district),
}
"""The unit tree: 市 → 区 → 街道/镇; a domain department under the city or a district."""


@router.post(
    "/units",
    status_code=201,
    response_model=UnitPublic,
    responses=UNAUTHORIZED | FORBIDDEN | CONFLICT,
)
def create_unit(data: UnitCreate, admin: Admin, session: SessionDep) -> Unit:
    """Add a unit (admin): its parent must exist; 409 when the code is taken."""
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
