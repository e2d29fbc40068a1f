"""依申请公开台账 / the request register: applications, their events, table 三, the audit.

Never public: the unit's editors (a district's editors also for its streets and towns)
write, auditors read, admins do everything.
"""

from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from sqlalchemy import bindparam
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool

from app.api import deps
from app.api.deps import (
    OUT_OF_SCOPE,
    DistrictScope,
    ReadableUnit,
    RowId,
    UnitWriteDep,
    WritableUnit,
    checked_in_one_hop,
    link_next_offset,
    require_match,
    require_writable,
)
from app.api.files import REPORT_FILES, NextOffset, ReportFormat, UnitsPerPage, report_file
from app.api.imports import IMPORT_ERRORS
from app.api.responses import AUTHED, CONFLICT, STALE
from app.api.uploads import UPLOAD_BODY, SettingsDep, UploadDep
from app.auth import (
    WRITER_ROLES,
    AnyPrincipal,
    BearerDeclared,
    Writer,
    authenticate,
    authorization_header,
    get_principal,
    require_role,
)
from app.db import SessionDep, SessionFactoryDep
from app.errors import Forbidden, NotFound
from app.models.common import MAX_ID, today_in_beijing
from app.models.request import (
    DisclosureRequest,
    EventCreate,
    RequestAuditReport,
    RequestCreate,
    RequestImportReport,
    RequestPublic,
    RequestState,
    TableThreePublic,
    Template,
)
from app.models.unit import Unit
from app.principal import Principal
from app.render import audit as render
from app.render import requests as register
from app.services import paging, request_import, requests

router = APIRouter(tags=["requests"])
AsOf = Annotated[date | None, Query(description="the day to count days left to; default today")]


def get_request(
    request_id: RowId, session: SessionDep, principal: AnyPrincipal
) -> DisclosureRequest:
    return readable_request(session, request_id, principal)[0]


_WITH_UNIT = (
    select(DisclosureRequest, Unit)
    .join(Unit, col(Unit.code) == col(DisclosureRequest.unit_code))
    .where(col(DisclosureRequest.id) == bindparam("request_id"))
)
"""Built once (every read and write of one request runs it)."""


def readable_request(
    session: Session, request_id: int, principal: Principal
) -> tuple[DisclosureRequest, Unit]:
    row = session.exec(_WITH_UNIT, params={"request_id": request_id}).first()
    if row is None:
        raise NotFound(f"申请 {request_id} 不存在 / request {request_id} not found")
    request, unit = row
    if not principal.can_read(unit):
        raise Forbidden(OUT_OF_SCOPE)
    return request, unit


ReadableRequest = Annotated[DisclosureRequest, Depends(get_request)]


@dataclass
class FreshRequest:
    """A request a writer may change, its If-Match current when checked (fresh_request)."""

    writer: Principal
    request: DisclosureRequest


async def fresh_request(
    request_id: RowId,
    http: Request,
    _credentials: BearerDeclared = None,
    if_match: Annotated[str | None, Header()] = None,
) -> FreshRequest:
    """ReadableRequest's, then a writer's checks in their order (401, 404, 403 scope, 403
    role, 403 write scope, 428/412 If-Match), in one hop (deps.checked_in_one_hop); the
    write checks the revision again under its lock (requests.record_event)."""

    def check(session: Session) -> FreshRequest:
        principal = get_principal(authenticate(session, authorization_header(http)))
        request, unit = readable_request(session, request_id, principal)
        writer = require_role(principal, *WRITER_ROLES)
        require_writable(unit, writer)
        require_match(if_match, requests.etag(request), "申请已被他人修改 / the request")
        return FreshRequest(writer, request)

    return await checked_in_one_hop(http, check)


@router.post(
    "/units/{unit_code}/requests",
    status_code=201,
    response_model=RequestPublic,
    responses=AUTHED | CONFLICT,
)
async def create_request(
    data: RequestCreate, clerk: UnitWriteDep, response: Response, sessions: SessionFactoryDep
) -> RequestPublic:
    """Register an application on receipt (第31条: the legally effective `received_on`); it
    is due on the 20th working day after (第33条). No names or contacts: the applicant type
    and the office's own `reference` only."""

    def write() -> tuple[RequestPublic, str]:
        day = today_in_beijing()
        with sessions() as session:  # the write lock from the first query to the commit
            calendar = requests.clock_calendar(session, data, day)
            request, clock = requests.register(
                session, clerk.unit, data, actor=clerk.writer, calendar=calendar
            )
            answer = requests.to_public(request, [], calendar, as_of=day, clock=clock)
            tag = requests.etag(request)
        return answer, tag

    answer, tag = await run_in_threadpool(write)
    response.headers["ETag"] = tag
    response.headers["Location"] = f"/api/v1/requests/{answer.id}"
    return answer


@router.get("/units/{unit_code}/requests", response_model=list[RequestPublic], responses=AUTHED)
def list_requests(
    unit: ReadableUnit,
    request: Request,
    response: Response,
    session: SessionDep,
    state: RequestState | None = None,
    year: Annotated[int | None, Query(ge=1990, le=2100, description="received in")] = None,
    overdue: Annotated[bool | None, Query(description="open past the due date")] = None,
    as_of: AsOf = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="at most 1,000")] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> list[RequestPublic]:
    """A unit's applications by receipt date, with their events. A full page carries a
    `Link: <…>; rel="next"` header to the next one."""
    day = as_of or today_in_beijing()
    rows = requests.find(
        session,
        unit.code,
        as_of=day,
        state=state,
        year=year,
        overdue=overdue,
        limit=limit + 1,
        offset=offset,
    )
    rows, more = paging.cut(rows, limit)
    link_next_offset(request, response, paging.next_offset(offset, limit, more), limit)
    return requests.publics(session, rows, as_of=day)


@router.get(
    "/units/{unit_code}/requests/table-three", response_model=TableThreePublic, responses=AUTHED
)
def request_table_three(
    unit: ReadableUnit,
    session: SessionDep,
    year: Annotated[int, Query(ge=1990, le=2100)],
    template: Annotated[
        Template | None, Query(description="2019 (〔2019〕60号) or 2021; default by year")
    ] = None,
    rollup: Annotated[
        bool, Query(description="add the units under this one (a district's streets and towns)")
    ] = False,
) -> TableThreePublic:
    """年度报告表三 counted from the register: 一 received in the year, 二 carried in, the
    outcomes of the applications closed in the year, 三(七) their total, 四 carried out."""
    chosen = template or requests.default_template(year)
    codes = [unit.code]
    if rollup:
        codes += session.exec(
            select(col(Unit.code)).where(Unit.parent_code == unit.code).order_by(col(Unit.code))
        ).all()
    tables = requests.table_three_many(session, codes, year, chosen)
    return TableThreePublic(
        unit_code=unit.code,
        year=year,
        template=chosen,
        units=codes,
        requests=requests.sum_tables(tables.values(), chosen),
    )


@router.get("/requests/{request_id}", response_model=RequestPublic, responses=AUTHED)
def read_request(
    request: ReadableRequest, response: Response, session: SessionDep, as_of: AsOf = None
) -> RequestPublic:
    """One application with its events; due date, days left and on time from the events."""
    response.headers["ETag"] = requests.etag(request)
    return requests.public(session, request, as_of=as_of or today_in_beijing())


@router.post(
    "/requests/{request_id}/events", response_model=RequestPublic, responses=AUTHED | STALE
)
async def add_request_event(
    data: EventCreate,
    fresh: Annotated[FreshRequest, Depends(fresh_request)],
    response: Response,
    sessions: SessionFactoryDep,
) -> RequestPublic:
    """Record what happened (If-Match): a correction notice, the corrected application, an
    extension, a consultation, the answer, a withdrawal. 422 names the rule an impossible
    sequence breaks. docs/requests.md has the clock."""
    request = fresh.request

    def write() -> tuple[RequestPublic, str]:
        day = today_in_beijing()
        with sessions() as session:  # the write lock from the first query to the commit
            calendar = requests.clock_calendar(session, request, day)
            events, clock = requests.record_event(
                session, request, data, actor=fresh.writer, calendar=calendar
            )
            answer = requests.to_public(request, events, calendar, as_of=day, clock=clock)
            tag = requests.etag(request)
        return answer, tag

    answer, tag = await run_in_threadpool(write)
    response.headers["ETag"] = tag
    return answer


# --------------------------------------------------------------------------- audit


def audit_scope(district: DistrictScope, as_of: AsOf = None) -> requests.AuditScope:
    """deps.audit_scope without a domain filter (as_of documented as this router's)."""
    scope = deps.audit_scope(district, None, as_of)
    return requests.AuditScope(as_of=scope.as_of, district=scope.district)


@router.get(
    "/audit/requests",
    response_model=RequestAuditReport,
    responses=AUTHED | REPORT_FILES,
    tags=["audit"],
)
def audit_requests(
    scope: Annotated[requests.AuditScope, Depends(audit_scope)],
    session: SessionDep,
    format: ReportFormat = "json",
    limit: UnitsPerPage = 1000,
    offset: NextOffset = 0,
) -> RequestAuditReport | Response:
    """Per unit as of `as_of`: applications open, due within 5 working days, overdue (listed)
    and answered late in the year of `as_of`. Units with nothing open and nothing answered
    this year are left out."""
    report = RequestAuditReport.model_validate(
        requests.audit(session, scope, limit=limit, offset=offset)
    )
    if format == "json":
        return report
    name = f"依申请公开台账审计_{scope.district or '全部'}_{scope.as_of.isoformat()}"
    if format == "csv":
        content = render.to_csv(register.unit_rows(report))
        return report_file(content, "csv", name, report.next_offset)
    sheets = [
        ("单位汇总", register.unit_rows(report)),
        ("逾期申请", register.overdue_rows(report)),
    ]
    return report_file(render.to_xlsx(sheets), "xlsx", name, report.next_offset)


@router.post(
    "/units/{unit_code}/requests/import",
    response_model=RequestImportReport,
    responses=AUTHED | IMPORT_ERRORS,
    openapi_extra=UPLOAD_BODY,
)
def import_requests(
    unit: WritableUnit,
    writer: Writer,
    upload: UploadDep,
    settings: SettingsDep,
    session: SessionDep,
    dry_run: Annotated[bool, Query(description="only report; register nothing")] = False,
) -> RequestImportReport:
    """导入 an existing 台账 (XLSX, or CSV in UTF-8 or GBK) with the columns 收到日期, 渠道,
    申请人类型, 内容摘要, 答复日期, 处理结果 (table 三 wording) and optionally 编号: with
    `dry_run=true` the report and the would-be applications; otherwise every row is
    registered, or 422 with the same report and nothing is."""
    return request_import.run(
        session,
        unit,
        filename=upload.filename,
        data=upload.data,
        dry_run=dry_run,
        max_bytes=settings.max_upload_bytes,
        max_rows=settings.max_import_rows,
        actor=writer,
    )
