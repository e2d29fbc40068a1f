"""时效审计 / the timeliness audit: per unit × domain, records against the latest version
published as of a day: on time, late, unknown, blank items and stale items.

The items come from the version (immutable, read once per process by records.version_items);
the records are one grouped query and one list of the late ones, both on covering indexes.
"""

from __future__ import annotations

from collections import OrderedDict, defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
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

PUBLISHED = "published"
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
    current: bool
    """The catalogue is published and this is its latest version: its items are the
    version's (any edit reopens a catalogue), so its figures can be aggregated in SQL."""


_STATEMENTS: dict[tuple[str, bool, bool, int, bool], tuple[str, tuple[str, ...] | None]] = {}
"""_versions' statement compiled once per database and filters given: (SQL, the parameter
names in a positional driver's order)."""


def _versions_query(district: bool, domain: bool, units: int = 0, named: bool = True) -> Any:
    """`units`: how many unit codes the statement is limited to (a page of the report;
    parameters unit_0, unit_1, …), 0 for every unit in scope. `named` False: no unit name
    and no order (the figures of every unit: PostgreSQL need not join the units nor sort
    a nation's 260,000 versions)."""
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
            col(Unit.name) if named else sa.null(),
            col(Catalogue.status),
            col(Catalogue.version),
        )
        .join(Catalogue, col(Catalogue.id) == col(CatalogueVersion.catalogue_id))
        .join(RecordStamp, col(RecordStamp.catalogue_id) == col(Catalogue.id), isouter=True)
        .where(col(CatalogueVersion.published_on) <= sa.bindparam("as_of", type_=sa.Date))
    )
    if named or district:
        query = query.join(Unit, col(Unit.code) == col(Catalogue.unit_code))
    if named:
        query = query.order_by(
            col(Catalogue.unit_code), col(Catalogue.domain_code), col(CatalogueVersion.number)
        )
    if district:
        code = sa.bindparam("district", type_=sa.String)
        query = query.where(sa.or_(col(Unit.code) == code, col(Unit.parent_code) == code))
    if domain:
        query = query.where(col(Catalogue.domain_code) == sa.bindparam("domain", type_=sa.String))
    if units:
        query = query.where(
            col(Catalogue.unit_code).in_(
                [sa.bindparam(f"unit_{n}", type_=sa.String) for n in range(units)]
            )
        )
    return query


@lru_cache(maxsize=4)
def _page_query(district: bool, domain: bool) -> Any:
    """Units in scope with a version published by as_of, by code: a page of them (the
    report's units), without reading every version in scope."""
    versions = CatalogueVersion.__table__  # type: ignore[attr-defined]
    units = Unit.__table__  # type: ignore[attr-defined]
    published = sa.select(sa.literal(1)).where(
        versions.c.unit_code == units.c.code,
        versions.c.published_on <= sa.bindparam("as_of", type_=sa.Date),
    )
    if domain:
        published = published.where(
            versions.c.domain_code == sa.bindparam("domain", type_=sa.String)
        )
    query = sa.select(units.c.code).where(published.exists())
    if district:
        code = sa.bindparam("district", type_=sa.String)
        query = query.where(sa.or_(units.c.code == code, units.c.parent_code == code))
    return query.order_by(units.c.code).limit(sa.bindparam("limit")).offset(sa.bindparam("offset"))


def _run(
    session: Session,
    cache: dict[Any, tuple[str, tuple[str, ...] | None]],
    key: tuple[Any, ...],
    make: Any,
    values: dict[str, Any],
) -> list[Any]:
    """A statement compiled once per database and shape (`make(*key[1:])`), run on the
    driver: SQLAlchemy's per-row processing would cost more than the query."""
    connection = session.connection()
    found = cache.get(key)
    if found is None:
        compiled = make(*key[1:]).compile(dialect=connection.dialect)
        order = tuple(compiled.positiontup) if compiled.positiontup is not None else None
        found = cache[key] = (str(compiled), order)
    sql, order = found
    params: Any = values if order is None else tuple(values[name] for name in order)
    return list(connection.exec_driver_sql(sql, params).all())


def _page_units(session: Session, scope: Scope, limit: int, offset: int) -> list[str]:
    """The codes of the page's units, and one more when there is a next page."""
    query = _page_query(scope.district is not None, scope.domain is not None)
    values = {
        "as_of": scope.as_of,
        "district": scope.district,
        "domain": scope.domain,
        "limit": limit + 1,
        "offset": offset,
    }
    return list(session.connection().execute(query, values).scalars())


def _versions(
    session: Session, scope: Scope, units: list[str] | None = None, *, named: bool = True
) -> list[Latest]:
    """Per catalogue in scope, the latest version published on or before as_of, with what
    its answer depends on: the catalogue's revision (items deleted) and record stamp.

    Compiled once per shape and run on the driver (the completeness audit runs it for every
    unit in scope on each request: SQLAlchemy's per-row processing was most of its cost).
    `units`: only these units' catalogues (a page of the report); `named` False: in no
    order, without the units' names (`_versions_query`)."""
    connection = session.connection()
    sqlite = connection.dialect.name == "sqlite"
    units = units or []
    key = (
        connection.dialect.name,
        scope.district is not None,
        scope.domain is not None,
        len(units),
        named,
    )
    values: dict[str, Any] = {
        "as_of": scope.as_of.isoformat() if sqlite else scope.as_of,
        "district": scope.district,
        "domain": scope.domain,
        **{f"unit_{n}": code for n, code in enumerate(units)},
    }
    latest: dict[int, Any] = {}
    for row in _run(session, _STATEMENTS, key, _versions_query, values):
        if (seen := latest.get(row[1])) is None or seen[2] < row[2]:
            latest[row[1]] = row  # the highest number published by as_of
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
            row[9] == PUBLISHED and row[10] == row[2],
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
"""Rows with their lists kept (a report's pages, the completeness audit's page)."""

Figures = tuple[int, int, int, int, int, int, int]
"""A row's figures: items, records, on time, late, blank, stale, blank or stale."""

# The figures alone, for every catalogue a whole-scope read meets (the completeness audit
# scores every unit of a nation: 260,000 catalogues, more than MAX_ROWS rows with their
# lists): per (as_of, calendar), catalogue id → (version id, revision, stamp, figures).
_figures: OrderedDict[tuple[Any, ...], dict[int, tuple[int, int, int | None, Figures]]] = (
    OrderedDict()
)
MAX_FIGURE_DAYS = 2
"""(as_of, calendar) pairs whose figures are kept: an audit mostly asks for today (a nation's
figures took 32 MiB of memory per pair)."""
COMPUTE_CHUNK = 5_000
"""Catalogues computed per pass when many are (a cold national audit): bounds the version
snapshots held at once."""


def clear_caches() -> None:
    _rows.clear()
    _figures.clear()
    _sums.clear()


def _key(version: Any, as_of: date, calendar_tag: tuple[Any, ...]) -> tuple[Any, ...]:
    return (version.catalogue_id, version.id, version.revision, version.seq, as_of, calendar_tag)


def _figures_in(row: Row) -> Figures:
    line, failing = row
    return (
        line["items"],
        line["records"],
        line["on_time"],
        line["late"],
        line["blank"],
        line["stale"],
        failing,
    )


def _figure_book(
    as_of: date, tag: tuple[Any, ...]
) -> dict[int, tuple[int, int, int | None, Figures]]:
    book = _figures.get((as_of, tag))
    if book is None:
        book = _figures[(as_of, tag)] = {}
        while len(_figures) > MAX_FIGURE_DAYS:
            _figures.popitem(last=False)
    return book


def _rows_of(
    session: Session,
    versions: list[Any],
    as_of: date,
    calendar: WorkCalendar | None,
    tag: tuple[Any, ...] | None = None,
) -> dict[int, Row]:
    """The row of each version's catalogue: from memory, or computed for the catalogues
    whose key changed (grouped queries over their records, 500 catalogues at a time)."""
    tag = tag if tag is not None else _calendar_tag(session)
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
        book = _figure_book(as_of, tag)
        for version in missing:
            row = made[version.catalogue_id]
            _rows[_key(version, as_of, tag)] = row
            book[version.catalogue_id] = (
                version.id,
                version.revision,
                version.seq,
                _figures_in(row),
            )
        while len(_rows) > MAX_ROWS:
            _rows.popitem(last=False)
        found.update(made)
    return found


def _figures_of(
    session: Session, versions: list[Any], as_of: date, tag: tuple[Any, ...]
) -> dict[int, Figures]:
    """The figures of each version's catalogue: from memory, or computed (without the lists)
    for the catalogues whose version, revision or record stamp changed."""
    book = _figure_book(as_of, tag)
    found: dict[int, Figures] = {}
    missing = []
    for version in versions:
        hit = book.get(version.catalogue_id)
        if hit is not None and hit[:3] == (version.id, version.revision, version.seq):
            found[version.catalogue_id] = hit[3]
        else:
            missing.append(version)
    if missing:
        calendar = work_calendar(session)
        if session.connection().dialect.name == "postgresql":
            summed = _summed(session, [v for v in missing if v.current], as_of, calendar)
            for version in missing:
                figures = summed.get(version.catalogue_id)
                if figures is not None:
                    book[version.catalogue_id] = (
                        version.id,
                        version.revision,
                        version.seq,
                        figures,
                    )
                    found[version.catalogue_id] = figures
            missing = [v for v in missing if v.catalogue_id not in summed]
        for start in range(0, len(missing), COMPUTE_CHUNK):
            part = missing[start : start + COMPUTE_CHUNK]
            made = _compute(session, part, as_of, calendar, lists=False)
            for version in part:
                figures = _figures_in(made[version.catalogue_id])
                book[version.catalogue_id] = (version.id, version.revision, version.seq, figures)
                found[version.catalogue_id] = figures
    return found


SUM_CHUNK = 500_000
"""Catalogues per statement of `_summed` (a nation's in one: each statement reads the stored
counts whole)."""
_LIMIT_TEXTS = (
    "SELECT DISTINCT time_limit FROM items WHERE catalogue_id = ANY(%s) AND time_limit IS NOT NULL"
)
_SUMMED = """SELECT i.catalogue_id, count(*), coalesce(sum(rc.records), 0),
  coalesce(sum(rc.on_time), 0), coalesce(sum(rc.late), 0),
  count(*) FILTER (WHERE {blank}), count(*) FILTER (WHERE {stale}),
  count(*) FILTER (WHERE ({blank}) OR ({stale})), max(rc.last_published_on)
FROM items i
JOIN unnest(%s::int[]) AS w(id) ON w.id = i.catalogue_id
JOIN catalogues c ON c.id = i.catalogue_id
LEFT JOIN record_counts rc ON rc.catalogue_id = i.catalogue_id AND rc.item_id = i.id
LEFT JOIN unnest(%s::text[], %s::date[], %s::date[]) AS p(time_limit, starts, ends)
  ON p.time_limit = i.time_limit
GROUP BY i.catalogue_id""".format(
    blank="rc.item_id IS NULL AND i.method = '主动'",
    stale="p.starts IS NOT NULL AND (c.first_version_on IS NULL OR p.ends >= c.first_version_on)"
    " AND (rc.item_id IS NULL OR rc.last_formed_on < p.starts)",
)
"""`_compute`'s figures as one aggregate over a current catalogue's items (the version's, see
Latest.current) and their stored counts; each limit text's last period computed in Python
(`last_period`) and joined as arrays. The same definition: tests compare the two."""


def _summed(
    session: Session, versions: list[Any], as_of: date, calendar: WorkCalendar
) -> dict[int, Figures]:
    """Figures of current catalogues aggregated in SQL (PostgreSQL), 500,000 catalogues a
    statement: a national audit's first request reads 3 M items' counts in seconds
    instead of parsing 260,000 versions' items in Python. A catalogue with a record
    published after as_of is left out (its stored counts count too much): `_compute`."""
    found: dict[int, Figures] = {}
    if not versions:
        return found
    behind: set[int] = set()
    cursor = session.connection().connection.cursor()
    try:
        cursor.execute("SET LOCAL jit = off")  # compiling this aggregate cost more than it ran
        ids = sorted(version.catalogue_id for version in versions)
        for start in range(0, len(ids), SUM_CHUNK):
            chunk = ids[start : start + SUM_CHUNK]
            cursor.execute(_LIMIT_TEXTS, (chunk,))
            periods = []
            for (text,) in cursor.fetchall():
                try:
                    period = last_period(records.rule_of(text), as_of, calendar)
                except UnknownCalendarYear:
                    period = None
                if period is not None:
                    periods.append((text, period.start, period.end))
            cursor.execute(
                _SUMMED,
                (
                    chunk,
                    [p[0] for p in periods],
                    [p[1] for p in periods],
                    [p[2] for p in periods],
                ),
            )
            for row in cursor.fetchall():
                if row[8] is not None and row[8] > as_of:
                    behind.add(row[0])
                    continue
                found[row[0]] = (row[1], row[2], row[3], row[4], row[5], row[6], row[7])
    finally:
        cursor.close()
    # A current catalogue with no item has no group: nothing to count.
    for version in versions:
        if version.catalogue_id not in behind:
            found.setdefault(version.catalogue_id, (0, 0, 0, 0, 0, 0, 0))
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


_FINGERPRINT = """SELECT count(*), coalesce(sum(hashtext(v.id || ':' || c.revision || ':' ||
  coalesce(s.seq, 0))::bigint), 0)
FROM catalogue_versions v
JOIN catalogues c ON c.id = v.catalogue_id
JOIN units u ON u.code = c.unit_code
LEFT JOIN record_stamps s ON s.catalogue_id = c.id
WHERE v.published_on <= %(as_of)s
  AND (CAST(%(district)s AS VARCHAR) IS NULL OR u.code = %(district)s
    OR u.parent_code = %(district)s)
  AND (CAST(%(domain)s AS VARCHAR) IS NULL OR c.domain_code = %(domain)s)"""
"""What every unit's figures in scope are a function of, in one number (PostgreSQL): each
version published by as_of with its catalogue's revision and record stamp, hashed and
summed in the database (0.5 s for a nation, against 3-4 s to bring its 260,000 versions to
Python and look each up)."""

_sums: OrderedDict[tuple[Any, ...], tuple[tuple[Any, ...], dict[str, UnitFigures]]] = OrderedDict()
"""Per scope, as_of and calendar: the fingerprint and every unit's summed figures."""
MAX_SUMS = 8
"""Scopes whose sums are kept (a nation's: about 6 MB)."""


def _fingerprint(session: Session, scope: Scope) -> tuple[Any, ...]:
    cursor = session.connection().connection.cursor()
    try:
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(
            _FINGERPRINT,
            {"as_of": scope.as_of, "district": scope.district, "domain": scope.domain},
        )
        return tuple(cursor.fetchone() or ())
    finally:
        cursor.close()


def unit_figures(
    session: Session, scope: Scope, page: Collection[str] | None = None
) -> tuple[dict[str, UnitFigures], dict[tuple[str, str], dict[str, Any]]]:
    """Every unit in scope with a version published by as_of: its figures (the sums of the
    rows `report` shows, so the two always agree), and the rows by (unit, domain) of the
    units in `page` (all when None). One query for the versions (and one for the page's,
    with the units' names, whether or not they published), one for the calendar's stamp;
    rows and figures from memory unless their catalogue changed (see `_rows`, `_figures`):
    the other units' figures are computed without their lists. On PostgreSQL with a page,
    the sums themselves are kept by a fingerprint of the versions in scope (`_FINGERPRINT`):
    while it holds, the versions of every unit are not read at all."""
    tag = _calendar_tag(session)
    kept = page is not None and session.connection().dialect.name == "postgresql"
    key = (scope.district, scope.domain, scope.as_of, tag)
    mark: tuple[Any, ...] = ()
    if kept:
        mark = _fingerprint(session, scope)
        hit = _sums.get(key)
        if hit is not None and hit[0] == mark:
            shown = _versions(session, scope, sorted(page or ())) if page else []
            found = _rows_of(session, shown, scope.as_of, None, tag)
            rows = {(v.unit_code, v.domain_code): found[v.catalogue_id][0] for v in shown}
            return hit[1], rows
    versions = _versions(session, scope, named=page is None)
    shown = versions if page is None else _versions(session, scope, sorted(page)) if page else []
    rows_found = _rows_of(session, shown, scope.as_of, None, tag)
    figures = {cid: _figures_in(row) for cid, row in rows_found.items()}
    rest = [v for v in versions if v.catalogue_id not in figures]
    if rest:
        figures.update(_figures_of(session, rest, scope.as_of, tag))
    sums: dict[str, list[int]] = {}
    for version in versions:
        one = figures[version.catalogue_id]
        total = sums.get(version.unit_code)
        if total is None:
            sums[version.unit_code] = list(one)
        else:
            for i in range(7):
                total[i] += one[i]
    rows = {
        (version.unit_code, version.domain_code): rows_found[version.catalogue_id][0]
        for version in shown
    }
    result = {code: UnitFigures(*total) for code, total in sums.items()}
    if kept:
        # taken before the versions were read: a write in between only makes the next
        # request compute again
        _sums[key] = (mark, result)
        while len(_sums) > MAX_SUMS:
            _sums.popitem(last=False)
    return result, rows


def report(
    session: Session, scope: Scope, *, limit: int, offset: int, calendar: WorkCalendar | None = None
) -> dict[str, Any]:
    # The page's units first (one indexed query), then only their versions: a national
    # report reads a page's catalogues, not the 260,000 of every unit in scope.
    codes = _page_units(session, scope, limit, offset)
    next_offset = paging.after_offset(offset, limit, offset + len(codes))
    page_codes = codes[:limit]
    versions = _versions(session, scope, page_codes) if page_codes else []
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
    session: Session,
    versions: list[Any],
    as_of: date,
    calendar: WorkCalendar,
    *,
    lists: bool = True,
) -> dict[int, Row]:
    """The rows of these versions' catalogues; `lists` False: the figures only (the lists
    of blank, stale and late are left empty and the late records not read)."""
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
        for row in records.driver_rows(session, _LATE, (bound,), chunk) if lists else ():
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
                if lists:
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
                if lists:
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
