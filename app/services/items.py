"""二级事项 / second-level items: create, update, delete, each logged to the history."""

from typing import Any

import sqlalchemy as sa
from sqlalchemy import func
from sqlmodel import Session, col, select

from app.errors import Conflict, invalid
from app.models.catalogue import Catalogue
from app.models.common import utcnow
from app.models.item import Item, ItemCreate, ItemUpdate
from app.models.unit import Unit
from app.principal import Principal
from app.rules.attributes import ITEM_ATTRIBUTES
from app.services import locks

SNAPSHOT_FIELDS = (*ITEM_ATTRIBUTES, "position")
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


def _count(session: Session, catalogue_id: int) -> int:
    return session.exec(
        select(func.count()).select_from(Item).where(Item.catalogue_id == catalogue_id)
    ).one()


def _check_position(position: int, highest: int) -> None:
    """A position is 1..highest: the items of a catalogue are numbered 1..n, no gaps."""
    if not 1 <= position <= highest:
        raise invalid(
            ("body", "position"),
            f"position 须在 1 到 {highest} 之间（目录中的序号连续，不留空缺） / position must "
            f"be between 1 and {highest} (a catalogue's items are numbered 1..n without gaps)",
            "position_range",
        )


def _shift(session: Session, catalogue_id: int, low: int, high: int, by: int, *, but: int) -> None:
    """Move the items at positions low..high by `by` (+1 or -1), all but item `but`.

    Their revision moves too, so a client holding one of them sees its ETag change with its
    position. The caller holds the catalogue's lock, so positions stay 1..n."""
    if low > high:
        return
    session.exec(
        sa.update(Item)
        .where(
            col(Item.catalogue_id) == catalogue_id,
            col(Item.position) >= low,
            col(Item.position) <= high,
            col(Item.id) != but,
        )
        .values(position=Item.position + by, revision=Item.revision + 1)
        .execution_options(synchronize_session="fetch")
    )


def create(session: Session, catalogue: Catalogue, data: ItemCreate, *, actor: Principal) -> Item:
    """Append the item, or insert it at `position` (1..n+1) and move the later ones down."""
    with locks.contents(session, catalogue, actor=actor) as change:
        assert catalogue.id is not None
        count = _count(session, catalogue.id)
        if count >= MAX_ITEMS_PER_CATALOGUE:
            raise Conflict(
                f"一个目录最多 {MAX_ITEMS_PER_CATALOGUE} 个事项 / a catalogue holds at most "
                f"{MAX_ITEMS_PER_CATALOGUE} items"
            )
        position = count + 1 if data.position is None else data.position
        _check_position(position, count + 1)
        _shift(session, catalogue.id, position, count, +1, but=0)
        item = build(catalogue.id, data, position=position)
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
        else:
            _move(session, catalogue, item, changes["position"])
        item.sqlmodel_update(changes)
        item.updated_at = utcnow()
        session.add(item)
        after = snapshot(item)
        if after != before:
            change.log("update", "item", item.id, before=before, after=after)
    return item


def _move(session: Session, catalogue: Catalogue, item: Item, to: int) -> None:
    """Move an item to position `to` (1..n); the items between close up or make room."""
    assert catalogue.id is not None
    assert item.id is not None
    _check_position(to, _count(session, catalogue.id))
    if to < item.position:
        _shift(session, catalogue.id, to, item.position - 1, +1, but=item.id)
    elif to > item.position:
        _shift(session, catalogue.id, item.position + 1, to, -1, but=item.id)


def delete(session: Session, catalogue: Catalogue, item: Item, *, actor: Principal) -> None:
    """Delete the item; the later ones move up, so positions stay 1..n."""
    with locks.contents(session, catalogue, actor=actor) as change:
        assert catalogue.id is not None
        before = snapshot(item)
        session.delete(item)
        session.flush()
        _shift(session, catalogue.id, before["position"] + 1, MAX_ITEMS_PER_CATALOGUE, -1, but=0)
        change.log("delete", "item", before["id"], before=before)


def with_owner(session: Session, item_id: int) -> tuple[Item, Catalogue, Unit] | None:
    """The item with its catalogue and unit (one query), None when there is no such item."""
    row = session.exec(
        select(Item, Catalogue, Unit)
        .join(Catalogue, col(Catalogue.id) == col(Item.catalogue_id))
        .join(Unit, col(Unit.code) == col(Catalogue.unit_code))
        .where(col(Item.id) == item_id)
    ).first()
    return None if row is None else (row[0], row[1], row[2])
