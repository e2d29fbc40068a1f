"""Reference data: domains, units and the standard guides (public: website teams need codes)."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from app.api.deps import DomainDep, UnitDep, link_next_offset
from app.api.responses import CONFLICT, FORBIDDEN, NOT_FOUND, UNAUTHORIZED
from app.auth import Admin, Auditor
from app.db import SessionDep
from app.models.common import MAX_ID, UnitKind
from app.models.domain import Domain, DomainCreate, DomainPublic
from app.models.guide import GuideItem, GuideItemPublic
from app.models.unit import Unit, UnitCreate, UnitPublic
from app.services import paging, reference

router = APIRouter(tags=["reference"])


@router.get("/domains", response_model=list[DomainPublic])
def list_domains(session: SessionDep) -> list[Domain]:
    """Every domain (领域), by code: the 26 pilot domains 01..26, then any added later. No token."""
    return reference.domains(session)


@router.post(
    "/domains",
    status_code=201,
    response_model=DomainPublic,
    responses=UNAUTHORIZED | FORBIDDEN | CONFLICT,
)
def create_domain(data: DomainCreate, auditor: Auditor, session: SessionDep) -> Domain:
    """Add a "26+N" domain (e.g. 社会信用体系建设)."""
    return reference.create_domain(session, auditor, data)


@router.get(
    "/domains/{domain_code}/guide-items",
    response_model=list[GuideItemPublic],
    responses=NOT_FOUND,
)
def list_guide_items(domain: DomainDep, session: SessionDep) -> list[GuideItem]:
    """标准指引: the national standard guide's items for the domain, in order."""
    return reference.guide_items(session, domain.code)


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
    rows = reference.units(
        session, parent_code=parent_code, kind=kind, limit=limit + 1, offset=offset
    )
    rows, more = paging.cut(rows, limit)
    link_next_offset(request, response, paging.next_offset(offset, limit, more), limit)
    return rows


@router.get("/units/{unit_code}", response_model=UnitPublic, responses=NOT_FOUND)
def read_unit(unit: UnitDep) -> Unit:
    """One unit (单位) by its code: name, kind and parent. No token; 404 for an unknown code."""
    return unit


@router.post(
    "/units",
    status_code=201,
    response_model=UnitPublic,
    responses=UNAUTHORIZED | FORBIDDEN | CONFLICT,
)
def create_unit(data: UnitCreate, admin: Admin, session: SessionDep) -> Unit:
    """Add a unit (admin): its parent must exist; 409 when the code is taken."""
    return reference.create_unit(session, admin, data)
