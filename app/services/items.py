"""二级事项 / second-level items: create, update, delete, each logged to the history."""

from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.errors import Conflict
from app.models.catalogue import Catalogue
from app.models.common import utcnow
from app.models.item import Item, ItemCreate, ItemUpdate
from app.principal import Principal
from app.rules.attributes import DRAFTABLE_ATTRIBUTES
from app.services import locks

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


def build(catalogue_id: int, data: ItemCreate, *, position: int) -> Item:
    """A new, unsaved item: the one way an Item row is made (the flush derives its flags)."""
    return Item(
        **data.model_dump(exclude={"position"}), catalogue_id=catalogue_id, position=position
    )


def create(session: Session, catalogue: Catalogue, data: ItemCreate, *, actor: Principal) -> Item:
    with locks.contents(session, catalogue, actor=actor) as change:
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
        change.log("create", "item", lambda: item.id, after=lambda: snapshot(item))
    return item


def update(
    session: Session, catalogue: Catalogue, item: Item, data: ItemUpdate, *, actor: Principal
) -> Item:
    with locks.contents(session, catalogue, actor=actor) as change:
        before = snapshot(item)
        changes = data.model_dump(exclude_unset=True)
        for list_field in ("channels", "levels"):
            if list_field in changes and changes[list_field] is None:
                changes[list_field] = []
        if changes.get("position") is None:
            changes.pop("position", None)
        item.sqlmodel_update(changes)
        item.updated_at = utcnow()
        session.add(item)
        after = snapshot(item)
        if after != before:
            change.log("update", "item", item.id, before=before, after=after)
    return item


def delete(session: Session, catalogue: Catalogue, item: Item, *, actor: Principal) -> None:
    with locks.contents(session, catalogue, actor=actor) as change:
        before = snapshot(item)
        session.delete(item)
        change.log("delete", "item", before["id"], before=before)
