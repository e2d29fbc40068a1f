"""目录统计 / the per-catalogue counts the audit reads (columns of catalogues), kept on write.

The audit of a nation cannot count 5 M items per request, so every write that changes what
it counts recomputes the catalogue's row here, in the same transaction and under the
catalogue's lock (locks.contents): item create, update and delete, an import or a fill from
the guide (imports.replace), a waiver put or removed, a publish (the first version's date),
and a guide reload in the seed (every catalogue of the domains whose guide changed).

Recomputing from the base tables, rather than adding and subtracting deltas, keeps one
definition of each count (`counts`, which the tests compare the stored values against) and
cannot drift: a row holds what the statement says, whatever wrote before it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

import orjson
import sqlalchemy as sa
from sqlmodel import Session, SQLModel

from app.models.catalogue import Catalogue
from app.rules import quality

TABLES = SQLModel.metadata.tables
catalogues_t = TABLES["catalogues"]
items_t = TABLES["items"]
guides_t = TABLES["guide_items"]
waivers_t = TABLES["guide_waivers"]
versions_t = TABLES["catalogue_versions"]
units_t = TABLES["units"]
lists_t = TABLES["catalogue_lists"]

COLUMNS = (
    "item_count",
    "lacking_count",
    "flagged_count",
    "vague_time_limit_count",
    "unparsed_time_limit_count",
    "basis_without_document_count",
    "generic_body_count",
    "present_county",
    "present_township",
    "waived_county",
    "waived_township",
    "first_version_on",
)
"""The stored columns of catalogues, in the order `counts` answers them (after the id)."""

DETAILS = ("lacking_items", "absent_items", "waived_items")
"""The lists the audit shows per catalogue, stored in catalogue_lists (JSON text, as the
report writes them): its items lacking a required attribute, the guide items of its unit's
level it neither holds nor waives, and the waived ones (`details`)."""
CHUNK = 500


def _has(column: Any, bit: int) -> Any:
    return column.op("&")(bit) != 0


def _count_if(condition: Any) -> Any:
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


def counts(chosen: Any | None = None) -> Any:
    """One row per catalogue (of `chosen`, a SELECT of catalogue ids; all when None) with
    every stored count, from the base tables: the definition of catalogue_stats.

    * items, lacking (a required attribute missing), flagged (any quality flag), per flag;
    * present_county / _township: guide items of the domain at that level (县级 1, 乡级 2)
      whose normalised name an item of the catalogue has;
    * waived_county / _township: waivers of guide items at that level no item matches (a
      matched one counts as present, not twice);
    * first_version_on: the earliest published_on of its versions (a version was published
      on or before a date exactly when this is on or before it).
    """

    def only(query: Any, column: Any) -> Any:
        return query if chosen is None else query.where(column.in_(chosen))

    flags = items_t.c.flags
    item_counts = only(
        sa.select(
            items_t.c.catalogue_id,
            sa.func.count().label("item_count"),
            _count_if(items_t.c.lacking > 0).label("lacking_count"),
            _count_if(_has(flags, quality.QUALITY_MASK)).label("flagged_count"),
            _count_if(_has(flags, quality.VAGUE_TIME_LIMIT)).label("vague_time_limit_count"),
            _count_if(_has(flags, quality.UNPARSED_TIME_LIMIT)).label("unparsed_time_limit_count"),
            _count_if(_has(flags, quality.BASIS_WITHOUT_DOCUMENT)).label(
                "basis_without_document_count"
            ),
            _count_if(_has(flags, quality.GENERIC_BODY)).label("generic_body_count"),
        ),
        items_t.c.catalogue_id,
    ).group_by(items_t.c.catalogue_id)
    item_counts = item_counts.subquery("ic")

    def present_at(level: int) -> Any:
        return sa.func.count(
            sa.distinct(sa.case((_has(guides_t.c.level_mask, level), guides_t.c.id)))
        )

    c2 = catalogues_t.alias("c2")
    present = only(
        sa.select(
            items_t.c.catalogue_id,
            present_at(quality.COUNTY).label("present_county"),
            present_at(quality.TOWNSHIP).label("present_township"),
        )
        .select_from(items_t)
        .join(c2, c2.c.id == items_t.c.catalogue_id)
        .join(
            guides_t,
            (guides_t.c.domain_code == c2.c.domain_code)
            & (guides_t.c.name_key == items_t.c.name_key),
        ),
        items_t.c.catalogue_id,
    ).group_by(items_t.c.catalogue_id)
    present = present.subquery("present")

    matched = sa.exists().where(
        (items_t.c.catalogue_id == waivers_t.c.catalogue_id)
        & (items_t.c.name_key == guides_t.c.name_key)
    )
    waived = only(
        sa.select(
            waivers_t.c.catalogue_id,
            _count_if(_has(guides_t.c.level_mask, quality.COUNTY)).label("waived_county"),
            _count_if(_has(guides_t.c.level_mask, quality.TOWNSHIP)).label("waived_township"),
        )
        .select_from(waivers_t)
        .join(guides_t, guides_t.c.id == waivers_t.c.guide_item_id)
        .where(~matched),
        waivers_t.c.catalogue_id,
    ).group_by(waivers_t.c.catalogue_id)
    waived = waived.subquery("waived")

    first = only(
        sa.select(
            versions_t.c.catalogue_id,
            sa.func.min(versions_t.c.published_on).label("first_version_on"),
        ),
        versions_t.c.catalogue_id,
    ).group_by(versions_t.c.catalogue_id)
    first = first.subquery("first")

    def zero(column: Any) -> Any:
        return sa.func.coalesce(column, 0).label(column.name)

    return only(
        sa.select(
            catalogues_t.c.id.label("catalogue_id"),
            *(zero(item_counts.c[name]) for name in COLUMNS[:7]),
            zero(present.c.present_county),
            zero(present.c.present_township),
            zero(waived.c.waived_county),
            zero(waived.c.waived_township),
            first.c.first_version_on,
        )
        .select_from(catalogues_t)
        .outerjoin(item_counts, item_counts.c.catalogue_id == catalogues_t.c.id)
        .outerjoin(present, present.c.catalogue_id == catalogues_t.c.id)
        .outerjoin(waived, waived.c.catalogue_id == catalogues_t.c.id)
        .outerjoin(first, first.c.catalogue_id == catalogues_t.c.id),
        catalogues_t.c.id,
    )


def recompute(connection: sa.Connection, chosen: Any) -> None:
    """Recompute the stored counts and lists of the chosen catalogues (a list or a SELECT of
    ids)."""
    fresh = counts(chosen).subquery("fresh")
    connection.execute(
        catalogues_t.update()
        .values({name: fresh.c[name] for name in COLUMNS})
        .where(catalogues_t.c.id == fresh.c.catalogue_id)
    )
    ids = list(chosen) if isinstance(chosen, list | tuple) else connection.execute(chosen).scalars()
    store_details(connection, ids)


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def details(connection: sa.Connection, ids: list[int]) -> dict[int, tuple[str, str, str]]:
    """The definition of the stored lists (DETAILS) of these catalogues, as JSON text: two
    statements, whatever the number of catalogues.

    * lacking_items: its items with a required attribute missing, in catalogue order, each
      `{"id", "name", "missing", "flags"}` (attribute and quality flag names);
    * absent_items / waived_items: the guide items of its domain at its unit's level (县级
      for a district, 乡级 otherwise) whose normalised name no item has, `{"guide_item_id",
      "name"}`, the waived ones with the waiver's `reason`; in guide order.
    """
    lacking: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    absent: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    waived: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    if not ids:
        return {}
    names: dict[int, tuple[list[str], list[str]]] = {}
    for catalogue_id, item_id, name, flags in connection.execute(
        sa.select(items_t.c.catalogue_id, items_t.c.id, items_t.c.name, items_t.c.flags)
        .where(items_t.c.catalogue_id.in_(ids), items_t.c.lacking > 0)
        .order_by(items_t.c.catalogue_id, items_t.c.position, items_t.c.id)
    ):
        found = names.get(flags)
        if found is None:
            found = names[flags] = (quality.missing_names(flags), quality.flag_names(flags))
        lacking[catalogue_id].append(
            {"id": item_id, "name": name, "missing": found[0], "flags": found[1]}
        )
    c = catalogues_t.alias("c")
    mask = sa.case((units_t.c.kind == "district", quality.COUNTY), else_=quality.TOWNSHIP)
    held = (
        sa.select(sa.literal_column("1"))
        .where((items_t.c.catalogue_id == c.c.id) & (items_t.c.name_key == guides_t.c.name_key))
        .exists()
    )
    for catalogue_id, guide_id, name, reason in connection.execute(
        sa.select(c.c.id, guides_t.c.id, guides_t.c.name, waivers_t.c.reason)
        .select_from(c)
        .join(units_t, units_t.c.code == c.c.unit_code)
        .join(
            guides_t,
            (guides_t.c.domain_code == c.c.domain_code)
            & (guides_t.c.level_mask.op("&")(mask) != 0),
        )
        .outerjoin(
            waivers_t,
            (waivers_t.c.catalogue_id == c.c.id) & (waivers_t.c.guide_item_id == guides_t.c.id),
        )
        .where(c.c.id.in_(ids), ~held)
        .order_by(c.c.id, guides_t.c.position, guides_t.c.id)
    ):
        if reason is None:
            absent[catalogue_id].append({"guide_item_id": guide_id, "name": name})
        else:
            waived[catalogue_id].append({"guide_item_id": guide_id, "name": name, "reason": reason})
    return {i: (_json(lacking[i]), _json(absent[i]), _json(waived[i])) for i in ids}


def store_details(connection: sa.Connection, ids: Iterable[int]) -> None:
    """Recompute and store the lists (DETAILS) of these catalogues, CHUNK at a time: their
    rows in catalogue_lists replaced."""
    pending = list(ids)
    for start in range(0, len(pending), CHUNK):
        chunk = pending[start : start + CHUNK]
        made = details(connection, chunk)
        connection.execute(lists_t.delete().where(lists_t.c.catalogue_id.in_(chunk)))
        if made:
            connection.execute(
                lists_t.insert(),
                [
                    {"catalogue_id": cid, **dict(zip(DETAILS, texts, strict=True))}
                    for cid, texts in made.items()
                ],
            )


def refresh(session: Session, catalogue: Catalogue) -> None:
    """Recompute one catalogue's counts (one statement), after flushing what the caller
    changed; the caller holds the catalogue's lock. The loaded object forgets its old
    counts."""
    assert catalogue.id is not None
    session.flush()
    recompute(session.connection(), [catalogue.id])
    session.expire(catalogue, list(COLUMNS))


def refresh_domains(session: Session, domains: Collection[str]) -> int:
    """Recompute the counts of every catalogue of these domains (their guide changed):
    locks them first, as each writer of one of them would. Answers how many catalogues."""
    if not domains:
        return 0
    session.flush()
    chosen = sa.select(catalogues_t.c.id).where(catalogues_t.c.domain_code.in_(sorted(domains)))
    locked = session.connection().execute(chosen.order_by(catalogues_t.c.id).with_for_update())
    n = len(locked.all())
    recompute(session.connection(), chosen)
    for loaded in list(session.identity_map.values()):
        if isinstance(loaded, Catalogue) and loaded.domain_code in domains:
            session.expire(loaded, list(COLUMNS))
    return n
