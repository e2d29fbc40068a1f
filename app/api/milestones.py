"""节点 / milestones: the reference list, the auditor's changes, and status as of a date."""

from datetime import date
from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Header, Query, Request, Response

from app.api.deps import (
    DistrictFilter,
    DomainFilter,
    MilestoneDep,
    OffsetDep,
    link_next_offset,
    require_match,
)
from app.api.files import REPORT_FILES, ReportFormat, about_sheet, report_file
from app.api.responses import AUTHED, CONFLICT, FORBIDDEN, NOT_FOUND, STALE, UNAUTHORIZED
from app.auth import Auditor
from app.db import SessionDep
from app.models.common import today_in_beijing
from app.models.milestone import (
    Milestone,
    MilestoneCreate,
    MilestonePublic,
    MilestoneState,
    MilestoneStatus,
    MilestoneUpdate,
)
from app.render import audit as render
from app.services import milestones, paging, reference

router = APIRouter(tags=["deadlines"])


@router.get("/milestones", response_model=list[MilestonePublic])
def list_milestones(session: SessionDep) -> list[MilestonePublic]:
    """Every milestone: due date, the event that meets it, the unit kinds and domains obliged,
    and the `etag` a change needs."""
    return milestones.publics(session)


@router.get("/milestones/{code}", response_model=MilestonePublic, responses=NOT_FOUND)
def read_milestone(
    milestone: MilestoneDep, response: Response, session: SessionDep
) -> MilestonePublic:
    """One milestone, with the `ETag` a change needs as If-Match."""
    response.headers["ETag"] = milestones.etag(milestone)
    return milestones.public(milestone, milestones.domain_codes(session, milestone))


@router.post(
    "/milestones",
    status_code=201,
    response_model=MilestonePublic,
    responses=UNAUTHORIZED | FORBIDDEN | CONFLICT,
)
def create_milestone(
    data: MilestoneCreate, auditor: Auditor, response: Response, session: SessionDep
) -> MilestonePublic:
    """Add a milestone (another city, another year, a domain added later): milestones are
    data. `domain_codes` names the domains it obliges (default: today's pilot domains, or
    every domain with `domains: all`); the set is stored, so a domain added afterwards is
    not obliged by it."""
    created = milestones.create(session, data, actor=auditor)
    response.headers["ETag"] = created.etag
    response.headers["Location"] = f"/api/v1/milestones/{created.code}"
    return created


def fresh_milestone(
    milestone: MilestoneDep,
    auditor: Auditor,
    if_match: Annotated[str | None, Header()] = None,
) -> Milestone:
    require_match(if_match, milestones.etag(milestone), "节点已被他人修改 / the milestone")
    return milestone


@router.patch(
    "/milestones/{code}", response_model=MilestonePublic, responses=AUTHED | STALE | CONFLICT
)
def update_milestone(
    data: MilestoneUpdate,
    milestone: Annotated[Milestone, Depends(fresh_milestone)],
    auditor: Auditor,
    response: Response,
    session: SessionDep,
) -> MilestonePublic:
    """Move a date or change who is obliged (If-Match: 428 without, 412 when stale); the old
    values go to the history."""
    updated = milestones.update(session, milestone, data, actor=auditor)
    response.headers["ETag"] = updated.etag
    return updated


@router.get(
    "/milestones/{code}/status",
    response_model=list[MilestoneStatus],
    responses=AUTHED | REPORT_FILES,
)
def milestone_status(
    milestone: MilestoneDep,
    auditor: Auditor,
    district: DistrictFilter,
    domain: DomainFilter,
    page: OffsetDep,
    request: Request,
    session: SessionDep,
    as_of: Annotated[date | None, Query(description="default: today")] = None,
    state: Annotated[
        MilestoneState | None, Query(description="only rows in this state as of `as_of`")
    ] = None,
    format: Annotated[
        ReportFormat,
        Query(description="json, or the same page as a CSV or XLSX file"),
    ] = "json",
) -> list[MilestoneStatus] | Response:
    """One row per obliged unit × domain, by unit then domain; days are calendar days.

    `on_time` (days 0), `late` (days late), `pending` (days left, 0 on the due date),
    `overdue` (days overdue). An event dated after `as_of` has not happened as of then.
    `state` keeps one state (filtered before paging). A full page carries a
    `Link: <…>; rel="next"` header (files also `X-Next-Offset`); `format=csv|xlsx` gives the
    page as a file, the workbook with a sheet saying the query and its as_of date.
    """
    day = as_of or today_in_beijing()
    found = milestones.status_dicts(
        session,
        milestone,
        as_of=day,
        district=district,
        domain=domain,
        state=state,
        limit=page.limit + 1,
        offset=page.offset,
    )
    found, more = paging.cut(found, page.limit)
    if format == "json":
        # plain dicts serialised once by orjson: response_model above documents the shape;
        # validating up to 1,000 models on the way out held the interpreter from the public
        # pulls of the same process (docs/audit.md, "Cost")
        answer = Response(orjson.dumps(found), media_type="application/json")
        link_next_offset(
            request, answer, paging.next_offset(page.offset, page.limit, more), page.limit
        )
        return answer
    rows = [MilestoneStatus.model_validate(row) for row in found]
    next_offset = paging.next_offset(page.offset, page.limit, more)
    codes = sorted({row.unit_code for row in rows})
    units = reference.unit_names(session, codes)
    domains = reference.domain_names(session)
    table = render.milestone_status_rows(rows, units, domains)
    name = f"节点状态_{milestone.code}_{district or '全部'}_{day.isoformat()}"
    if format == "csv":
        file = report_file(render.to_csv(table), "csv", name, next_offset)
    else:
        title = f"节点状态 {milestone.title}（{milestone.due_on.isoformat()}）"
        sheets = [(milestone.code[:31], table)]
        file = report_file(
            render.to_xlsx(sheets, about_sheet(request, day, title)), "xlsx", name, next_offset
        )
    link_next_offset(request, file, next_offset, page.limit)
    return file
