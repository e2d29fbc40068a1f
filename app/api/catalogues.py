"""A unit's catalogues: read, applicability, compile, publish, history."""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Response

from app.api.deps import (
    PageDep,
    ReadableCatalogue,
    ReadableUnit,
    WritableCatalogue,
    require_match,
)
from app.api.pages import security_headers
from app.api.responses import AUTHED, CONFLICT, STALE
from app.auth import Auditor, Writer
from app.db import SessionDep
from app.models.catalogue import (
    Applicability,
    Catalogue,
    CatalogueDates,
    CataloguePublic,
    CatalogueSummary,
    CompileRequest,
    PublishRequest,
    PublishResult,
)
from app.models.common import Page
from app.models.history import ChangePublic
from app.models.item import Item, ItemCreate, ItemPublic
from app.render import published
from app.render.published import MEDIA_TYPES, TABLE_FORMATS, Format
from app.services import catalogues, history, items, lifecycle, paging, publication, views

router = APIRouter(tags=["catalogues"])
CATALOGUE = "/units/{unit_code}/catalogues/{domain_code}"


@router.get(
    "/units/{unit_code}/catalogues", response_model=list[CatalogueSummary], responses=AUTHED
)
def list_catalogues(unit: ReadableUnit, session: SessionDep) -> list[CatalogueSummary]:
    """One row per domain; a domain never written to reads as an empty draft."""
    return catalogues.summaries(session, unit)


CATALOGUE_FILES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "the catalogue as JSON, or with `format` the standard table",
        "content": {
            media_type.split(";")[0]: {"schema": {"type": "string"}}
            for media_type in (MEDIA_TYPES[fmt] for fmt in TABLE_FORMATS)
        },
    }
}


PRIVATE = "private, no-store"
"""A draft is for its office: no shared cache, and no copy left on disk."""


@router.get(CATALOGUE, response_model=CataloguePublic, responses=AUTHED | CATALOGUE_FILES)
def read_catalogue(
    catalogue: ReadableCatalogue,
    response: Response,
    session: SessionDep,
    format: Annotated[
        Literal["json", "xlsx", "csv", "html"],
        Query(description="json, or the working copy as the standard table to edit and import"),
    ] = "json",
) -> CataloguePublic | Response:
    """The working copy; `format=xlsx|csv` is the standard table an office can edit in
    Excel and import again, `format=html` the same table as a page."""
    if format == "json":
        response.headers["ETag"] = catalogues.etag(catalogue)
        response.headers["Cache-Control"] = PRIVATE
        return catalogues.to_public(session, catalogue)
    rendered = published.render(views.catalogue_view(session, catalogue), Format(format))
    assert rendered.disposition is not None  # a working copy's table is always a file
    return Response(
        rendered.body,
        media_type=rendered.media_type,
        headers={
            "Cache-Control": PRIVATE,
            "Content-Disposition": rendered.disposition,
            **dict(security_headers(rendered.media_type)),
        },
    )


@router.put(
    f"{CATALOGUE}/applicability",
    response_model=CataloguePublic,
    responses=AUTHED | STALE,
)
def set_applicability(
    data: Applicability,
    catalogue: WritableCatalogue,
    writer: Writer,
    response: Response,
    session: SessionDep,
) -> CataloguePublic:
    """Declare the domain applicable to this unit or not (a reason is required when not).
    If-Match required."""
    catalogues.set_applicability(
        session, catalogue, applicable=data.applicable, reason=data.reason, actor=writer
    )
    response.headers["ETag"] = catalogues.etag(catalogue)
    return catalogues.to_public(session, catalogue)


@router.post(
    f"{CATALOGUE}/items",
    status_code=201,
    response_model=ItemPublic,
    responses=AUTHED | CONFLICT,
)
def create_item(
    data: ItemCreate,
    catalogue: WritableCatalogue,
    writer: Writer,
    response: Response,
    session: SessionDep,
) -> Item:
    """Add an ITEM (二级事项) to the working copy: 201 with its ETag and Location.
    Without `position` it is appended; with one (1..n+1) it is inserted there and the later
    items move down. Reopens a compiled or published catalogue as a draft."""
    item = items.create(session, catalogue, data, actor=writer)
    response.headers["ETag"] = items.etag(item)
    response.headers["Location"] = f"/api/v1/items/{item.id}"
    return item


@router.post(
    f"{CATALOGUE}/compile",
    response_model=CataloguePublic,
    responses=AUTHED | CONFLICT | STALE,
)
def compile_catalogue(
    data: CompileRequest,
    catalogue: WritableCatalogue,
    writer: Writer,
    response: Response,
    session: SessionDep,
) -> CataloguePublic:
    """编制完成: refused with 422 listing every item that still lacks an attribute."""
    lifecycle.compile(session, catalogue, on=data.compiled_on, actor=writer)
    response.headers["ETag"] = catalogues.etag(catalogue)
    return catalogues.to_public(session, catalogue)


@router.post(
    f"{CATALOGUE}/publish",
    response_model=PublishResult,
    responses=AUTHED | CONFLICT | STALE,
)
def publish_catalogue(
    data: PublishRequest,
    catalogue: WritableCatalogue,
    writer: Writer,
    response: Response,
    session: SessionDep,
) -> PublishResult:
    """发布: freeze the compiled catalogue as a new immutable version; answers its number."""
    version = lifecycle.publish(
        session, catalogue, on=data.published_on, url=data.url, actor=writer
    )
    response.headers["ETag"] = catalogues.etag(catalogue)
    return PublishResult(
        unit_code=catalogue.unit_code,
        domain_code=catalogue.domain_code,
        version=version.number,
        published_on=version.published_on,
        published_url=version.published_url,
        href=publication.href(version.unit_code, version.domain_code, version.number),
    )


def dated_catalogue(
    catalogue: ReadableCatalogue,
    auditor: Auditor,
    if_match: Annotated[str | None, Header()] = None,
) -> Catalogue:
    """A catalogue whose recorded dates the auditor corrects: an existing one, so If-Match."""
    require_match(if_match, catalogues.etag(catalogue), "目录已被他人修改 / the catalogue")
    return catalogue


@router.patch(
    f"{CATALOGUE}/dates",
    response_model=CataloguePublic,
    responses=AUTHED | CONFLICT | STALE,
)
def correct_catalogue_dates(
    data: CatalogueDates,
    catalogue: Annotated[Catalogue, Depends(dated_catalogue)],
    auditor: Auditor,
    response: Response,
    session: SessionDep,
) -> CataloguePublic:
    """The auditor corrects a recorded first compile / publish date (the milestone events),
    with If-Match (the catalogue's ETag: 428 without, 412 when stale); 409 when that date was
    never recorded. The change goes to the history."""
    lifecycle.correct_dates(
        session,
        catalogue,
        first_compiled_on=data.first_compiled_on,
        first_published_on=data.first_published_on,
        actor=auditor,
    )
    response.headers["ETag"] = catalogues.etag(catalogue)
    return catalogues.to_public(session, catalogue)


@router.get(f"{CATALOGUE}/history", response_model=Page[ChangePublic], responses=AUTHED)
def catalogue_history(
    catalogue: ReadableCatalogue,
    page: PageDep,
    session: SessionDep,
) -> Page[ChangePublic]:
    """Changes, newest first; pass `next` back as `cursor` for the page after."""
    before_id = paging.plain_cursor(page.cursor)
    if catalogue.id is None:
        return Page[ChangePublic](items=[], next=None)
    rows = history.for_catalogue(session, catalogue.id, limit=page.limit + 1, before_id=before_id)
    rows, more = paging.cut(rows, page.limit)
    return Page[ChangePublic](
        items=[ChangePublic.model_validate(row) for row in rows],
        next=str(rows[-1].id) if more and rows else None,
    )


@router.get(f"{CATALOGUE}/items", response_model=Page[ItemPublic], responses=AUTHED)
def list_items(
    catalogue: ReadableCatalogue,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 1000,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
) -> Page[ItemPublic]:
    """The catalogue's items in order, a page at a time (cursor = items already read)."""
    offset = paging.plain_cursor(cursor) or 0
    ordered = items.ordered(session, catalogue.id) if catalogue.id else []
    rows, next_offset = paging.window(ordered, offset, limit)
    return Page[ItemPublic](
        items=[ItemPublic.model_validate(row) for row in rows],
        next=str(next_offset) if next_offset is not None else None,
    )
