"""The one way a change is logged: who, when, what, before and after."""

from typing import Any

import orjson
from sqlmodel import Session, col, select

from app.models.catalogue import Catalogue
from app.models.common import utcnow
from app.models.history import Change
from app.principal import Principal
from app.services import bulk


def _row(
    actor: Principal,
    *,
    action: str,
    entity: str,
    entity_id: object,
    catalogue: Catalogue | None,
    unit_code: str | None,
    domain_code: str | None,
    before: Any,
    after: Any,
    note: str | None,
) -> dict[str, Any]:
    return {
        "actor_role": actor.role,
        "actor_unit": actor.unit_code,
        "token_id": actor.token_id,
        "action": action,
        "entity": entity,
        "entity_id": None if entity_id is None else str(entity_id),
        "catalogue_id": catalogue.id if catalogue else None,
        "unit_code": catalogue.unit_code if catalogue else unit_code,
        "domain_code": catalogue.domain_code if catalogue else domain_code,
        "before": before,
        "after": after,
        "note": note,
    }


def record(
    session: Session,
    actor: Principal,
    *,
    action: str,
    entity: str,
    entity_id: object = None,
    catalogue: Catalogue | None = None,
    unit_code: str | None = None,
    domain_code: str | None = None,
    before: Any = None,
    after: Any = None,
    note: str | None = None,
) -> Change:
    change = Change(
        **_row(
            actor,
            action=action,
            entity=entity,
            entity_id=entity_id,
            catalogue=catalogue,
            unit_code=unit_code,
            domain_code=domain_code,
            before=before,
            after=after,
            note=note,
        )
    )
    session.add(change)
    return change


def write(
    session: Session,
    actor: Principal,
    *,
    action: str,
    entity: str,
    entity_id: object = None,
    catalogue_id: int | None = None,
    unit_code: str | None = None,
    domain_code: str | None = None,
    before: Any = None,
    after: Any = None,
    note: str | None = None,
) -> None:
    """The row `record` adds, inserted at once by the driver, for the hot write paths (the
    request register's writes, a push of 1,000 records): no ORM object, and `before` and
    `after` encoded by orjson (dates as ISO text; an orjson.Fragment kept as it is), which
    together were most of the cost of a large entry."""
    session.flush()  # entries added before this one (ORM objects) keep their order
    row = _row(
        actor,
        action=action,
        entity=entity,
        entity_id=entity_id,
        catalogue=None,
        unit_code=unit_code,
        domain_code=domain_code,
        before=None,
        after=None,
        note=note,
    )
    del row["before"], row["after"]
    bulk.insert(
        session,
        Change.__table__,  # type: ignore[attr-defined]
        1,
        {},
        constants={
            **row,
            "at": utcnow(),
            "actor_role": str(actor.role),  # the driver takes text, not the enum
            "catalogue_id": catalogue_id,
        },
        as_is={
            "before": [orjson.dumps(before).decode()],  # None as JSON null, as `record` writes it
            "after": [orjson.dumps(after).decode()],
        },
    )


def for_catalogue(
    session: Session, catalogue_id: int, *, limit: int, before_id: int | None
) -> list[Change]:
    """Newest first; `before_id` is the cursor (the id of the last change already seen)."""
    query = select(Change).where(Change.catalogue_id == catalogue_id)
    if before_id is not None:
        query = query.where(col(Change.id) < before_id)
    return list(session.exec(query.order_by(col(Change.id).desc()).limit(limit)))
