"""公开记录 / disclosure records: bulk upsert, due dates on the official calendar, lists, delete.

A record's `due_on`, `state`, `late_days` and `note` are stored when it is written (the
audit and the public column then read plain columns) and computed by `judge`, the only
definition; `recompute` applies it again (after a calendar year is loaded, for instance).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from operator import itemgetter
from typing import Any, NamedTuple

import orjson
import sqlalchemy as sa
from sqlmodel import Session, col, select

from app.errors import invalid_all
from app.models.catalogue import Catalogue, CatalogueVersion
from app.models.common import today_in_beijing, utcnow
from app.models.item import Item
from app.models.record import (
    MAX_RECORDS,
    Record,
    RecordIn,
    RecordPublic,
    RecordStamp,
    RecordState,
)
from app.models.unit import Unit
from app.principal import Principal
from app.rules.timelimits import (
    TimeLimitRule,
    UnknownCalendarYear,
    WorkCalendar,
    evaluate,
    parse,
)
from app.services import bulk, history, paging, record_column
from app.services.calendar import work_calendar

# A constant key for PostgreSQL's transaction-level advisory lock: "gkmlrecs" in ASCII.
RECORD_LOCK = int.from_bytes(b"gkmlrecs", "big") & 0x7FFF_FFFF_FFFF_FFFF

NO_LIMIT_KINDS = {"permanent", "timely"}
_NOTES = {
    "permanent": "长期公开，无截止日 / permanent: kept public, no due date",
    "timely": "及时公开，无固定天数 / timely: no fixed number of days, so no due date",
    "statutory": "法定时限，期限由法律法规规定，需人工判断 / statutory: the limit is set by law "
    "and needs a human reading",
    "unparsed": "无法识别的公开时限 / unparsed time limit",
    "no_text": "事项没有公开时限 / the item has no time limit",
}


# ---- the rule: due date and state ------------------------------------------------------


@lru_cache(maxsize=4096)
def rule_of(text: str | None) -> TimeLimitRule:
    """Parsed once per distinct text; callers never mutate the rule."""
    return parse(text)


@dataclass(frozen=True)
class Judgement:
    due_on: date | None
    state: RecordState
    late_days: int | None
    note: str | None


def late_working_days(calendar: WorkCalendar, due_on: date, published_on: date) -> int:
    """Working days after `due_on` up to `published_on`; a rest day just after counts 1."""
    days = 0
    day = due_on
    while day < published_on:
        day += timedelta(days=1)
        if calendar.is_workday(day):
            days += 1
    return max(days, 1)


def judge(
    time_limit: str | None, formed_on: date, published_on: date, calendar: WorkCalendar
) -> Judgement:
    """The record's due date from the item's time limit evaluated from `formed_on`."""
    return Judge(calendar)(time_limit, formed_on, published_on)


def _late_note(year: int) -> str:
    return (
        f"{year} 年的节假日安排未知，无法计算逾期工作日 / the official holiday "
        f"arrangement for {year} is not known, so the working days late are not"
    )


class Judge:
    """`judge` for many records on one calendar (a push, a recompute): the due date is
    evaluated once per (limit, formed_on) and the working days late counted once per
    (due_on, published_on), the two steps that walk the calendar."""

    def __init__(self, calendar: WorkCalendar) -> None:
        self.calendar = calendar
        self._due: dict[tuple[str | None, date], date | Judgement] = {}
        self._late: dict[tuple[date, date], Judgement] = {}

    def __call__(self, time_limit: str | None, formed_on: date, published_on: date) -> Judgement:
        key = (time_limit, formed_on)
        if (due_on := self._due.get(key)) is None:
            due_on = self._due[key] = self._due_on(time_limit, formed_on)
        if isinstance(due_on, Judgement):  # no due date: published_on does not matter
            return due_on
        if published_on <= due_on:
            return Judgement(due_on, RecordState.on_time, None, None)
        if (late := self._late.get((due_on, published_on))) is None:
            try:
                days = late_working_days(self.calendar, due_on, published_on)
            except UnknownCalendarYear as unknown:
                late = Judgement(due_on, RecordState.unknown, None, _late_note(unknown.year))
            else:
                late = Judgement(due_on, RecordState.late, days, None)
            self._late[(due_on, published_on)] = late
        return late

    def _due_on(self, time_limit: str | None, formed_on: date) -> date | Judgement:
        """The due date, or the judgement of a record that has none."""
        if time_limit is None or not time_limit.strip():
            return Judgement(None, RecordState.unknown, None, _NOTES["no_text"])
        rule = rule_of(time_limit)
        if rule.kind in NO_LIMIT_KINDS:
            return Judgement(None, RecordState.no_limit, None, _NOTES[rule.kind])
        if rule.kind in ("statutory", "unparsed"):
            return Judgement(None, RecordState.unknown, None, _NOTES[rule.kind])
        evaluation = evaluate(rule, formed_on, self.calendar)
        if evaluation.due_on is None:
            return Judgement(None, RecordState.unknown, None, evaluation.note)
        return evaluation.due_on


# ---- which time limit was in force ----------------------------------------------------


class VersionItem(NamedTuple):
    """What the records features need of a published item (versions never change)."""

    id: int
    first_level: str
    name: str
    method: str | None
    time_limit: str | None


_version_items: dict[int, tuple[VersionItem, ...]] = {}
_version_limits: dict[int, dict[int, str | None]] = {}


def clear_caches() -> None:
    """Forget remembered versions (tests roll back, and SQLite may then reuse an id)."""
    _version_items.clear()
    _version_limits.clear()


def version_items(
    session: Session, version_ids: Iterable[int]
) -> dict[int, tuple[VersionItem, ...]]:
    """The items of published versions, read once per process: a version is immutable."""
    wanted = set(version_ids)
    missing = [vid for vid in wanted if vid not in _version_items]
    if missing:
        if len(_version_items) > 50_000:
            _version_items.clear()
            _version_limits.clear()
        for start in range(0, len(missing), 500):
            # The JSON as text, parsed by orjson: the driver's json.loads was most of the cost.
            rows = session.exec(
                select(
                    col(CatalogueVersion.id), sa.cast(col(CatalogueVersion.items), sa.Text)
                ).where(col(CatalogueVersion.id).in_(missing[start : start + 500]))
            ).all()
            for vid, text in rows:
                items = orjson.loads(text)
                _version_items[int(vid or 0)] = tuple(
                    VersionItem(
                        int(item["id"]),
                        item["first_level"],
                        item["name"],
                        item.get("method"),
                        item.get("time_limit"),
                    )
                    for item in items
                    if item.get("id") is not None
                )
    return {vid: _version_items[vid] for vid in wanted if vid in _version_items}


@dataclass
class LimitBook:
    """Per catalogue: its published versions' time limits, oldest version first."""

    versions: list[tuple[date, dict[int, str | None]]]

    def text(self, item_id: int, formed_on: date, working: str | None) -> str | None:
        """The limit of the version in force on `formed_on`: the latest published on or
        before that day that holds the item; before any, the first that holds it; an item
        never published uses its working copy."""
        if len(self.versions) == 1:  # the usual case: one version, nothing to choose
            limits = self.versions[0][1]
            return limits.get(item_id, working)
        chosen: dict[int, str | None] | None = None
        for published_on, limits in self.versions:
            if item_id not in limits:
                continue
            if chosen is None or published_on <= formed_on:
                chosen = limits
            if published_on > formed_on:
                break
        return chosen[item_id] if chosen is not None else working


_VERSIONS_SQL = (
    "SELECT id, catalogue_id, published_on FROM catalogue_versions "
    "WHERE catalogue_id IN ({marks}) ORDER BY catalogue_id, number"
)


def limit_books(session: Session, catalogue_ids: Iterable[int]) -> dict[int, LimitBook]:
    ids = sorted(set(catalogue_ids))
    rows = driver_rows(session, _VERSIONS_SQL, (), ids)
    items = version_items(session, (int(vid or 0) for vid, _, _ in rows))
    books = {cid: LimitBook([]) for cid in ids}
    for vid, cid, published in rows:
        # the driver's value: a date on PostgreSQL, ISO text on SQLite
        published_on = date.fromisoformat(published) if isinstance(published, str) else published
        # a version's limits by item, made once per process (versions never change)
        if (limits := _version_limits.get(int(vid or 0))) is None:
            limits = {item.id: item.time_limit for item in items.get(int(vid or 0), ())}
            if int(vid or 0) in items:
                _version_limits[int(vid or 0)] = limits
        books[cid].versions.append((published_on, limits))
    return books


# ---- writing ----------------------------------------------------------------------------


def next_seq(session: Session, count: int = 1) -> int:
    """The first of `count` new change numbers: gap-free and in commit order.

    As for publishes (publication.next_feed_seq): one lock, held to commit, before reading
    the highest number, so a reader that has seen N never misses a later commit below N.
    """
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SELECT pg_advisory_xact_lock(%s)", (RECORD_LOCK,))
    last = connection.exec_driver_sql("SELECT max(seq) FROM records").scalar()
    return int(last or 0) + 1


_STAMP = " ON CONFLICT (catalogue_id) DO UPDATE SET seq = excluded.seq"


def stamp(session: Session, seqs: dict[int, int]) -> None:
    """Keep each catalogue's latest record change number (catalogue id → seq), and make this
    process's public column forget what it remembered of those catalogues."""
    if not seqs:
        return
    bulk.insert(
        session,
        RecordStamp.__table__,  # type: ignore[attr-defined]
        len(seqs),
        {"catalogue_id": list(seqs), "seq": list(seqs.values())},
        suffix=_STAMP,
    )
    record_column.announce(session, seqs.keys())


def _mark(session: Session) -> str:
    """A positional parameter mark in the driver's style."""
    return "?" if session.get_bind().dialect.paramstyle == "qmark" else "%s"


def driver_rows(
    session: Session, sql: str, head: Sequence[Any], values: Sequence[Any]
) -> list[Any]:
    """`sql` with `{mark}` for each of `head` and `{marks}` for an IN list, run on the driver
    in chunks of 1,000 values, one query for a push (a thousand-value IN compiled by
    SQLAlchemy on each call costs more than the query)."""
    found: list[Any] = []
    for start in range(0, len(values), MAX_RECORDS):
        chunk = list(values[start : start + MAX_RECORDS])
        mark = _mark(session)
        statement = sql.format(mark=mark, marks=", ".join(mark for _ in chunk))
        # The DBAPI cursor itself: plain tuples, no result rows built around them.
        cursor = session.connection().connection.cursor()
        try:
            cursor.execute(statement, (*head, *chunk))
            found += cursor.fetchall()
        finally:
            cursor.close()
    return found


class ItemFacts(NamedTuple):
    """What a push needs of an item: a tuple, made straight from the driver's row."""

    id: int
    catalogue_id: int
    unit_code: str
    domain_code: str
    time_limit: str | None


_ITEMS_SQL = (
    "SELECT items.id, items.catalogue_id, catalogues.unit_code, catalogues.domain_code, "
    "items.time_limit FROM items JOIN catalogues ON catalogues.id = items.catalogue_id "
    "WHERE items.id IN ({marks})"
)


def items_by_id(session: Session, ids: Sequence[int]) -> dict[int, ItemFacts]:
    rows = driver_rows(session, _ITEMS_SQL, (), sorted(set(ids)))
    make = ItemFacts._make
    return {row[0]: make(row) for row in rows}


def _error(index: int, field: str, msg: str, kind: str) -> dict[str, Any]:
    return {"loc": ("body", "records", index, field), "msg": msg, "type": kind}


def _future(index: int, field: str, today: date) -> dict[str, Any]:
    return _error(
        index,
        field,
        f"日期不能晚于今天（{today}）/ {field} is in the future (today is {today})",
        "future_date",
    )


def check(
    unit: Unit, rows: Sequence[RecordIn], items: dict[int, ItemFacts], *, today: date
) -> list[dict[str, Any]]:
    """Every rule that needs more than one field or the database; [] when all pass."""
    code = unit.code
    # One quick pass for the usual push, where every record passes; the rules one by one
    # (the errors in their order) only when one does not.
    if len({row.url for row in rows}) == len(rows) and all(
        row.formed_on <= row.published_on <= today
        and (item := items.get(row.item_id)) is not None
        and item.unit_code == code
        for row in rows
    ):
        return []
    errors: list[dict[str, Any]] = []
    first_index: dict[str, int] = {}
    for index, row in enumerate(rows):
        formed_on, published_on = row.formed_on, row.published_on
        if (seen := first_index.setdefault(row.url, index)) != index:
            errors.append(
                _error(
                    index,
                    "url",
                    f"网址与第 {seen} 条重复 / url repeats record {seen} of this call",
                    "duplicate_url",
                )
            )
        if published_on < formed_on:
            errors.append(
                _error(
                    index,
                    "published_on",
                    "发布日期早于形成日期 / published_on is before formed_on",
                    "published_before_formed",
                )
            )
        if formed_on > today:
            errors.append(_future(index, "formed_on", today))
        if published_on > today:
            errors.append(_future(index, "published_on", today))
        item = items.get(row.item_id)
        if item is None:
            errors.append(
                _error(
                    index,
                    "item_id",
                    f"事项 {row.item_id} 不存在 / item {row.item_id} does not exist",
                    "unknown_item",
                )
            )
        elif item.unit_code != code:
            errors.append(
                _error(
                    index,
                    "item_id",
                    f"事项 {row.item_id} 不属于单位 {code} / item {row.item_id} belongs "
                    f"to another unit",
                    "item_of_another_unit",
                )
            )
    return errors


_COLUMNS = tuple(name for name in RecordPublic.model_fields if name != "item_gone")


_EXISTING_SQL = (
    f"SELECT {', '.join(_COLUMNS)}, catalogue_id, deleted_at FROM records "
    "WHERE unit_code = {mark} AND url IN ({marks})"
)
_NEW_IDS_SQL = "SELECT seq, id FROM records WHERE seq BETWEEN {mark} AND {mark}"


def _public(row: dict[str, Any], *, item_gone: bool = False) -> dict[str, Any]:
    data = {name: row[name] for name in _COLUMNS}
    data["state"] = str(data["state"])
    data["item_gone"] = item_gone
    return data


@dataclass
class Written:
    created: int
    updated: int
    records: list[dict[str, Any]]
    encoded: orjson.Fragment | None = None
    """`records` as JSON when the history entry already encoded them (the same bytes)."""


# What a push writes of a record besides its public fields (which are its other columns).
_NEW_RECORD_COLUMNS: tuple[str, ...] = ("domain_code", "item_id", "title", "url", "formed_on")
_NEW_RECORD_COLUMNS += ("published_on", "due_on", "state", "late_days", "note")
_NEW_RECORD_VALUES = itemgetter(*_NEW_RECORD_COLUMNS)


def upsert(
    session: Session,
    unit: Unit,
    rows: Sequence[RecordIn],
    *,
    actor: Principal,
    today: date | None = None,
    calendar: WorkCalendar | None = None,
) -> Written:
    """Create or update records by (unit, url), all or nothing (422 naming index and field).

    One history entry per call lists every record created and every one updated (before
    and after), so a bulk push is one change in the unit's history. Each record is built
    once, as the answer shows it: the same dicts make the rows, the counts, the history
    entry and the answer.
    """
    items = items_by_id(session, [row.item_id for row in rows])
    errors = check(unit, rows, items, today=today or today_in_beijing())
    if errors:
        raise invalid_all(errors)
    judging = Judge(calendar or work_calendar(session))
    books = limit_books(session, {items[row.item_id].catalogue_id for row in rows})
    # Taken before reading which URLs exist: record writers are serialised from here, so two
    # pushes of the same new URL cannot both insert it.
    seq = next_seq(session, len(rows))
    existing = {
        row[5]: row
        for row in driver_rows(session, _EXISTING_SQL, (unit.code,), [r.url for r in rows])
    }
    now = utcnow()
    # A judgement depends on the limit in force and the two dates: a push repeats them.
    judged: dict[tuple[str | None, date, date], tuple[Any, ...]] = {}
    # a catalogue with one version (the usual case) has one limit per item, whatever the date
    single = {cid: book.versions[0][1] for cid, book in books.items() if len(book.versions) == 1}
    answer: list[dict[str, Any]] = []  # every record, in the call's order
    created: list[dict[str, Any]] = []
    created_items: list[ItemFacts] = []
    created_seqs: list[int] = []
    updated: list[dict[str, Any]] = []
    updated_items: list[ItemFacts] = []
    updates: list[dict[str, Any]] = []
    before: dict[str, dict[str, Any]] = {}
    last: dict[int, int] = {}  # catalogue → its last change number in this call
    revived = 0
    code = unit.code
    for offset, row in enumerate(rows):
        item = items[row.item_id]
        item_id, catalogue_id, _, domain_code, working = item
        formed_on = row.formed_on
        published_on = row.published_on
        if (limits := single.get(catalogue_id)) is not None:
            limit = limits.get(item_id, working)
        else:
            limit = books[catalogue_id].text(item_id, formed_on, working)
        key = (limit, formed_on, published_on)
        if (found := judged.get(key)) is None:
            verdict = judging(limit, formed_on, published_on)
            found = judged[key] = (
                verdict.due_on,
                str(verdict.state),
                verdict.late_days,
                verdict.note,
            )
        url = row.url
        record = {
            "id": None,
            "unit_code": code,
            "domain_code": domain_code,
            "item_id": item_id,
            "title": row.title,
            "url": url,
            "formed_on": formed_on,
            "published_on": published_on,
            "due_on": found[0],
            "state": found[1],
            "late_days": found[2],
            "note": found[3],
            "item_gone": False,
        }
        answer.append(record)
        last[catalogue_id] = seq + offset
        if (old := existing.get(url)) is None:
            created.append(record)
            created_items.append(item)
            created_seqs.append(seq + offset)
            continue
        record["id"] = old[0]
        if old[-1] is not None:  # deleted_at
            revived += 1
        else:
            before[url] = _public(dict(zip(_COLUMNS, old, strict=False)))
        updated.append(record)
        updated_items.append(item)
        values = {name: record[name] for name in _NEW_RECORD_COLUMNS}
        values |= {"unit_code": code, "catalogue_id": catalogue_id}
        values |= {"seq": seq + offset, "deleted_at": None, "updated_at": now, "b_id": old[0]}
        updates.append(values)
    table = Record.__table__  # type: ignore[attr-defined]
    if updates:
        session.connection().execute(
            sa.update(table).where(table.c.id == sa.bindparam("b_id")), updates
        )
    if created:
        _insert(session, created, created_items, created_seqs, now)
    if updates:
        # An update may move a record to another item, or revive one: count those items again.
        recount(
            session,
            {(item.catalogue_id, item.id) for item in (*created_items, *updated_items)}
            | {(old[-2], old[3]) for old in existing.values()},
        )
    else:
        add_counts(session, seq, seq + len(rows) - 1)
    stamp(session, last)
    # The usual push (new records of one catalogue): the history entry lists the records in
    # the call's order, as the answer does, so they are encoded once for both.
    encoded = orjson.Fragment(orjson.dumps(answer)) if len(last) == 1 and not updates else None
    _log(
        session,
        actor,
        [*created_items, *updated_items],
        [*created, *updated],
        created=len(created),
        before=before,
        catalogues=last,
        encoded=encoded,
    )
    session.flush()
    return Written(len(created) + revived, len(updated) - revived, answer, encoded)


def _insert(
    session: Session,
    records: list[dict[str, Any]],
    items: list[ItemFacts],
    seqs: list[int],
    now: datetime,
) -> None:
    """INSERT the new records in one executemany and give each its id."""
    table = Record.__table__  # type: ignore[attr-defined]
    connection = session.connection()
    # column by column, each a tuple: the records' values by one C-level getter per record
    columns: dict[str, Sequence[Any]] = dict(
        zip(_NEW_RECORD_COLUMNS, zip(*map(_NEW_RECORD_VALUES, records), strict=True), strict=True)
    )
    columns["catalogue_id"] = [item.catalogue_id for item in items]
    columns["seq"] = seqs
    ids: list[int] | None = None
    if connection.dialect.name == "sqlite":
        # The write lock is held (BEGIN IMMEDIATE): SQLite would give each new row the
        # highest rowid + 1, which is what it is given here, so nothing is read back.
        top = int(connection.exec_driver_sql("SELECT max(id) FROM records").scalar() or 0)
        ids = list(range(top + 1, top + 1 + len(records)))
        columns["id"] = ids
    constants = {"unit_code": records[0]["unit_code"], "deleted_at": None}
    constants |= {"created_at": now, "updated_at": now}
    bulk.insert(session, table, len(records), columns, constants=constants)
    if ids is None:
        # The new ids by change number, which this call owns.
        cursor = connection.connection.cursor()
        try:
            cursor.execute(_NEW_IDS_SQL.format(mark=_mark(session)), (seqs[0], seqs[-1]))
            by_seq = dict(cursor.fetchall())
        finally:
            cursor.close()
        ids = [by_seq[value] for value in seqs]
    for record, new_id in zip(records, ids, strict=True):
        record["id"] = new_id


def _log(
    session: Session,
    actor: Principal,
    items: list[ItemFacts],
    written: list[dict[str, Any]],
    *,
    created: int,
    before: dict[str, dict[str, Any]],
    catalogues: Collection[int],
    encoded: orjson.Fragment | None = None,
) -> None:
    """One history entry per catalogue a call touched, listing every record it created
    (after only) and updated (before and after), so the catalogue's history shows it.
    `written` holds the created records first, `items` the item of each, `catalogues` the
    catalogues they belong to; `encoded`, when given, is `written` as JSON."""
    groups: dict[int, Sequence[int]] = {}
    if len(catalogues) == 1:  # the usual push
        groups[next(iter(catalogues))] = range(len(written))
    else:
        lists: dict[int, list[int]] = {}
        for index, item in enumerate(items):
            lists.setdefault(item.catalogue_id, []).append(index)
        groups.update(lists)
    for catalogue_id in sorted(groups):
        indexes = groups[catalogue_id]
        mine = written if len(groups) == 1 else [written[index] for index in indexes]
        made = bisect_left(indexes, created)
        olds = [before[r["url"]] for r in mine if r["url"] in before] if before else []
        item = items[indexes[0]]
        history.write(
            session,
            actor,
            action="upsert",
            entity="records",
            entity_id=f"{made}+{len(mine) - made}",
            catalogue_id=catalogue_id,
            unit_code=item.unit_code,
            domain_code=item.domain_code,
            before=olds or None,
            after=encoded if encoded is not None and len(groups) == 1 else mine,
            note=f"{made} 条新增，{len(mine) - made} 条更新 / {made} created, "
            f"{len(mine) - made} updated",
        )


_DATES = ("formed_on", "published_on", "due_on")


def _jsonable(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Public records as the history's JSON stores them: dates as ISO text (each distinct
    date converted once; a batch repeats them)."""
    iso: dict[Any, Any] = {None: None}
    out = []
    for record in records:
        copy = dict(record)
        for name in _DATES:
            value = copy[name]
            if (text := iso.get(value)) is None and value is not None:
                text = iso[value] = value.isoformat() if isinstance(value, date) else value
            copy[name] = text
        out.append(copy)
    return out


def delete(session: Session, record: Record, *, actor: Principal) -> None:
    """A tombstone: the row stays (with a new change number) so the feed can say it went."""
    before = _public(record.model_dump())
    record.deleted_at = utcnow()
    record.updated_at = record.deleted_at
    record.seq = next_seq(session)
    session.add(record)
    stamp(session, {record.catalogue_id: record.seq})
    history.record(
        session,
        actor,
        action="delete",
        entity="record",
        entity_id=record.id,
        catalogue=session.get(Catalogue, record.catalogue_id),
        before=_jsonable([before])[0],
    )
    session.flush()
    recount(session, {(record.catalogue_id, record.item_id)})


def etag(record: Record) -> str:
    return f'"r{record.id}.{record.seq}"'


def find(session: Session, record_id: int) -> tuple[Record, Unit] | None:
    row = session.exec(
        select(Record, Unit)
        .join(Unit, col(Unit.code) == col(Record.unit_code))
        .where(Record.id == record_id, col(Record.deleted_at).is_(None))
    ).first()
    return (row[0], row[1]) if row is not None else None


# ---- stored counts per item (record_counts) --------------------------------------------------

_COUNTS = (
    "catalogue_id, item_id, records, on_time, late, unknown, last_formed_on, last_published_on"
)
_COUNTED = (
    "SELECT catalogue_id, item_id, count(*), "
    "sum(CASE WHEN state = 'on_time' THEN 1 ELSE 0 END), "
    "sum(CASE WHEN state = 'late' THEN 1 ELSE 0 END), "
    "sum(CASE WHEN state = 'unknown' THEN 1 ELSE 0 END), "
    "max(formed_on), max(published_on) FROM records WHERE deleted_at IS NULL"
)
"""The definition of a record_counts row: a catalogue item's live records."""

_COUNT_TYPES = (
    sa.column("catalogue_id", sa.Integer),
    sa.column("item_id", sa.Integer),
    sa.column("records", sa.Integer),
    sa.column("on_time", sa.Integer),
    sa.column("late", sa.Integer),
    sa.column("unknown", sa.Integer),
    sa.column("last_formed_on", sa.Date),
    sa.column("last_published_on", sa.Date),
)


def recount(session: Session, pairs: Iterable[tuple[int, int]]) -> None:
    """Write the (catalogue, item) pairs' rows again from their records (none: no row)."""
    keys = [{"c": c, "i": i} for c, i in sorted(set(pairs))]
    if not keys:
        return
    connection = session.connection()
    pair = "catalogue_id = :c AND item_id = :i"
    connection.execute(sa.text(f"DELETE FROM record_counts WHERE {pair}"), keys)
    connection.execute(
        sa.text(
            f"INSERT INTO record_counts ({_COUNTS}) {_COUNTED} AND {pair} "
            "GROUP BY catalogue_id, item_id"
        ),
        keys,
    )


def recount_catalogues(connection: sa.Connection, catalogue_ids: Sequence[int]) -> None:
    """Write the rows of whole catalogues again (recompute, the benchmarks' generators)."""
    ids: Any = sa.bindparam("ids", list(catalogue_ids), expanding=True)
    connection.execute(
        sa.text("DELETE FROM record_counts WHERE catalogue_id IN :ids").bindparams(ids)
    )
    connection.execute(
        sa.text(
            f"INSERT INTO record_counts ({_COUNTS}) {_COUNTED} AND catalogue_id IN :ids "
            "GROUP BY catalogue_id, item_id"
        ).bindparams(ids)
    )


def defined_counts(
    connection: sa.Connection, catalogue_ids: Sequence[int]
) -> dict[tuple[int, int], tuple[Any, ...]]:
    """What record_counts should hold for these catalogues, by (catalogue, item)."""
    query = (
        sa.text(f"{_COUNTED} AND catalogue_id IN :ids GROUP BY catalogue_id, item_id")
        .bindparams(sa.bindparam("ids", list(catalogue_ids), expanding=True))
        .columns(*_COUNT_TYPES)
    )
    return {(row[0], row[1]): tuple(row[2:]) for row in connection.execute(query)}


def stored_counts(
    connection: sa.Connection, catalogue_ids: Sequence[int]
) -> dict[tuple[int, int], tuple[Any, ...]]:
    query = (
        sa.text(f"SELECT {_COUNTS} FROM record_counts WHERE catalogue_id IN :ids")
        .bindparams(sa.bindparam("ids", list(catalogue_ids), expanding=True))
        .columns(*_COUNT_TYPES)
    )
    return {(row[0], row[1]): tuple(row[2:]) for row in connection.execute(query)}


_ADD_COUNTS = (
    " ON CONFLICT (catalogue_id, item_id) DO UPDATE SET "
    "records = record_counts.records + excluded.records, "
    "on_time = record_counts.on_time + excluded.on_time, "
    "late = record_counts.late + excluded.late, "
    "unknown = record_counts.unknown + excluded.unknown, "
    "last_formed_on = CASE WHEN excluded.last_formed_on > record_counts.last_formed_on "
    "THEN excluded.last_formed_on ELSE record_counts.last_formed_on END, "
    "last_published_on = CASE WHEN excluded.last_published_on > record_counts.last_published_on "
    "THEN excluded.last_published_on ELSE record_counts.last_published_on END"
)


def add_counts(session: Session, first_seq: int, last_seq: int) -> None:
    """Add the records a push has just inserted (change numbers first..last, all of them
    new) to their items' rows: `_COUNTED` over those rows only, added in one statement
    (what `recount` would write, without reading the items' other records)."""
    mark = _mark(session)
    session.connection().exec_driver_sql(
        f"INSERT INTO record_counts ({_COUNTS}) {_COUNTED} AND seq BETWEEN {mark} AND {mark} "
        f"GROUP BY catalogue_id, item_id{_ADD_COUNTS}",
        (first_seq, last_seq),
    )


# ---- reading ------------------------------------------------------------------------------

_CURSOR_PREFIX = "rec:"


def cursor(record_id: int) -> str:
    return paging.opaque_cursor(f"{_CURSOR_PREFIX}{record_id}")


def parse_cursor(value: str | None) -> int:
    if not value:
        return 0
    return paging.opaque_numbers(value, _CURSOR_PREFIX, ",", parameter="cursor", most=1)[0]


def _record_columns() -> tuple[Any, ...]:
    return tuple(col(getattr(Record, name)) for name in _COLUMNS)


def listing(
    session: Session,
    unit: Unit,
    *,
    item_id: int | None,
    state: RecordState | None,
    published_from: date | None,
    published_to: date | None,
    limit: int,
    after: int,
) -> tuple[list[dict[str, Any]], int | None]:
    """A page of the unit's records by id, and the last id when there may be more."""
    query = (
        sa.select(*_record_columns(), col(Item.id).is_(None).label("item_gone"))
        .join(Item, col(Item.id) == col(Record.item_id), isouter=True)
        .where(
            col(Record.unit_code) == unit.code,
            col(Record.deleted_at).is_(None),
            col(Record.id) > after,
        )
    )
    if item_id is not None:
        query = query.where(col(Record.item_id) == item_id)
    if state is not None:
        query = query.where(col(Record.state) == state)
    if published_from is not None:
        query = query.where(col(Record.published_on) >= published_from)
    if published_to is not None:
        query = query.where(col(Record.published_on) <= published_to)
    rows = session.exec(query.order_by(col(Record.id)).limit(limit + 1)).all()  # type: ignore[call-overload]
    rows, more = paging.cut(rows, limit)
    page = [_public(dict(row._mapping), item_gone=bool(row.item_gone)) for row in rows]
    return page, (page[-1]["id"] if more else None)


def rejudged(session: Session, records: Sequence[Record]) -> list[tuple[Record, Judgement]]:
    """The records whose stored due_on, state, late_days or note differ from `judge` now,
    each with its fresh judgement (nothing written)."""
    if not records:
        return []
    judging = Judge(work_calendar(session))
    books = limit_books(session, {record.catalogue_id for record in records})
    working = dict(
        session.exec(
            select(col(Item.id), col(Item.time_limit)).where(
                col(Item.catalogue_id).in_(sorted(books))
            )
        ).all()
    )
    out: list[tuple[Record, Judgement]] = []
    for record in records:
        limit = books[record.catalogue_id].text(
            record.item_id, record.formed_on, working.get(record.item_id)
        )
        verdict = judging(limit, record.formed_on, record.published_on)
        now = (verdict.due_on, verdict.state, verdict.late_days, verdict.note)
        if (record.due_on, record.state, record.late_days, record.note) != now:
            out.append((record, verdict))
    return out


def recompute(
    session: Session,
    *,
    years: Iterable[int] | None = None,
    catalogue_ids: Iterable[int] | None = None,
) -> int:
    """Judge stored records again (all, those formed in `years`, or those of the chosen
    catalogues); how many changed."""
    query = select(Record).where(col(Record.deleted_at).is_(None))
    if years is not None:
        chosen = sorted(set(years))
        query = query.where(
            sa.or_(
                *(
                    col(Record.formed_on).between(date(year - 1, 1, 1), date(year, 12, 31))
                    for year in chosen
                )
            )
        )
    if catalogue_ids is not None:
        query = query.where(col(Record.catalogue_id).in_(sorted(set(catalogue_ids))))
    changed: list[Record] = []
    for record, verdict in rejudged(session, list(session.exec(query))):
        record.due_on, record.state = verdict.due_on, verdict.state
        record.late_days, record.note = verdict.late_days, verdict.note
        changed.append(record)
    if changed:
        # A new change number each, so the column's ETag and the feed see the new states.
        first = next_seq(session, len(changed))
        seqs: dict[int, int] = {}
        for offset, record in enumerate(changed):
            record.seq = first + offset
            record.updated_at = utcnow()
            seqs[record.catalogue_id] = record.seq
            session.add(record)
        session.flush()
        stamp(session, seqs)
        recount(session, {(record.catalogue_id, record.item_id) for record in changed})
    session.flush()
    return len(changed)


# ---- the public change feed -----------------------------------------------------------------


@dataclass(frozen=True)
class RecordChangeRow:
    seq: int
    unit_code: str
    domain_code: str
    record_id: int
    item_id: int
    url: str
    deleted: bool
    changed_at: datetime


def changes(session: Session, *, after: int, limit: int) -> list[RecordChangeRow]:
    """Record writes and deletes after change number `after`, at most `limit` + 1, each
    record once at its latest state; only catalogues that have been published."""
    rows = session.exec(  # type: ignore[call-overload]
        sa.select(
            col(Record.seq),
            col(Record.unit_code),
            col(Record.domain_code),
            col(Record.id),
            col(Record.item_id),
            col(Record.url),
            col(Record.deleted_at).is_not(None),
            col(Record.updated_at),
        )
        .join(Catalogue, col(Catalogue.id) == col(Record.catalogue_id))
        .where(col(Record.seq) > after, col(Catalogue.version) > 0)
        .order_by(col(Record.seq))
        .limit(limit + 1)
    ).all()
    return [RecordChangeRow(*row) for row in rows]


_FEED_PREFIX = "seq:"
_FEED_RECORDS = ";rec:"


def feed_cursor(publish_seq: int, record_seq: int) -> str:
    """One cursor for both sequences; without records it is the publish-only cursor."""
    raw = f"{_FEED_PREFIX}{publish_seq}"
    if record_seq:
        raw += f"{_FEED_RECORDS}{record_seq}"
    return paging.opaque_cursor(raw)


def parse_feed_cursor(value: str | None) -> tuple[int, int]:
    """(publish number, record change number); an older publish-only cursor means no
    record seen yet, so a site that synced catalogues before records gets every record."""
    if not value:
        return 0, 0
    numbers = paging.opaque_numbers(value, _FEED_PREFIX, _FEED_RECORDS, parameter="since", most=2)
    return numbers[0], numbers[1] if len(numbers) == 2 else 0
