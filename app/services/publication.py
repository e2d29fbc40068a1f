"""发布 / published versions: the queries the public side asks, and the feed's numbering.

Which version is the latest (or a pinned one) of a unit × domain, a unit's published
catalogues, a version's frozen items, and the publishes after a feed number. All sync,
session first. What a process remembers of these answers is app/services/published_cache.py;
how a version becomes bytes is app/render/published.py.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import func, text
from sqlmodel import Session, col, select

from app.models.catalogue import Catalogue, CatalogueVersion
from app.models.publication import PUBLIC_PREFIX, UnitListing, VersionRef, href
from app.models.unit import Unit

__all__ = [
    "PUBLIC_PREFIX",
    "UnitListing",
    "VersionRef",
    "changes",
    "find_unit_listing",
    "find_version",
    "href",
    "load_items",
    "next_feed_seq",
]

_REF_COLUMNS = (
    col(CatalogueVersion.id),
    col(CatalogueVersion.unit_code),
    col(CatalogueVersion.unit_name),
    col(CatalogueVersion.domain_code),
    col(CatalogueVersion.domain_name),
    col(CatalogueVersion.number),
    col(CatalogueVersion.published_on),
    col(CatalogueVersion.published_url),
    col(CatalogueVersion.published_at),
    col(CatalogueVersion.feed_seq),
)


def _refs_query() -> Any:
    """The names are the version's own, frozen at publish: a rename changes no old version."""
    return sa.select(*_REF_COLUMNS).join(
        Catalogue, col(Catalogue.id) == col(CatalogueVersion.catalogue_id)
    )


def find_version(
    session: Session, unit_code: str, domain_code: str, number: int | None = None
) -> VersionRef | None:
    """The published version `number` of unit × domain, or the latest one when None."""
    query = _refs_query().where(
        col(Catalogue.unit_code) == unit_code, col(Catalogue.domain_code) == domain_code
    )
    if number is None:
        query = query.where(col(CatalogueVersion.number) == col(Catalogue.version))
    else:
        query = query.where(col(CatalogueVersion.number) == number)
    row = session.exec(query).first()
    return VersionRef(*row) if row is not None else None


def find_unit_listing(session: Session, unit_code: str) -> UnitListing | None:
    """The unit's published catalogues, each at its latest version; None for no such unit."""
    unit = session.get(Unit, unit_code)
    if unit is None:
        return None
    rows = session.exec(
        _refs_query()
        .where(
            col(Catalogue.unit_code) == unit_code,
            col(CatalogueVersion.number) == col(Catalogue.version),
        )
        .order_by(col(Catalogue.domain_code))
    ).all()
    return UnitListing(unit.code, unit.name, tuple(VersionRef(*row) for row in rows))


def load_items(session: Session, version_id: int) -> list[dict[str, Any]]:
    items = session.exec(
        select(CatalogueVersion.items).where(CatalogueVersion.id == version_id)
    ).one()
    return list(items)


# A constant key for PostgreSQL's transaction-level advisory lock: "gkmlfeed" in ASCII.
FEED_LOCK = int.from_bytes(b"gkmlfeed", "big") & 0x7FFF_FFFF_FFFF_FFFF


def next_feed_seq(session: Session) -> int:
    """The next feed number: gap-free and in commit order.

    Publishes take one lock, held until they commit, before they read the highest number
    (PostgreSQL: an advisory transaction lock; SQLite: BEGIN IMMEDIATE already admits one
    writer at a time). So a number is visible only once every smaller one is, and a reader
    that has seen N can ask for "after N" without ever skipping a late commit. Sequence
    ids alone would not do: on PostgreSQL they can commit out of order.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.exec(text("SELECT pg_advisory_xact_lock(:key)").bindparams(key=FEED_LOCK))  # type: ignore[call-overload]
    last = session.exec(select(func.max(CatalogueVersion.feed_seq))).one()
    return int(last or 0) + 1


def changes(session: Session, *, after: int, limit: int) -> list[VersionRef]:
    """Publishes with a feed number above `after`, oldest first, at most `limit` + 1."""
    rows = session.exec(
        _refs_query()
        .where(col(CatalogueVersion.feed_seq) > after)
        .order_by(col(CatalogueVersion.feed_seq))
        .limit(limit + 1)
    ).all()
    return [VersionRef(*row) for row in rows]
