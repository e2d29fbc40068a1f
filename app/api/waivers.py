"""A catalogue's waivers: standard-guide items it leaves out on purpose, with the reason."""

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from app.api.deps import ReadableCatalogue, RowId, WritableCatalogue
from app.api.responses import AUTHED
from app.auth import Writer
from app.db import SessionDep
from app.errors import NotFound
from app.models.guide import GuideItem, WaiverPublic, WaiverRequest
from app.services import waivers

router = APIRouter(tags=["waivers"])
WAIVERS = "/units/{unit_code}/catalogues/{domain_code}/waivers"


def get_guide_item(guide_item_id: RowId, session: SessionDep) -> GuideItem:
    if (guide := session.get(GuideItem, guide_item_id)) is None:
        raise NotFound(
            f"标准指引事项 {guide_item_id} 不存在 / guide item {guide_item_id} not found"
        )
    return guide


GuideItemDep = Annotated[GuideItem, Depends(get_guide_item)]


@router.get(WAIVERS, response_model=list[WaiverPublic], responses=AUTHED)
def list_waivers(catalogue: ReadableCatalogue, session: SessionDep) -> list[WaiverPublic]:
    """The standard-guide items this catalogue leaves out on purpose, each with its reason."""
    return waivers.listed(session, catalogue)


@router.put(f"{WAIVERS}/{{guide_item_id}}", response_model=WaiverPublic, responses=AUTHED)
def put_waiver(
    data: WaiverRequest,
    catalogue: WritableCatalogue,
    guide: GuideItemDep,
    writer: Writer,
    session: SessionDep,
) -> WaiverPublic:
    """Leave a standard-guide item out of the catalogue, saying why (counts as covered)."""
    waiver = waivers.put(session, catalogue, guide, reason=data.reason, actor=writer)
    return waivers.public(waiver, guide)


@router.delete(f"{WAIVERS}/{{guide_item_id}}", status_code=204, responses=AUTHED)
def delete_waiver(
    catalogue: WritableCatalogue, guide: GuideItemDep, writer: Writer, session: SessionDep
) -> Response:
    """Take a waiver back: the guide item counts as uncovered again. 204."""
    waivers.delete(session, catalogue, guide, actor=writer)
    return Response(status_code=204)
