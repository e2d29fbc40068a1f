"""时效审计 / the timeliness audit: per unit × domain, records against the latest version
published as of a day: on time, late, unknown, blank items and stale items.

The items come from the version (immutable, read once per process by records.version_items);
the records are one grouped query and one list of the late ones, both on covering indexes.
"""

from __future__ import annotations

from collections import OrderedDict, defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlmodel import Session, col

from app.models.calendar import CalendarYear
from app.models.catalogue import Catalogue, CatalogueVersion
from app.models.item import Item
from app.models.record import LATE_ALIVE, RecordStamp
from app.models.unit import Unit
from app.rules.timelimits import (
    TimeLimitRule,
    UnknownCalendarYear,
    WorkCalendar,
    _period_end,
    _period_start,
)
from app.services import paging, records
from app.services.calendar import work_calendar

items_t = Item.__table__  # type: ignore[attr-defined]

FLAG_AT = 5
"""Blank plus stale items at which a unit fails a provincial website check."""
ACTIVE = "主动"


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    due_on: date


def _grace(rule: TimeLimitRule, end: date, calendar: WorkCalendar) -> date:
    days = rule.days or 0
    if rule.offset_unit == "working_day":
        return calendar.add_working_days(end, days)
    return end + timedelta(days=days)


def last_period(rule: TimeLimitRule, as_of: date, calendar: WorkCalendar) -> Period | None:
    """The latest period whose record was due (period end plus the limit's grace) before
    `as_of`; None for a rule that is not periodic."""
    if rule.kind != "periodic" or rule.period is None:
        return None
    if rule.deadline is not None and rule.period == "year":
        # 每年3月底前: the record for the last year is due by that day of this year.
        month, dom = (int(part) for part in rule.deadline.split("-"))
        year = as_of.year if date(as_of.year, month, dom) < as_of else as_of.year - 1
        return Period(date(year - 1, 1, 1), date(year - 1, 12, 31), date(year, month, dom))
    day = as_of
    for _ in range(4):
        start = _period_start(day, rule.period)
        end = _period_end(day, rule.period)
        due_on = _grace(rule, end, calendar)
        if due_on < as_of:
            return Period(start, end, due_on)
        day = start - timedelta(days=1)
    return None


@dataclass
class Scope:
    as_of: date
    district: str | None
    domain: str | None


class Latest(NamedTuple):
    """A catalogue's latest version published by as_of, and what its row depends on."""

    id: int
    catalogue_id: int
    number: int
    unit_code: str
    domain_code: str
    first_version_on: date | None
    revision: int
    seq: int | None
    name: str


_STATEMENTS: dict[tuple[str, bool, bool], tuple[str, tuple[str, ...] | None]] = {}
"""_versions' statement compiled once per database and filters given: (SQL, the parameter
names in a positional driver's order)."""


def _versions_query(district: bool, domain: bool) -> Any:
    query = (
        sa.select(
            col(CatalogueVersion.id),
            col(CatalogueVersion.catalogue_id),
            col(CatalogueVersion.number),
            col(Catalogue.unit_code),
            col(Catalogue.domain_code),
            col(Catalogue.first_version_on),
            col(Catalogue.revision),
            col(RecordStamp.seq),
            col(Unit.name),
        )
        .join(Catalogue, col(Catalogue.id) == col(CatalogueVersion.catalogue_id))
        .join(Unit, col(Unit.code) == col(Catalogue.unit_code))
        .join(RecordStamp, col(RecordStamp.catalogue_id) == col(Catalogue.id), isouter=True)
        .where(col(CatalogueVersion.published_on) <= sa.bindparam("as_of", type_=sa.Date))
        .order_by(
            col(Catalogue.unit_code), col(Catalogue.domain_code), col(CatalogueVersion.number)
        )
    )
    if district:
        code = sa.bindparam("district", type_=sa.String)
        query = query.where(sa.or_(col(Unit.code) == code, col(Unit.parent_code) == code))
    if domain:
        query = query.where(col(Catalogue.domain_code) == sa.bindparam("domain", type_=sa.String))
    return query


def _versions(session: Session, scope: Scope) -> list[Latest]:
    """Per catalogue in scope, the latest version published on or before as_of, with what
    its answer depends on: the catalogue's revision (items deleted) and record stamp.

    Compiled once per shape and run on the driver (the completeness audit runs it for every
    unit in scope on each request: SQLAlchemy's per-row processing was most of its cost)."""
    connection = session.connection()
    sqlite = connection.dialect.name == "sqlite"
    key = (connection.dialect.name, scope.district is not None, scope.domain is not None)
    found = _STATEMENTS.get(key)
    if found is None:
        compiled = _versions_query(key[1], key[2]).compile(dialect=connection.dialect)
        order = tuple(compiled.positiontup) if compiled.positiontup is not None else None
        found = _STATEMENTS[key] = (str(compiled), order)
    sql, order = found
    values: dict[str, Any] = {
        "as_of": scope.as_of.isoformat() if sqlite else scope.as_of,
        "district": scope.district,
        "domain": scope.domain,
    }
    params: Any = values if order is None else tuple(values[name] for name in order)
    latest: dict[int, Any] = {}
    for row in connection.exec_driver_sql(sql, params).all():
        latest[row[1]] = row  # ascending number: the last one wins
    day = date.fromisoformat
    return [
        Latest(
            row[0],
            row[1],
            row[2],
            row[3],
            row[4],
            day(row[5]) if isinstance(row[5], str) else row[5],
            row[6],
            row[7],
            row[8],
        )
        for row in latest.values()
    ]


def _calendar_tag(session: Session) -> tuple[Any, ...]:
    """Changes when an auditor loads a calendar year (a grace in working days may move)."""
    return tuple(
        session.connection()
        .execute(sa.select(sa.func.count(), sa.func.max(col(CalendarYear.loaded_at))))
        .one()
    )


Row = tuple[dict[str, Any], int]
"""A unit × domain row (shared, never mutated) and how many of its items are blank or stale."""

# Rows by everything they are a function of: the version (items), the catalogue revision
# (items deleted since), the record stamp (any record written or deleted), as_of and the
# calendar. A push to one catalogue makes only that catalogue's row be computed again.
_rows: OrderedDict[tuple[Any, ...], Row] = OrderedDict()
MAX_ROWS = 200_000


def clear_caches() -> None:
    _rows.clear()


def _key(version: Any, as_of: date, calendar_tag: tuple[Any, ...]) -> tuple[Any, ...]:
    return (version.catalogue_id, version.id, version.revision, version.seq, as_of, calendar_tag)


def _rows_of(
    session: Session, versions: list[Any], as_of: date, calendar: WorkCalendar | None
) -> dict[int, Row]:
    """The row of each version's catalogue: from memory, or computed for the catalogues
    whose key changed (grouped queries over their records, 500 catalogues at a time)."""
    tag = _calendar_tag(session)
    found: dict[int, Row] = {}
    missing = []
    for version in versions:
        hit = _rows.get(_key(version, as_of, tag))
        if hit is None:
            missing.append(version)
        else:
            found[version.catalogue_id] = hit
    if missing:
        made = _compute(session, missing, as_of, calendar or work_calendar(session))
        for version in missing:
            _rows[_key(version, as_of, tag)] = made[version.catalogue_id]
        while len(_rows) > MAX_ROWS:
            _rows.popitem(last=False)
        found.update(made)
    return found


class UnitFigures(NamedTuple):
    """A unit's timeliness, summed over its rows: what the completeness score reads."""

    items: int
    records: int
    on_time: int
    late: int
    blank: int
    stale: int
    blank_or_stale: int


def unit_figures(
    session: Session, scope: Scope
) -> tuple[dict[str, UnitFigures], dict[tuple[str, str], dict[str, Any]]]:
    """Every unit in scope with a version published by as_of: its figures (the sums of the
    rows `report` shows, so the two always agree), and the rows by (unit, domain). One query
    for the versions, one for the calendar's stamp; rows from memory unless their catalogue
    changed (see `_rows`)."""
    versions = _versions(session, scope)
    found = _rows_of(session, versions, scope.as_of, None)
    sums: dict[str, list[int]] = {}
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for version in versions:
        row, failing = found[version.catalogue_id]
        rows[(version.unit_code, version.domain_code)] = row
        total = sums.get(version.unit_code)
        if total is None:
            total = sums[version.unit_code] = [0] * 7
        total[0] += row["items"]
        total[1] += row["records"]
        total[2] += row["on_time"]
        total[3] += row["late"]
        total[4] += row["blank"]
        total[5] += row["stale"]
        total[6] += failing
    return {code: UnitFigures(*total) for code, total in sums.items()}, rows


def report(
    session: Session, scope: Scope, *, limit: int, offset: int, calendar: WorkCalendar | None = None
) -> dict[str, Any]:
    versions = _versions(session, scope)
    unit_codes = sorted({row.unit_code for row in versions})
    page_codes, next_offset = paging.window(unit_codes, offset, limit)
    page_units = set(page_codes)
    versions = [row for row in versions if row.unit_code in page_units]
    found = _rows_of(session, versions, scope.as_of, calendar)
    rows: list[dict[str, Any]] = []
    units: dict[str, dict[str, Any]] = {}
    for version in versions:
        row, failing = found[version.catalogue_id]
        rows.append(row)
        unit = units.setdefault(
            version.unit_code,
            {"unit_code": version.unit_code, "blank": 0, "stale": 0, "blank_or_stale": 0},
        )
        unit["blank"] += row["blank"]
        unit["stale"] += row["stale"]
        unit["blank_or_stale"] += failing
    for unit in units.values():
        unit["flagged"] = unit["blank_or_stale"] >= FLAG_AT
    return {
        "as_of": scope.as_of,
        "district": scope.district,
        "domain": scope.domain,
        "rows": rows,
        "units": list(units.values()),
        "next_offset": next_offset,
    }


_GROUPED = (
    "SELECT catalogue_id, item_id, count(*), "
    "sum(CASE WHEN state = 'on_time' THEN 1 ELSE 0 END), "
    "sum(CASE WHEN state = 'late' THEN 1 ELSE 0 END), "
    "sum(CASE WHEN state = 'unknown' THEN 1 ELSE 0 END), "
    "max(formed_on) FROM records WHERE deleted_at IS NULL AND published_on <= {mark} "
    "AND catalogue_id IN ({marks}) GROUP BY catalogue_id, item_id"
)
"""Per item, its records published by as_of: the definition, read only for a catalogue with
a record published after as_of (record_counts holds every live record)."""
_STORED = (
    "SELECT catalogue_id, item_id, records, on_time, late, unknown, last_formed_on, "
    "last_published_on FROM record_counts WHERE catalogue_id IN ({marks})"
)
_LATE = (
    "SELECT catalogue_id, id, item_id, title, url, due_on, published_on, late_days "
    f"FROM records WHERE {LATE_ALIVE} AND published_on <= {{mark}} "
    "AND catalogue_id IN ({marks}) ORDER BY id"
)
_ITEMS = "SELECT id FROM items WHERE catalogue_id IN ({marks})"


def _compute(
    session: Session, versions: list[Any], as_of: date, calendar: WorkCalendar
) -> dict[int, Row]:
    catalogue_ids = [row.catalogue_id for row in versions]
    items_of = records.version_items(session, (row.id for row in versions))
    counts: dict[tuple[int, int], tuple[int, int, int, int, date]] = {}
    late: dict[int, list[dict[str, Any]]] = defaultdict(list)
    existing: set[int] = set()
    # SQLite answers dates as ISO text: compared as text, converted once per distinct day.
    sqlite = session.connection().dialect.name == "sqlite"
    bound: Any = as_of.isoformat() if sqlite else as_of
    days: dict[Any, Any] = {None: None}

    def day(value: Any) -> Any:
        if (found := days.get(value)) is None:
            found = days[value] = date.fromisoformat(value) if isinstance(value, str) else value
        return found

    for start in range(0, len(catalogue_ids), 500):
        chunk = catalogue_ids[start : start + 500]
        stored = records.driver_rows(session, _STORED, (), chunk)
        newest: dict[int, Any] = {}
        for row in stored:
            if row[0] not in newest or row[7] > newest[row[0]]:
                newest[row[0]] = row[7]
        # A record published after as_of must not count: those catalogues are aggregated
        # from their records as of that day (the stored rows count every live record).
        behind = {cid for cid, last in newest.items() if last > bound}
        for row in stored:
            if row[0] not in behind:
                counts[(row[0], row[1])] = (row[2], row[3], row[4], row[5], day(row[6]))
        if behind:
            for row in records.driver_rows(session, _GROUPED, (bound,), sorted(behind)):
                counts[(row[0], row[1])] = (
                    row[2],
                    int(row[3]),
                    int(row[4]),
                    int(row[5]),
                    day(row[6]),
                )
        for row in records.driver_rows(session, _LATE, (bound,), chunk):
            late[row[0]].append(
                {
                    "id": row[1],
                    "item_id": row[2],
                    "title": row[3],
                    "url": row[4],
                    "due_on": day(row[5]),
                    "published_on": day(row[6]),
                    "late_days": row[7],
                }
            )
        existing.update(row[0] for row in records.driver_rows(session, _ITEMS, (), chunk))

    made: dict[int, Row] = {}
    periods: dict[str | None, Period | None] = {}
    for version in versions:
        line: dict[str, Any] = {
            "unit_code": version.unit_code,
            "unit_name": version.name,
            "domain_code": version.domain_code,
            "version": version.number,
            "items": 0,
            "records": 0,
            "on_time": 0,
            "late": 0,
            "unknown": 0,
            "blank": 0,
            "stale": 0,
            "blank_items": [],
            "stale_items": [],
            "late_records": [],
        }
        live_ids: set[int] = set()
        failing: set[int] = set()
        for item in items_of.get(version.id, ()):
            if item.id not in existing:
                continue  # deleted: its records stay readable but no longer count
            live_ids.add(item.id)
            line["items"] += 1
            found = counts.get((version.catalogue_id, item.id))
            if found is not None:
                line["records"] += found[0]
                line["on_time"] += found[1]
                line["late"] += found[2]
                line["unknown"] += found[3]
            if found is None and item.method == ACTIVE:
                failing.add(item.id)
                line["blank"] += 1
                line["blank_items"].append(
                    {"id": item.id, "name": item.name, "first_level": item.first_level}
                )
            if item.time_limit not in periods:
                try:
                    periods[item.time_limit] = last_period(
                        records.rule_of(item.time_limit), as_of, calendar
                    )
                except UnknownCalendarYear:
                    periods[item.time_limit] = None
            period = periods[item.time_limit]
            if (
                period is not None
                and (version.first_version_on is None or period.end >= version.first_version_on)
                and (found is None or found[4] < period.start)
            ):
                failing.add(item.id)
                line["stale"] += 1
                line["stale_items"].append(
                    {
                        "id": item.id,
                        "name": item.name,
                        "first_level": item.first_level,
                        "period_start": period.start,
                        "period_end": period.end,
                        "due_on": period.due_on,
                    }
                )
        line["late_records"] = [
            r for r in late.get(version.catalogue_id, ()) if r["item_id"] in live_ids
        ]
        made[version.catalogue_id] = (line, len(failing))
    return made
