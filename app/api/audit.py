"""审计 / the city office's audit: completeness with scores and ranking, statistics; JSON,
CSV or XLSX."""

from datetime import date
from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Query, Request, Response

from app.api.deps import DistrictFilter, DomainFilter
from app.api.files import JSON, REPORT_FILES, ReportFormat, UnitsPerPage, about_sheet, report_file
from app.api.responses import AUTHED
from app.auth import Auditor
from app.db import SessionDep
from app.models.audit import CompletenessReport, StatisticsReport
from app.models.common import MAX_ID, today_in_beijing
from app.render import audit as render
from app.services import audit, milestones, reference

router = APIRouter(prefix="/audit", tags=["audit"])


def audit_scope(
    session: SessionDep,
    district: DistrictFilter,
    domain: DomainFilter,
    as_of: Annotated[date | None, Query(description="default: today")] = None,
) -> audit.Scope:
    return audit.Scope(
        as_of=as_of or today_in_beijing(),
        district=reference.district(session, district) if district is not None else None,
        domain=reference.domain(session, domain) if domain is not None else None,
    )


ScopeDep = Annotated[audit.Scope, Depends(audit_scope)]
Offset = Annotated[
    int, Query(ge=0, le=MAX_ID, description="units to skip: the previous next_offset")
]


@router.get("/completeness", response_model=CompletenessReport, responses=AUTHED | REPORT_FILES)
def audit_completeness(
    request: Request,
    scope: ScopeDep,
    auditor: Auditor,
    session: SessionDep,
    format: ReportFormat = "json",
    limit: UnitsPerPage = 100,
    offset: Offset = 0,
) -> Response:
    """One row per unit × domain for a page of units; scores for those units; the district
    roll-up and ranking over every unit in scope. docs/audit.md has the formula."""
    json = format == "json"
    report = audit.completeness(session, scope, limit=limit, offset=offset, raw=json)
    if json:
        # Plain dicts serialised once by orjson (dates as ISO strings): response_model above
        # documents the shape; validating a report of thousands of rows again on the way out
        # would cost more than building it (docs/audit.md, "Cost").
        return Response(orjson.dumps(report), media_type=JSON)
    name = f"基层政务公开标准目录审计_{scope.district.code if scope.district else '全部'}"
    name += f"_{scope.as_of.isoformat()}"
    if format == "csv":
        content = render.to_csv(render.completeness_rows(report))
        return report_file(content, "csv", name, report["next_offset"])
    labels = [render.MilestoneLabel(m.code, m.title, m.due_on) for m in milestones.listing(session)]
    sheets = [
        ("目录明细", render.completeness_rows(report, labels)),
        ("单位得分", render.unit_score_rows(report)),
        ("区排名", render.district_rows(report)),
    ]
    about = about_sheet(request, scope.as_of, "基层政务公开标准目录完整性审计")
    return report_file(render.to_xlsx(sheets, about), "xlsx", name, report["next_offset"])


@router.get("/statistics", response_model=StatisticsReport, responses=AUTHED | REPORT_FILES)
def audit_statistics(
    request: Request,
    scope: ScopeDep,
    auditor: Auditor,
    session: SessionDep,
    format: ReportFormat = "json",
    limit: UnitsPerPage = 1000,
    offset: Offset = 0,
) -> StatisticsReport | Response:
    """Per unit and per level: domains (类), first- and second-level items (项) of the
    versions published on or before as_of, the figures annual reports quote."""
    report = audit.statistics(session, scope, limit=limit, offset=offset)
    if format == "json":
        return Response(report.model_dump_json(), media_type=JSON)
    name = f"基层政务公开标准目录统计_{scope.district.code if scope.district else '全部'}"
    name += f"_{scope.as_of.isoformat()}"
    if format == "csv":
        content = render.to_csv(render.statistics_rows(report))
        return report_file(content, "csv", name, report.next_offset)
    sheets = [
        ("单位统计", render.statistics_rows(report)),
        ("分层级统计", render.level_rows(report)),
    ]
    about = about_sheet(request, scope.as_of, "基层政务公开标准目录统计")
    return report_file(render.to_xlsx(sheets, about), "xlsx", name, report.next_offset)
