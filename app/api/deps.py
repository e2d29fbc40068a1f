"""Path resolvers (404 and scope written once), If-Match checks and list parameters."""

from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from datetime import date
from typing import Annotated, TypeVar

from fastapi import Depends, Header, Path, Query, Request, Response
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from app.auth import AnyPrincipal, BearerDeclared, Writer, authorization_header, read_writer
from app.db import SessionDep, reading, session_factory
from app.errors import Forbidden, IfMatchRequired, NotFound, Stale, etag_matches
from app.models.catalogue import Catalogue
from app.models.common import MAX_ID, Role, UnitKind, today_in_beijing
from app.models.domain import Domain
from app.models.item import Item
from app.models.milestone import Milestone, Opinion
from app.models.unit import Unit
from app.principal import Principal
from app.services import catalogues, milestones, opinions, reference, timeliness
from app.services import items as item_service

OUT_OF_SCOPE = "超出令牌的单位范围 / outside the unit scope of this token"


def get_unit(unit_code: str, session: SessionDep) -> Unit:
    if (unit := reference.find_unit(session, unit_code)) is None:
        raise NotFound(f"单位 {unit_code} 不存在 / unit {unit_code} not found")
    return unit


T = TypeVar("T")


async def checked_in_one_hop(http: Request, check: Callable[[Session], T]) -> T:
    """A write's checks (its token, scope, row, If-Match) in one worker-thread hop, in a
    read-only transaction that ends before the write begins: each sync dependency would be
    a hop of its own, and the write's own hop then takes SQLite's write lock at its first
    query instead of holding it while the checks wait for their turns in the thread pool.
    The rows `check` answers come back detached, with their loaded values."""
    sessions = session_factory(http)

    def run() -> T:
        with reading(), sessions() as session:
            found = check(session)
            session.expunge_all()  # before the commit, which would expire them
        return found

    return await run_in_threadpool(run)


def get_domain(domain_code: str, session: SessionDep) -> Domain:
    if (domain := reference.find_domain(session, domain_code)) is None:
        raise NotFound(f"领域 {domain_code} 不存在 / domain {domain_code} not found")
    return domain


UnitDep = Annotated[Unit, Depends(get_unit)]
DomainDep = Annotated[Domain, Depends(get_domain)]


async def readable_unit(unit: UnitDep, principal: AnyPrincipal) -> Unit:
    if not principal.can_read(unit):
        raise Forbidden(OUT_OF_SCOPE)
    return unit


def require_writable(unit: Unit, principal: Principal) -> Unit:
    if not principal.can_write(unit):
        raise Forbidden(OUT_OF_SCOPE)
    return unit


async def writable_unit(unit: UnitDep, principal: Writer) -> Unit:
    """No I/O: answered in the event loop (a sync dependency costs a thread-pool hop, and a
    write request holds SQLite's write lock across its hops)."""
    return require_writable(unit, principal)


ReadableUnit = Annotated[Unit, Depends(readable_unit)]
WritableUnit = Annotated[Unit, Depends(writable_unit)]


@dataclass
class UnitWrite:
    """A unit and the writer who may write it, checked in one hop (unit_write)."""

    writer: Principal
    unit: Unit


async def unit_write(
    unit_code: str, http: Request, _credentials: BearerDeclared = None
) -> UnitWrite:
    """WritableUnit and Writer in one hop, for a write that runs in a hop of its own (the
    request register's): their checks in their order, 404 unit, 401, 403 role, 403 scope."""

    def check(session: Session) -> UnitWrite:
        unit = get_unit(unit_code, session)
        writer = read_writer(session, authorization_header(http))
        return UnitWrite(writer, require_writable(unit, writer))

    return await checked_in_one_hop(http, check)


UnitWriteDep = Annotated[UnitWrite, Depends(unit_write)]


def readable_catalogue(unit: ReadableUnit, domain: DomainDep, session: SessionDep) -> Catalogue:
    return catalogues.get_or_new(session, unit, domain)


def writable_catalogue(
    unit: WritableUnit,
    domain: DomainDep,
    session: SessionDep,
    if_match: Annotated[str | None, Header()] = None,
) -> Catalogue:
    """A catalogue to change; If-Match is optional here but, when sent, must be current."""
    catalogue = catalogues.get_or_new(session, unit, domain)
    if if_match is not None and if_match != catalogues.etag(catalogue):
        raise Stale("目录已被他人修改 / the catalogue was changed by someone else")
    return catalogue


ReadableCatalogue = Annotated[Catalogue, Depends(readable_catalogue)]
WritableCatalogue = Annotated[Catalogue, Depends(writable_catalogue)]


@dataclass
class ItemContext:
    item: Item
    catalogue: Catalogue
    unit: Unit


RowId = Annotated[int, Path(ge=1, le=MAX_ID)]


def get_item(item_id: RowId, session: SessionDep) -> ItemContext:
    if (row := item_service.with_owner(session, item_id)) is None:
        raise NotFound(f"事项 {item_id} 不存在 / item {item_id} not found")
    return ItemContext(*row)


def readable_item(
    context: Annotated[ItemContext, Depends(get_item)], principal: AnyPrincipal
) -> ItemContext:
    """An item outside the caller's units answers as a missing one does: a 403 would tell
    which ids exist in other units."""
    if not principal.can_read(context.unit):
        raise NotFound(f"事项 {context.item.id} 不存在 / item {context.item.id} not found")
    return context


def require_match(if_match: str | None, etag: str, what: str) -> None:
    """The one If-Match check of a write to an existing resource: 428 without, 412 if stale.

    `what` is the bilingual message up to "/ the X"; "was changed by someone else" follows."""
    if if_match is None:
        raise IfMatchRequired("写入需要 If-Match / If-Match is required")
    if not etag_matches(if_match, etag):
        raise Stale(f"{what} was changed by someone else")


def fresh_item(
    context: Annotated[ItemContext, Depends(readable_item)],
    principal: Writer,
    if_match: Annotated[str | None, Header()] = None,
) -> ItemContext:
    if not principal.can_write(context.unit):
        raise Forbidden(OUT_OF_SCOPE)
    require_match(if_match, item_service.etag(context.item), "事项已被他人修改 / the item")
    return context


ReadableItem = Annotated[ItemContext, Depends(readable_item)]
FreshItem = Annotated[ItemContext, Depends(fresh_item)]


def get_milestone(code: str, session: SessionDep) -> Milestone:
    if (milestone := milestones.find(session, code)) is None:
        raise NotFound(f"节点 {code} 不存在 / milestone {code} not found")
    return milestone


MilestoneDep = Annotated[Milestone, Depends(get_milestone)]


def readable_opinion(opinion_id: RowId, principal: AnyPrincipal, session: SessionDep) -> Opinion:
    if (row := opinions.with_issuer(session, opinion_id)) is None:
        raise NotFound(f"落实意见 {opinion_id} 不存在 / opinion {opinion_id} not found")
    opinion, issuer = row
    if not opinions.may_read(session, principal, issuer):
        raise Forbidden(OUT_OF_SCOPE)
    return opinion


ReadableOpinion = Annotated[Opinion, Depends(readable_opinion)]


def fresh_opinion(
    opinion: ReadableOpinion,
    principal: AnyPrincipal,
    session: SessionDep,
    if_match: Annotated[str | None, Header()] = None,
) -> Opinion:
    issuer = reference.find_unit(session, opinion.issuer_unit_code)
    if issuer is None or not opinions.may_record(principal, issuer):
        raise Forbidden(OUT_OF_SCOPE)  # a street reads its district's opinion, never edits it
    require_match(if_match, opinions.etag(opinion), "落实意见已被他人修改 / the opinion")
    return opinion


FreshOpinion = Annotated[Opinion, Depends(fresh_opinion)]


DistrictQuery = Annotated[
    str | None,
    Query(
        max_length=32,
        pattern=r"^[0-9A-Za-z_-]{1,32}$",
        description="a district: it and its streets and towns",
    ),
]
DomainQuery = Annotated[str | None, Query(max_length=3, description="one domain only")]


def district_filter(session: SessionDep, district: DistrictQuery = None) -> str | None:
    """A district every caller may name; unknown: 422 (reference.district)."""
    if district is not None:
        reference.district(session, district)
    return district


def domain_filter(session: SessionDep, domain: DomainQuery = None) -> str | None:
    """A domain every caller may name; unknown: 422 (reference.domain)."""
    if domain is not None:
        reference.domain(session, domain)
    return domain


DistrictFilter = Annotated[str | None, Depends(district_filter)]
DomainFilter = Annotated[str | None, Depends(domain_filter)]


def district_scope(
    principal: AnyPrincipal,
    session: SessionDep,
    district: DistrictQuery = None,
) -> str | None:
    """The district an audit covers: auditors and admins any district (or all, None); a
    district's editors their own district, the default for them (403 for another, and for
    any other editor). An unknown district is the same 422 as everywhere (reference.py)."""
    if principal.role == Role.editor:
        if principal.unit_kind != UnitKind.district:
            raise Forbidden("需要审核人员或区编辑 / this needs an auditor or a district editor")
        if district not in (None, principal.unit_code):
            raise Forbidden(OUT_OF_SCOPE)
        district = principal.unit_code
    if district is not None:
        reference.district(session, district)
    return district


DistrictScope = Annotated[str | None, Depends(district_scope)]
AuditDay = Annotated[date | None, Query(description="default: today")]


def audit_scope(
    district: DistrictScope, domain: DomainFilter, as_of: AuditDay = None
) -> timeliness.Scope:
    """The scope of an audit a district's editors may run too (timeliness, the request
    register): the district as district_scope allows, the domain as domain_filter, as of
    `as_of` or today in Beijing. A route without a domain filter passes None."""
    return timeliness.Scope(as_of=as_of or today_in_beijing(), district=district, domain=domain)


AuditScope = Annotated[timeliness.Scope, Depends(audit_scope)]


@dataclass
class OffsetParams:
    limit: int
    offset: int


def offset_params(
    limit: Annotated[int, Query(ge=1, le=1000, description="at most 1,000")] = 1000,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> OffsetParams:
    return OffsetParams(limit=limit, offset=offset)


OffsetDep = Annotated[OffsetParams, Depends(offset_params)]


@dataclass
class PageParams:
    limit: int
    cursor: str | None


def page_params(
    limit: Annotated[int, Query(ge=1, le=1000, description="at most 1,000")] = 100,
    cursor: Annotated[
        str | None, Query(max_length=64, description="from the previous page's `next`")
    ] = None,
) -> PageParams:
    return PageParams(limit=limit, cursor=cursor)


PageDep = Annotated[PageParams, Depends(page_params)]


def link_next(request: Request, response: Response, **params: object) -> None:
    """Say where the next page is, for lists whose body is a bare array."""
    url = request.url.include_query_params(**params)
    response.headers["Link"] = f'<{url}>; rel="next"'


def link_next_offset(
    request: Request, response: Response, next_offset: int | None, limit: int
) -> None:
    """`Link` to the page at `next_offset` (from app.services.paging), nothing on the last."""
    if next_offset is not None:
        link_next(request, response, offset=next_offset, limit=limit)


def say_next_offset(headers: MutableMapping[str, str], next_offset: int | None) -> None:
    """`X-Next-Offset` on a file, which cannot say it in its body; nothing on the last page."""
    if next_offset is not None:
        headers["X-Next-Offset"] = str(next_offset)
