"""A catalogue's waivers: standard-guide items it leaves out on purpose, with the reason.

A waiver that exists is changed or removed only with If-Match (its `etag`): 428 without, 412
when stale; the first PUT creates it and needs none."""

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request, Response

from app.api.deps import DomainDep, ReadableCatalogue, RowId, WritableUnit, require_match
from app.api.responses import AUTHED, STALE
from app.auth import Writer
from app.db import SessionDep
from app.errors import NotFound, Stale
from app.models.catalogue import Catalogue
from app.models.guide import GuideItem, GuideWaiver, WaiverPublic, WaiverRequest
from app.services import catalogues, waivers

router = APIRouter(tags=["waivers"])
WAIVERS = "/units/{unit_code}/catalogues/{domain_code}/waivers"
CHANGED = "豁免已被他人修改 / the waiver"


def get_guide_item(guide_item_id: RowId, session: SessionDep) -> GuideItem:
    if (guide := session.get(GuideItem, guide_item_id)) is None:
        raise NotFound(
            f"标准指引事项 {guide_item_id} 不存在 / guide item {guide_item_id} not found"
        )
    return guide


GuideItemDep = Annotated[GuideItem, Depends(get_guide_item)]


def _not_waived(guide: GuideItem) -> NotFound:
    return NotFound(f"标准指引事项 {guide.id} 未被豁免 / guide item {guide.id} is not waived here")


def waiver_catalogue(unit: WritableUnit, domain: DomainDep, session: SessionDep) -> Catalogue:
    """The catalogue a waiver belongs to; If-Match here is the waiver's, not the catalogue's."""
    return catalogues.get_or_new(session, unit, domain)


WaiverCatalogue = Annotated[Catalogue, Depends(waiver_catalogue)]


def fresh_waiver(
    catalogue: WaiverCatalogue,
    guide: GuideItemDep,
    session: SessionDep,
    request: Request,
    if_match: Annotated[str | None, Header()] = None,
) -> GuideWaiver | None:
    """The waiver to change, or None: a PUT then creates it (If-Match fails then: 412), a
    DELETE answers 404."""
    waiver = waivers.find(session, catalogue, guide)
    if waiver is not None:
        require_match(if_match, waivers.etag(waiver), CHANGED)
    elif if_match is not None and request.method == "PUT":
        raise Stale(f"{CHANGED} does not exist yet; send no If-Match to create it")
    return waiver


@router.get(WAIVERS, response_model=list[WaiverPublic], responses=AUTHED)
def list_waivers(catalogue: ReadableCatalogue, session: SessionDep) -> list[WaiverPublic]:
    """The standard-guide items this catalogue leaves out on purpose, each with its reason."""
    return waivers.listed(session, catalogue)


@router.get(f"{WAIVERS}/{{guide_item_id}}", response_model=WaiverPublic, responses=AUTHED)
def read_waiver(
    catalogue: ReadableCatalogue, guide: GuideItemDep, response: Response, session: SessionDep
) -> WaiverPublic:
    """One waiver, with the `ETag` a change or removal needs as If-Match."""
    waiver = waivers.find(session, catalogue, guide)
    if waiver is None:
        raise _not_waived(guide)
    response.headers["ETag"] = waivers.etag(waiver)
    return waivers.public(waiver, guide)


@router.put(f"{WAIVERS}/{{guide_item_id}}", response_model=WaiverPublic, responses=AUTHED | STALE)
def put_waiver(
    data: WaiverRequest,
    catalogue: WaiverCatalogue,
    guide: GuideItemDep,
    _fresh: Annotated[GuideWaiver | None, Depends(fresh_waiver)],
    writer: Writer,
    response: Response,
    session: SessionDep,
) -> WaiverPublic:
    """Leave a standard-guide item out of the catalogue, saying why (counts as covered);
    changing the reason of an existing waiver needs If-Match."""
    waiver = waivers.put(session, catalogue, guide, reason=data.reason, actor=writer)
    response.headers["ETag"] = waivers.etag(waiver)
    return waivers.public(waiver, guide)


@router.delete(f"{WAIVERS}/{{guide_item_id}}", status_code=204, responses=AUTHED | STALE)
def delete_waiver(
    catalogue: WaiverCatalogue,
    guide: GuideItemDep,
    waiver: Annotated[GuideWaiver | None, Depends(fresh_waiver)],
    writer: Writer,
    session: SessionDep,
) -> Response:
    """Take a waiver back: the guide item counts as uncovered again (If-Match: its ETag). 204."""
    if waiver is None:
        raise _not_waived(guide)
    waivers.delete(session, catalogue, guide, actor=writer)
    return Response(status_code=204)
