"""One item by id: read, patch and delete, each write guarded by If-Match."""

from fastapi import APIRouter, Response

from app.api.deps import FreshItem, ReadableItem
from app.api.responses import AUTHED, STALE
from app.auth import Writer
from app.db import SessionDep
from app.models.item import Item, ItemPublic, ItemUpdate
from app.services import items

router = APIRouter(tags=["items"])


@router.get("/items/{item_id}", response_model=ItemPublic, responses=AUTHED)
def read_item(context: ReadableItem, response: Response) -> Item:
    """One ITEM with its ETag (`"i{id}.{revision}"`), for a later PATCH or DELETE."""
    response.headers["ETag"] = items.etag(context.item)
    return context.item


@router.patch("/items/{item_id}", response_model=ItemPublic, responses=AUTHED | STALE)
def update_item(
    data: ItemUpdate, context: FreshItem, writer: Writer, response: Response, session: SessionDep
) -> Item:
    """Change the fields sent (If-Match required): a field left out stays as it is; `name` and
    `first_level` may not be cleared. `position` (1..n) moves the item and renumbers the items
    between. Reopens the catalogue as a draft."""
    item = items.update(session, context.catalogue, context.item, data, actor=writer)
    response.headers["ETag"] = items.etag(item)
    return item


@router.delete("/items/{item_id}", status_code=204, responses=AUTHED | STALE)
def delete_item(context: FreshItem, writer: Writer, session: SessionDep) -> Response:
    """Delete the ITEM (If-Match required): 204; the later items move up one place."""
    items.delete(session, context.catalogue, context.item, actor=writer)
    return Response(status_code=204)
