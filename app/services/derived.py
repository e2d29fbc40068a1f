"""Stored derived values: check them against their definitions, and recompute them.

Several columns are computed by rule code when a row is written, so that reads (the audit,
the column, filters) never run the rules per request. When a rule changes in an upgrade,
rows written before it hold the old answer. These are all of them, each with the one
function that defines it:

- guide_items: name_key, level_mask (rules.quality);
- items: name_key, flags, lacking (rules.quality.refresh_item);
- catalogue_versions: item_count, first_level_count (the version's frozen items);
- catalogues: the audit counts and first_version_on (stats.COLUMNS; stats.counts);
- catalogue_lists: the audit's lists of lacking items and absent/waived guide items
  (stats.DETAILS; stats.details);
- records: due_on, state, late_days, note (services.records.judge);
- record_counts: per catalogue item, its live records by state and latest dates
  (services.records.defined_counts, written by records.recount);
- disclosure_requests: state, clock_start, due_on, paused_until, extended_days,
  late_notice, outcome, answered_on, closed_on, on_time, note (rules.request_clock.replay),
  and table 三's received_year, closed_year, report_row (services.requests.report_columns).

`check` reports every difference (nothing written); `recompute` writes the definitions'
answers, one catalogue per transaction, so it can be stopped and run again (it is
idempotent: a second run changes nothing) or resumed after the last catalogue it reported.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from app.models.catalogue import Catalogue
from app.models.record import Record
from app.models.request import DisclosureRequest
from app.rules import quality
from app.rules.attributes import DRAFTABLE_ATTRIBUTES, missing_attributes
from app.services import records, requests, stats
from app.services.calendar import work_calendar

items_t = stats.items_t
guides_t = stats.guides_t
versions_t = stats.versions_t
catalogues_t = stats.catalogues_t
BATCH = 500


@dataclass(frozen=True)
class Difference:
    """One stored value that is not what its definition says."""

    table: str
    id: object
    column: str
    stored: Any
    defined: Any

    def line(self) -> str:
        where = f"{self.table} {self.id} {self.column}"
        return f"{where}: stored {self.stored!r}, defined {self.defined!r}"


def _compare(
    table: str, row_id: object, stored: dict[str, Any], defined: dict[str, Any]
) -> list[Difference]:
    return [
        Difference(table, row_id, column, stored[column], value)
        for column, value in defined.items()
        if stored[column] != value
    ]


# ---- guide items (before the catalogues: their counts match items against them) ----------


def _guides(session: Session) -> list[Difference]:
    rows = session.connection().execute(
        sa.select(
            guides_t.c.id,
            guides_t.c.name,
            guides_t.c.levels,
            *_cols(guides_t, "name_key", "level_mask"),
        ).order_by(guides_t.c.id)
    )
    out: list[Difference] = []
    for row in rows.mappings():
        defined = {
            "name_key": quality.name_key(row["name"]),
            "level_mask": quality.level_mask(row["levels"] or []),
        }
        out += _compare("guide_items", row["id"], dict(row), defined)
    return out


def _cols(table: sa.Table, *names: str) -> list[Any]:
    return [table.c[name] for name in names]


# ---- one catalogue ----------------------------------------------------------------------


def _items(session: Session, catalogue_id: int) -> list[Difference]:
    rows = session.connection().execute(
        sa.select(
            items_t.c.id,
            items_t.c.name,
            *_cols(items_t, "name_key", "flags", "lacking", *DRAFTABLE_ATTRIBUTES),
        )
        .where(items_t.c.catalogue_id == catalogue_id)
        .order_by(items_t.c.id)
    )
    out: list[Difference] = []
    for row in rows.mappings():
        values = {name: row[name] for name in DRAFTABLE_ATTRIBUTES}
        defined = {
            "name_key": quality.name_key(row["name"]),
            "flags": quality.item_flags(values),
            "lacking": len(missing_attributes(values)),
        }
        out += _compare("items", row["id"], dict(row), defined)
    return out


def _versions(session: Session, catalogue_id: int) -> list[Difference]:
    rows = session.connection().execute(
        sa.select(
            versions_t.c.id,
            versions_t.c["items"],
            versions_t.c.item_count,
            versions_t.c.first_level_count,
        )
        .where(versions_t.c.catalogue_id == catalogue_id)
        .order_by(versions_t.c.id)
    )
    out: list[Difference] = []
    for row in rows.mappings():
        frozen = row["items"] or []
        defined = {
            "item_count": len(frozen),
            "first_level_count": len({item.get("first_level") for item in frozen}),
        }
        out += _compare("catalogue_versions", row["id"], dict(row), defined)
    return out


def _counts(session: Session, catalogue_id: int) -> list[Difference]:
    stored = (
        session.connection()
        .execute(
            sa.select(*_cols(catalogues_t, *stats.COLUMNS)).where(catalogues_t.c.id == catalogue_id)
        )
        .mappings()
        .one()
    )
    defined = session.connection().execute(stats.counts([catalogue_id])).mappings().one()
    return _compare(
        "catalogues", catalogue_id, dict(stored), {name: defined[name] for name in stats.COLUMNS}
    )


def _lists(session: Session, catalogue_id: int) -> list[Difference]:
    """The audit's stored lists (catalogue_lists) against stats.details."""
    row = (
        session.connection()
        .execute(
            sa.select(*_cols(stats.lists_t, *stats.DETAILS)).where(
                stats.lists_t.c.catalogue_id == catalogue_id
            )
        )
        .mappings()
        .first()
    )
    stored = dict(row) if row is not None else dict.fromkeys(stats.DETAILS)
    defined = stats.details(session.connection(), [catalogue_id])[catalogue_id]
    return _compare(
        "catalogue_lists", catalogue_id, stored, dict(zip(stats.DETAILS, defined, strict=True))
    )


def _records(session: Session, catalogue_id: int) -> list[Difference]:
    live = list(
        session.exec(
            select(Record)
            .where(
                col(Record.catalogue_id) == catalogue_id,
                col(Record.deleted_at).is_(None),
            )
            .order_by(col(Record.id))
        )
    )
    out: list[Difference] = []
    for record, verdict in records.rejudged(session, live):
        stored = {
            "due_on": record.due_on,
            "state": record.state,
            "late_days": record.late_days,
            "note": record.note,
        }
        defined = {
            "due_on": verdict.due_on,
            "state": verdict.state,
            "late_days": verdict.late_days,
            "note": verdict.note,
        }
        out += _compare("records", record.id, stored, defined)
    return out


_COUNT_NAMES = ("records", "on_time", "late", "unknown", "last_formed_on", "last_published_on")


def _record_counts(session: Session, catalogue_id: int) -> list[Difference]:
    """The stored per-item record counts against their definition (a missing row is None)."""
    stored = records.stored_counts(session.connection(), [catalogue_id])
    defined = records.defined_counts(session.connection(), [catalogue_id])
    out: list[Difference] = []
    for key in sorted(stored.keys() | defined.keys()):
        now = dict(zip(_COUNT_NAMES, stored.get(key) or (None,) * 6, strict=True))
        should = dict(zip(_COUNT_NAMES, defined.get(key) or (None,) * 6, strict=True))
        out += _compare("record_counts", f"{key[0]}/{key[1]}", now, should)
    return out


def check_catalogue(session: Session, catalogue_id: int) -> list[Difference]:
    return (
        _items(session, catalogue_id)
        + _versions(session, catalogue_id)
        + _counts(session, catalogue_id)
        + _lists(session, catalogue_id)
        + _records(session, catalogue_id)
        + _record_counts(session, catalogue_id)
    )


def recompute_catalogue(session: Session, catalogue: Catalogue) -> int:
    """Bring one catalogue's stored values in line under its lock; how many values changed.
    Its items first (the counts and the records' limits read them), then its versions,
    counts and records, then the records' counts per item."""
    session.refresh(catalogue, with_for_update=True)
    assert catalogue.id is not None
    changed = 0
    fixes: dict[int, dict[str, Any]] = {}
    for difference in _items(session, catalogue.id):
        fixes.setdefault(int(str(difference.id)), {})[difference.column] = difference.defined
        changed += 1
    for item_id, values in fixes.items():
        # A new revision: the item's answer (its `missing` list) changes, so must its ETag.
        session.connection().execute(
            items_t.update()
            .where(items_t.c.id == item_id)
            .values(**values, revision=items_t.c.revision + 1)
        )
    for difference in _versions(session, catalogue.id):
        session.connection().execute(
            versions_t.update()
            .where(versions_t.c.id == difference.id)
            .values({difference.column: difference.defined})
        )
        changed += 1
    counted = _counts(session, catalogue.id) + _lists(session, catalogue.id)
    if counted:
        stats.recompute(session.connection(), [catalogue.id])  # the counts and the lists
        changed += len(counted)
    wrong_records = _records(session, catalogue.id)
    if wrong_records:
        records.recompute(session, catalogue_ids=[catalogue.id])
        changed += len(wrong_records)
    wrong_counts = _record_counts(session, catalogue.id)
    if wrong_counts:
        records.recount_catalogues(session.connection(), [catalogue.id])
        changed += len(wrong_counts)
    session.expire_all()
    return changed


# ---- requests (not a catalogue's: in batches of ids) ----------------------------------


_REQUEST_COLUMNS = (
    "state",
    "clock_start",
    "due_on",
    "paused_until",
    "extended_days",
    "late_notice",
    "outcome",
    "answered_on",
    "closed_on",
    "on_time",
    "note",
    "received_year",
    "closed_year",
    "report_row",
)


def _requests(session: Session, after: int, limit: int) -> tuple[list[Difference], int | None]:
    """Differences among the requests with id > after (at most `limit`), and the last id."""
    batch = list(
        session.exec(
            select(DisclosureRequest)
            .where(col(DisclosureRequest.id) > after)
            .order_by(col(DisclosureRequest.id))
            .limit(limit)
        )
    )
    if not batch:
        return [], None
    calendar = work_calendar(session)
    events = requests.events_of(session, [r.id for r in batch if r.id is not None])
    out: list[Difference] = []
    for request in batch:
        assert request.id is not None
        clock = requests.replay(request, events[request.id], calendar)
        defined = requests.derived_columns(request.received_on, clock)
        stored = {name: getattr(request, name) for name in _REQUEST_COLUMNS}
        out += _compare("disclosure_requests", request.id, stored, defined)
    return out, batch[-1].id


# ---- the two commands ----------------------------------------------------------------------


def catalogue_ids(session: Session, *, after: int = 0) -> list[int]:
    query = sa.select(catalogues_t.c.id).where(catalogues_t.c.id > after)
    return [
        int(i) for i in session.connection().execute(query.order_by(catalogues_t.c.id)).scalars()
    ]


def check(session: Session) -> Iterator[Difference]:
    """Every stored derived value that differs from its definition (nothing written)."""
    yield from _guides(session)
    for catalogue_id in catalogue_ids(session):
        yield from check_catalogue(session, catalogue_id)
    after = 0
    while True:
        found, last = _requests(session, after, BATCH)
        if last is None:
            break
        yield from found
        after = last


def recompute(
    sessions: Callable[[], Session],
    *,
    after: int = 0,
    progress: Callable[[str], None] = lambda _line: None,
) -> int:
    """Write every definition's answer where the stored value differs: the guide items, then
    each catalogue with id > `after` in its own transaction, then the requests in batches.
    Reports progress after each step; answers how many values changed."""
    total = 0
    with sessions() as session:
        guides = _guides(session)
        for difference in guides:
            session.connection().execute(
                guides_t.update()
                .where(guides_t.c.id == difference.id)
                .values({difference.column: difference.defined})
            )
        if guides:
            # The coverage counts of every catalogue of these domains read the guide.
            session.commit()
        total += len(guides)
        ids = catalogue_ids(session, after=after)
    progress(f"guide_items: {len(guides)} values changed")
    for n, catalogue_id in enumerate(ids, 1):
        with sessions() as session:
            catalogue = session.get(Catalogue, catalogue_id)
            if catalogue is None:  # deleted meanwhile
                continue
            changed = recompute_catalogue(session, catalogue)
            session.commit()
        total += changed
        if changed or n == len(ids) or n % 100 == 0:
            progress(f"catalogue {n}/{len(ids)} (id {catalogue_id}): {changed} values changed")
    last = 0
    while True:
        with sessions() as session:
            found, end = _requests(session, last, BATCH)
            if end is None:
                break
            for request_id in sorted({int(str(d.id)) for d in found}):
                request = session.get(DisclosureRequest, request_id)
                assert request is not None
                clock = requests.replay(
                    request,
                    requests.events_of(session, [request_id])[request_id],
                    work_calendar(session),
                )
                requests.store(request, clock)
                session.add(request)
            session.commit()
        total += len(found)
        last = end
        progress(f"disclosure_requests up to id {end}: {len(found)} values changed")
    return total
