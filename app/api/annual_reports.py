"""政府信息公开工作年度报告 / annual reports: write, check, draft, publish, public, due dates,
the city's audit."""

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Path, Query, Response

from app.api.deps import (
    DistrictFilter,
    OffsetDep,
    PageDep,
    ReadableUnit,
    WritableUnit,
    get_unit,
    require_match,
)
from app.api.files import HTML, JSON, REPORT_FILES, XLSX, ReportFormat, report_file
from app.api.pages import security_headers
from app.api.public import NOT_MODIFIED, not_modified
from app.api.responses import AUTHED, CONFLICT, NOT_FOUND, STALE
from app.auth import Auditor, Writer
from app.db import SessionDep
from app.errors import IfMatchRequired, NotFound, Stale, etag_matches
from app.models.annual_report import (
    AnnualReport,
    AnnualReportAudit,
    AnnualReportDraft,
    AnnualReportPublic,
    AnnualReportPut,
    DueDatePublic,
    DueDateUpdate,
    PublishedReport,
    PublishReport,
)
from app.models.common import Page, UnitKind, today_in_beijing
from app.models.history import ChangePublic
from app.models.unit import Unit
from app.render import annual_report as render
from app.render import audit as audit_render
from app.rules import annual_report as rules
from app.services import annual_reports, paging

router = APIRouter(tags=["annual reports"])
REPORT = "/units/{unit_code}/annual-reports/{year}"
Format = Literal["json", "html", "xlsx"]
FILES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "JSON, or with `format` the official tables (HTML page or workbook)",
        "content": {"text/html": {"schema": {"type": "string"}}, XLSX: {}},
    }
}
Year = Annotated[int, Path(ge=2008, le=2100, description="the year reported on")]
NOT_YET = "单位 {unit} 还没有 {year} 年度报告 / unit {unit} has no report for {year} yet"


def find_report(unit: ReadableUnit, year: Year, session: SessionDep) -> AnnualReport:
    if (report := annual_reports.find(session, unit.code, year)) is None:
        raise NotFound(NOT_YET.format(unit=unit.code, year=year))
    return report


ReportDep = Annotated[AnnualReport, Depends(find_report)]


def _public(session: SessionDep, report: AnnualReport) -> AnnualReportPublic:
    version = annual_reports.latest_version(session, report)
    return AnnualReportPublic(
        unit_code=report.unit_code,
        year=report.year,
        template=report.template,
        status=report.status,
        active=report.active,
        requests=report.requests,
        reviews=report.reviews,
        errors=annual_reports.errors(report),  # type: ignore[arg-type]
        warnings=annual_reports.warnings(session, report),  # type: ignore[arg-type]
        version=report.version,
        first_published_on=report.first_published_on,
        published_on=version.published_on if version else None,
        url=version.url if version else None,
        updated_at=report.updated_at,
    )


def _file(body: bytes, media_type: str, name: str, etag: str | None = None) -> Response:
    headers = dict(security_headers(media_type))
    if media_type == XLSX:
        headers["Content-Disposition"] = audit_render.disposition(name)
    if etag:
        headers["ETag"] = etag
    return Response(body, media_type=media_type, headers=headers)


@router.put(
    REPORT,
    response_model=AnnualReportPublic,
    responses=AUTHED | STALE | {201: {"description": "created", "model": AnnualReportPublic}},
)
def put_annual_report(
    data: AnnualReportPut,
    unit: WritableUnit,
    year: Year,
    editor: Writer,
    response: Response,
    session: SessionDep,
    if_match: Annotated[str | None, Header()] = None,
) -> AnnualReportPublic:
    """The whole report (a row or cell left out counts as 0); If-Match once it exists.

    A report that breaks a rule is kept as a draft and answered with its `errors` (rule,
    cell, message) and `warnings`; 201 when it was created."""
    report = annual_reports.find(session, unit.code, year)
    if report is not None and if_match is None:
        raise IfMatchRequired("写入需要 If-Match / If-Match is required")
    if if_match is not None and (
        report is None or not etag_matches(if_match, annual_reports.etag(report))
    ):
        raise Stale("年度报告已被他人修改 / the report was changed by someone else")
    created = report is None
    report = annual_reports.put(session, unit, year, data, report=report, actor=editor)
    response.status_code = 201 if created else 200
    response.headers["ETag"] = annual_reports.etag(report)
    return _public(session, report)


@router.get(REPORT, response_model=AnnualReportPublic, responses=AUTHED | FILES)
def read_annual_report(
    report: ReportDep,
    unit: ReadableUnit,
    response: Response,
    session: SessionDep,
    format: Format = "json",
) -> AnnualReportPublic | Response:
    """The working copy with its errors and warnings; `format=html|xlsx` the official tables
    (the cells a rule names are marked)."""
    public = _public(session, report)
    if format == "json":
        response.headers["ETag"] = annual_reports.etag(report)
        return public
    view = render.view_of(
        unit_code=unit.code,
        unit_name=unit.name,
        year=report.year,
        tables=annual_reports.tables(report),
        version=None,
        published_on=None,
        url=None,
        errors=annual_reports.errors(report),
        warnings=annual_reports.warnings(session, report),
    )
    name = f"{unit.name}{report.year}年政府信息公开工作年度报告（工作稿）.xlsx"
    if format == "html":
        return _file(render.render_html(view), HTML, name)
    return _file(render.render_xlsx(view), XLSX, name)


@router.get(f"{REPORT}/draft", response_model=AnnualReportDraft, responses=AUTHED)
def annual_report_draft(unit: ReadableUnit, year: Year, session: SessionDep) -> AnnualReportDraft:
    """What the service already knows: table 三 from the request register, 二 (carried in)
    from last year's 四 (carried out), the catalogue figures per level from the statistics
    as of 12-31. Nothing is stored: PUT it (edited) to keep it."""
    draft = annual_reports.draft(session, unit, year)
    return AnnualReportDraft.model_validate(
        {
            "unit_code": unit.code,
            "year": year,
            "template": draft.template.code,
            "active": draft.active,
            "requests": draft.requests,
            "reviews": draft.reviews,
            "catalogue": draft.catalogue,
            "sources": {
                "from_register": draft.from_register,
                "from_last_year": draft.from_last_year,
                "catalogue_as_of": draft.catalogue_as_of,
            },
            "errors": draft.errors,
            "warnings": draft.warnings,
        }
    )


@router.post(
    f"{REPORT}/publish",
    response_model=AnnualReportPublic,
    responses=AUTHED | CONFLICT | STALE,
)
def publish_annual_report(
    data: PublishReport,
    unit: WritableUnit,
    year: Year,
    editor: Writer,
    response: Response,
    session: SessionDep,
    if_match: Annotated[str | None, Header()] = None,
) -> AnnualReportPublic:
    """Publish the working copy as the next version: 422 listing every broken rule (loc =
    the cell, type = the rule); 409 when nothing changed since the last version. If-Match is
    optional here but, when sent, must be current."""
    report = annual_reports.find(session, unit.code, year)
    if report is None:
        raise NotFound(NOT_YET.format(unit=unit.code, year=year))
    if if_match is not None and not etag_matches(if_match, annual_reports.etag(report)):
        raise Stale("年度报告已被他人修改 / the report was changed by someone else")
    annual_reports.publish(session, report, unit, on=data.published_on, url=data.url, actor=editor)
    response.headers["ETag"] = annual_reports.etag(report)
    return _public(session, report)


@router.get(f"{REPORT}/history", response_model=Page[ChangePublic], responses=AUTHED)
def annual_report_history(
    unit: ReadableUnit, year: Year, page: PageDep, session: SessionDep
) -> Page[ChangePublic]:
    """Every change and publication of the report, newest first; pass `next` back as
    `cursor` for the page after."""
    before_id = paging.plain_cursor(page.cursor)
    rows = annual_reports.history_of(
        session, unit.code, year, limit=page.limit + 1, before_id=before_id
    )
    rows, more = paging.cut(rows, page.limit)
    return Page[ChangePublic](
        items=[ChangePublic.model_validate(row) for row in rows],
        next=str(rows[-1].id) if more and rows else None,
    )


# ---- published (no token) ------------------------------------------------------------------


@router.get(
    "/public/units/{unit_code}/annual-reports/{year}",
    response_model=PublishedReport,
    responses=NOT_FOUND | NOT_MODIFIED | FILES,
    tags=["public"],
)
def read_published_annual_report(
    year: Year,
    session: SessionDep,
    unit: Annotated[Unit, Depends(get_unit)],
    format: Format = "json",
    version: Annotated[int | None, Query(ge=1, le=10_000, description="default: latest")] = None,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """The published report (latest version, or `version`), no token: JSON, or the official
    tables as an HTML page or a workbook. ETag per version and format; If-None-Match → 304."""
    published = annual_reports.published(session, unit.code, year, version)
    etag = annual_reports.version_etag(published, format)
    cache = "public, max-age=60" if version is None else "public, max-age=31536000, immutable"
    if not_modified(if_none_match, None, etag, None):
        return Response(status_code=304, headers={"ETag": etag, "Cache-Control": cache})
    template = rules.TEMPLATES[published.template]
    if format == "json":
        body = PublishedReport(
            unit_code=unit.code,
            unit_name=published.unit_name,
            year=year,
            template=published.template,
            document=template.document,
            version=published.number,
            published_on=published.published_on,
            url=published.url,
            active=published.active,
            requests=published.requests,
            reviews=published.reviews,
        ).model_dump_json()
        answer = _file(body.encode(), JSON, "", etag)
    else:
        view = render.view_of(
            unit_code=unit.code,
            unit_name=published.unit_name,
            year=year,
            tables=annual_reports.tables(published),
            version=published.number,
            published_on=published.published_on,
            url=published.url,
            errors=[],
            warnings=[],
        )
        name = f"{published.unit_name}{year}年政府信息公开工作年度报告.xlsx"
        if format == "html":
            answer = _file(render.render_html(view), HTML, name, etag)
        else:
            answer = _file(render.render_xlsx(view), XLSX, name, etag)
    answer.headers["Cache-Control"] = cache
    return answer


# ---- due dates -------------------------------------------------------------------------------


def _due_rows(session: SessionDep) -> list[DueDatePublic]:
    return [
        DueDatePublic(unit_kind=kind, due=f"{month:02d}-{day:02d}", is_default=row is None)
        for kind, (month, day, row) in annual_reports.due_dates(session).items()
    ]


@router.get("/annual-reports/due-dates", response_model=list[DueDatePublic])
def list_annual_report_due_dates(session: SessionDep) -> list[DueDatePublic]:
    """Per unit kind, the day of the following year by which a report is due (条例 第49条:
    governments by 03-31; departments, and by local rule streets and towns, by 01-31)."""
    return _due_rows(session)


@router.put(
    "/annual-reports/due-dates/{kind}",
    response_model=DueDatePublic,
    responses=AUTHED | STALE,
)
def set_annual_report_due_date(
    kind: UnitKind,
    data: DueDateUpdate,
    auditor: Auditor,
    response: Response,
    session: SessionDep,
    if_match: Annotated[str | None, Header()] = None,
) -> DueDatePublic:
    """Change a unit kind's due date (If-Match: the ETag from this route or the listing's
    row); the change goes to the history."""
    month, day, row = annual_reports.due_dates(session)[kind]
    require_match(
        if_match,
        annual_reports.due_etag(kind, month, day, row),
        "截止日期已被他人修改 / the due date",
    )
    saved = annual_reports.set_due_date(session, kind, data, actor=auditor)
    response.headers["ETag"] = annual_reports.due_etag(kind, saved.month, saved.day, saved)
    return DueDatePublic(unit_kind=kind, due=data.due, is_default=False)


@router.get("/annual-reports/due-dates/{kind}", response_model=DueDatePublic)
def read_annual_report_due_date(
    kind: UnitKind, response: Response, session: SessionDep
) -> DueDatePublic:
    """One unit kind's due date, with the ETag a change needs."""
    month, day, row = annual_reports.due_dates(session)[kind]
    response.headers["ETag"] = annual_reports.due_etag(kind, month, day, row)
    return DueDatePublic(unit_kind=kind, due=f"{month:02d}-{day:02d}", is_default=row is None)


# ---- the city's audit ---------------------------------------------------------------------------


@router.get(
    "/audit/annual-reports",
    response_model=AnnualReportAudit,
    responses=AUTHED | REPORT_FILES,
    tags=["audit"],
)
def audit_annual_reports(
    auditor: Auditor,
    district: DistrictFilter,
    page: OffsetDep,
    session: SessionDep,
    year: Annotated[int, Query(ge=2008, le=2100, description="the year reported on")],
    as_of: Annotated[date | None, Query(description="default: today")] = None,
    format: ReportFormat = "json",
) -> AnnualReportAudit | Response:
    """Per unit (a page of units): due date, state (on_time, late, pending, overdue with
    days, as for milestones, against the first publication), the report's status, errors and
    warnings; `requests_total` is table 三 summed over every unit in scope with a report.
    `next_offset` (or the `X-Next-Offset` header of a file) is the next page's offset."""
    report = annual_reports.audit_report(
        session,
        year=year,
        as_of=as_of or today_in_beijing(),
        district=district,
        limit=page.limit,
        offset=page.offset,
    )
    result = AnnualReportAudit.model_validate(report)
    if format == "json":
        return result
    name = f"政府信息公开工作年度报告_{year}_{district or '全部'}_{result.as_of.isoformat()}"
    units = audit_render.annual_report_rows(result)
    totals = audit_render.request_total_rows(result)
    if format == "csv":
        return report_file(audit_render.to_csv(units), "csv", name, result.next_offset)
    body = audit_render.to_xlsx([("单位", units), ("表三合计", totals)])
    return report_file(body, "xlsx", name, result.next_offset)
