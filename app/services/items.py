"""二级事项 / second-level items: create, update, delete, each logged to the history."""

from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.auth import Principal
from app.errors import Conflict
from app.models.catalogue import Catalogue
from app.models.common import DRAFTABLE_ATTRIBUTES, Status, utcnow
from app.models.item import Item, ItemCreate, ItemUpdate, missing_attributes
from app.services import catalogues, history, quality, stats

SNAPSHOT_FIELDS = (
    "first_level",
    "name",
    *DRAFTABLE_ATTRIBUTES,
    "levels",
    "position",
)
MAX_ITEMS_PER_CATALOGUE = 5_000


def etag(item: Item) -> str:
    return f'"i{item.id}.{item.revision}"'


def snapshot(item: Item) -> dict[str, Any]:
    """The ITEM as a plain dict: what history stores and what a published version freezes."""
    data = {"id": item.id, **{name: getattr(item, name) for name in SNAPSHOT_FIELDS}}
    data["channels"] = list(item.channels)
    data["levels"] = list(item.levels)
    data["missing"] = item.missing
    return data


def ordered(session: Session, catalogue_id: int) -> list[Item]:
    return list(
        session.exec(
            select(Item)
            .where(Item.catalogue_id == catalogue_id)
            .order_by(col(Item.position), col(Item.id))
        )
    )


def reopen(catalogue: Catalogue) -> None:
    """Any edit reopens the working copy: it must be compiled (and published) again.

    Callers hold the catalogue's row lock (catalogues.lock), so bumping its revision
    here never makes a concurrent, non-conflicting item edit fail.
    """
    catalogue.status = Status.draft
    catalogue.updated_at = utcnow()


def _refresh_flags(item: Item) -> None:
    """The stored columns derived from an item's values (the audit counts `lacking`)."""
    item.lacking = len(missing_attributes(item.model_dump(include=set(DRAFTABLE_ATTRIBUTES))))
    quality.refresh_item(item)


def build(catalogue_id: int, data: ItemCreate, *, position: int) -> Item:
    """A new, unsaved item with its stored flags: the one way an Item row is made."""
    item = Item(
        **data.model_dump(exclude={"position"}), catalogue_id=catalogue_id, position=position
    )
    _refresh_flags(item)
    return item


def create(session: Session, catalogue: Catalogue, data: ItemCreate, *, actor: Principal) -> Item:
    catalogues.lock(session, catalogue)
    assert catalogue.id is not None
    count, last = session.exec(
        select(func.count(), func.max(Item.position)).where(Item.catalogue_id == catalogue.id)
    ).one()
    if count >= MAX_ITEMS_PER_CATALOGUE:
        raise Conflict(
            f"一个目录最多 {MAX_ITEMS_PER_CATALOGUE} 个事项 / a catalogue holds at most "
            f"{MAX_ITEMS_PER_CATALOGUE} items"
        )
    item = build(catalogue.id, data, position=data.position or (last or 0) + 1)
    session.add(item)
    reopen(catalogue)
    session.add(catalogue)
    session.flush()
    stats.refresh(session, catalogue)
    history.record(
        session,
        actor,
        action="create",
        entity="item",
        entity_id=item.id,
        catalogue=catalogue,
        after=snapshot(item),
    )
    return item


def update(
    session: Session, catalogue: Catalogue, item: Item, data: ItemUpdate, *, actor: Principal
) -> Item:
    catalogues.lock(session, catalogue)
    before = snapshot(item)
    changes = data.model_dump(exclude_unset=True)
    for list_field in ("channels", "levels"):
        if list_field in changes and changes[list_field] is None:
            changes[list_field] = []
    if changes.get("position") is None:
        changes.pop("position", None)
    item.sqlmodel_update(changes)
    _refresh_flags(item)
    item.updated_at = utcnow()
    session.add(item)
    after = snapshot(item)
    if after != before:
        reopen(catalogue)
        session.add(catalogue)
        history.record(
            session,
            actor,
            action="update",
            entity="item",
            entity_id=item.id,
            catalogue=catalogue,
            before=before,
            after=after,
        )
    session.flush()
    if after != before:
        stats.refresh(session, catalogue)
    return item


def delete(session: Session, catalogue: Catalogue, item: Item, *, actor: Principal) -> None:
    catalogues.lock(session, catalogue)
    before = snapshot(item)
    session.delete(item)
    reopen(catalogue)
    session.add(catalogue)
    history.record(
        session,
        actor,
        action="delete",
        entity="item",
        entity_id=before["id"],
        catalogue=catalogue,
        before=before,
    )
    session.flush()
    stats.refresh(session, catalogue)
