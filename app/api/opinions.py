"""落实意见 / implementation opinions: record, list, read and correct them."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from app.api.deps import FreshOpinion, OffsetDep, ReadableOpinion, link_next_offset
from app.api.responses import AUTHED, STALE
from app.auth import AnyPrincipal
from app.db import SessionDep
from app.models.milestone import Opinion, OpinionCreate, OpinionPublic, OpinionUpdate
from app.services import opinions, paging

router = APIRouter(tags=["deadlines"])


@router.post("/opinions", status_code=201, response_model=OpinionPublic, responses=AUTHED)
def create_opinion(
    data: OpinionCreate, principal: AnyPrincipal, response: Response, session: SessionDep
) -> Opinion:
    """Record an opinion: an editor for its own unit or a department under it, an auditor
    for any unit. A department's opinion counts for the unit it belongs to."""
    opinion = opinions.create(session, data, actor=principal)
    response.headers["ETag"] = opinions.etag(opinion)
    response.headers["Location"] = f"/api/v1/opinions/{opinion.id}"
    return opinion


@router.get("/opinions", response_model=list[OpinionPublic], responses=AUTHED)
def list_opinions(
    principal: AnyPrincipal,
    page: OffsetDep,
    request: Request,
    response: Response,
    session: SessionDep,
    domain_code: Annotated[str | None, Query(max_length=3)] = None,
    issuer_unit_code: Annotated[str | None, Query(max_length=32)] = None,
) -> list[Opinion]:
    """By issue date; an editor sees its scope's. A full page carries a `Link` header."""
    rows = opinions.find(
        session,
        principal=principal,
        domain_code=domain_code,
        issuer_unit_code=issuer_unit_code,
        limit=page.limit + 1,
        offset=page.offset,
    )
    rows, more = paging.cut(rows, page.limit)
    link_next_offset(
        request, response, paging.next_offset(page.offset, page.limit, more), page.limit
    )
    return rows


@router.get("/opinions/{opinion_id}", response_model=OpinionPublic, responses=AUTHED)
def read_opinion(opinion: ReadableOpinion, response: Response) -> Opinion:
    """One implementation opinion (落实意见) with its ETag, for a later PATCH."""
    response.headers["ETag"] = opinions.etag(opinion)
    return opinion


@router.patch("/opinions/{opinion_id}", response_model=OpinionPublic, responses=AUTHED | STALE)
def update_opinion(
    data: OpinionUpdate,
    opinion: FreshOpinion,
    principal: AnyPrincipal,
    response: Response,
    session: SessionDep,
) -> Opinion:
    """Correct an opinion (If-Match); the old values go to the history."""
    opinions.update(session, opinion, data, actor=principal)
    response.headers["ETag"] = opinions.etag(opinion)
    return opinion
