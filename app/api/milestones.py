"""节点 / milestones: the reference list, the auditor's changes, and status as of a date."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from app.api.deps import DistrictFilter, DomainFilter, MilestoneDep, OffsetDep, link_next
from app.api.responses import AUTHED, CONFLICT, FORBIDDEN, NOT_FOUND, UNAUTHORIZED
from app.auth import Auditor
from app.db import SessionDep
from app.models.milestone import (
    Milestone,
    MilestoneCreate,
    MilestonePublic,
    MilestoneStatus,
    MilestoneUpdate,
)
from app.services import milestones

router = APIRouter(tags=["deadlines"])


@router.get("/milestones", response_model=list[MilestonePublic])
def list_milestones(session: SessionDep) -> list[Milestone]:
    """Every milestone: due date, the event that meets it, the unit kinds and domains obliged."""
    return milestones.listing(session)


@router.post(
    "/milestones",
    status_code=201,
    response_model=MilestonePublic,
    responses=UNAUTHORIZED | FORBIDDEN | CONFLICT,
)
def create_milestone(data: MilestoneCreate, auditor: Auditor, session: SessionDep) -> Milestone:
    """Add a milestone (another city, another year): milestones are data."""
    return milestones.create(session, data, actor=auditor)


@router.patch("/milestones/{code}", response_model=MilestonePublic, responses=AUTHED)
def update_milestone(
    data: MilestoneUpdate, milestone: MilestoneDep, auditor: Auditor, session: SessionDep
) -> Milestone:
    """Move a date or change who is obliged; the old values go to the history."""
    return milestones.update(session, milestone, data, actor=auditor)


@router.get(
    "/milestones/{code}/status",
    response_model=list[MilestoneStatus],
    responses=AUTHED | NOT_FOUND,
)
def milestone_status(
    milestone: MilestoneDep,
    auditor: Auditor,
    district: DistrictFilter,
    domain: DomainFilter,
    page: OffsetDep,
    request: Request,
    response: Response,
    session: SessionDep,
    as_of: Annotated[date | None, Query(description="default: today")] = None,
) -> list[MilestoneStatus]:
    """One row per obliged unit × domain, by unit then domain; days are calendar days.

    `on_time` (days 0), `late` (days late), `pending` (days left, 0 on the due date),
    `overdue` (days overdue). An event dated after `as_of` has not happened as of then.
    A full page carries a `Link: <…>; rel="next"` header.
    """
    rows = milestones.statuses(
        session,
        milestone,
        as_of=as_of or date.today(),
        district=district,
        domain=domain,
        limit=page.limit + 1,
        offset=page.offset,
    )
    if len(rows) > page.limit:
        link_next(request, response, offset=page.offset + page.limit, limit=page.limit)
    return rows[: page.limit]
