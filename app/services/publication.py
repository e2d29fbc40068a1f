"""发布 / published versions for website teams: lookups, renderings made once, the feed.

A published version never changes, so its renderings are made once per process (on the
first request) and kept in memory, keyed by the version. The only question a request
asks the database is "which version is the latest for this unit × domain"; a process
remembers the answer, and a publish in the same process forgets it at once (before and
again after its commit); every other process forgets it when the publish commits
(app/services/freshness.py: NOTIFY on PostgreSQL, data_version on SQLite), with
`published_lookup_ttl` seconds (1 s by default) only as the fallback. A pinned
`?version=N` is immutable and remembered until evicted.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import time
from collections import OrderedDict
from collections.abc import Callable, Coroutine, Hashable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.utils import format_datetime
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import anyio.to_thread
import openpyxl
import orjson
import sqlalchemy as sa
from sqlalchemy import event, func, text
from sqlmodel import Session, col, select

from app.config import get_settings
from app.db import SessionFactory
from app.models.catalogue import Catalogue, CatalogueVersion
from app.models.common import iso_utc
from app.models.unit import Unit
from app.render import table
from app.render.table import CatalogueItem, CatalogueView
from app.services import freshness

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

PUBLIC_PREFIX = "/api/v1/public"


class Format(StrEnum):
    json = "json"
    html = "html"
    xlsx = "xlsx"
    csv = "csv"


MEDIA_TYPES: dict[Format, str] = {
    Format.json: "application/json",
    Format.html: "text/html; charset=utf-8",
    Format.xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    Format.csv: "text/csv; charset=utf-8",
}


def _renderer_tag() -> str:
    """Changes when the code that makes the bytes changes, so a strong ETag stays honest."""
    digest = hashlib.sha256(openpyxl.__version__.encode())
    for path in (
        Path(table.__file__),
        Path(table.__file__).parent / "templates" / "catalogue.html",
        Path(__file__),
    ):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:8]


RENDER_TAG = _renderer_tag()


@dataclass(frozen=True)
class VersionRef:
    """Everything about one published version except its items: small, hashable, immutable."""

    id: int
    unit_code: str
    unit_name: str
    domain_code: str
    domain_name: str
    number: int
    published_on: date
    published_url: str
    published_at: datetime
    feed_seq: int

    @property
    def href(self) -> str:
        return href(self.unit_code, self.domain_code, self.number)

    @cached_property
    def last_modified(self) -> str:
        return http_date(self.published_at)


@dataclass(frozen=True)
class UnitListing:
    """A unit and the latest version of each of its published catalogues, by domain code."""

    unit_code: str
    unit_name: str
    versions: tuple[VersionRef, ...]


@dataclass(frozen=True)
class Rendering:
    body: bytes
    media_type: str
    etag: str
    last_modified: str | None
    filename: tuple[str, str] | None = None
    """(ASCII fallback, UTF-8 name) for a download; None for what a browser shows."""


def href(unit_code: str, domain_code: str, number: int) -> str:
    return f"{PUBLIC_PREFIX}/units/{unit_code}/catalogues/{domain_code}?version={number}"


def http_date(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC), usegmt=True)


def etag(ref: VersionRef, fmt: Format) -> str:
    return f'"v{ref.id}.{fmt}.{RENDER_TAG}"'


def unit_etag(listing: UnitListing) -> str:
    """The listing's name is the unit's current one (each version inside keeps its own), so
    the tag covers the name too: a rename changes the listing's bytes and its tag."""
    ids = ",".join(str(ref.id) for ref in listing.versions)
    key = f"{listing.unit_code}:{listing.unit_name}:{ids}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return f'"u{digest}.{RENDER_TAG}"'


def unit_last_modified(listing: UnitListing) -> str | None:
    if not listing.versions:
        return None
    return http_date(max(ref.published_at for ref in listing.versions))


# ---- the database side (sync, session first) ---------------------------------------

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


_CURSOR_PREFIX = "seq:"


def view(ref: VersionRef, items: list[dict[str, Any]]) -> CatalogueView:
    return {
        "unit_code": ref.unit_code,
        "unit_name": ref.unit_name,
        "domain_code": ref.domain_code,
        "domain_name": ref.domain_name,
        "version": ref.number,
        "published_on": ref.published_on,
        "published_url": ref.published_url,
        "items": [_item(item) for item in items],
    }


def _item(snapshot: dict[str, Any]) -> CatalogueItem:
    return {
        "id": snapshot.get("id"),
        "first_level": snapshot["first_level"],
        "name": snapshot["name"],
        "content": snapshot.get("content"),
        "basis": snapshot.get("basis"),
        "time_limit": snapshot.get("time_limit"),
        "responsible_body": snapshot.get("responsible_body"),
        "method": snapshot.get("method"),
        "channels": list(snapshot.get("channels") or []),
        "audience": snapshot.get("audience"),
        "levels": list(snapshot.get("levels") or []),
        "position": snapshot["position"],
    }


def tree(ref: VersionRef, items: list[dict[str, Any]]) -> dict[str, Any]:
    """The JSON shape (PublishedCatalogue): the renderer's tree plus when and where."""
    data: dict[str, Any] = dict(table.render_tree(view(ref, items)))
    data["published_at"] = iso_utc(ref.published_at)
    data["href"] = ref.href
    return data


def render(ref: VersionRef, items: list[dict[str, Any]], fmt: Format) -> Rendering:
    """The bytes of one version in one format, with the headers that describe them."""
    if fmt is Format.json:
        body = orjson.dumps(tree(ref, items))
    elif fmt is Format.html:
        body = table.render_html(view(ref, items))
    elif fmt is Format.xlsx:
        body = table.render_xlsx(view(ref, items))
    else:
        body = table.render_csv(view(ref, items))
    filename = None
    if fmt in (Format.xlsx, Format.csv):
        stem = f"{ref.unit_code}-{ref.domain_code}-v{ref.number}"
        name = f"{ref.unit_name}{ref.domain_name}{table.TITLE_SUFFIX}-第{ref.number}版"
        filename = (f"{stem}.{fmt}", f"{name}.{fmt}")
    return Rendering(
        body=body,
        media_type=MEDIA_TYPES[fmt],
        etag=etag(ref, fmt),
        last_modified=ref.last_modified,
        filename=filename,
    )


def content_disposition(filename: tuple[str, str]) -> str:
    ascii_name, utf8_name = filename
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(utf8_name)}"


# ---- the process caches -----------------------------------------------------------------


class _Expiring(Generic[K, V]):
    """Answers remembered until a deadline (inf: until evicted), least recently used out
    first within a byte budget (`published_lookup_mb`), so no sequence of requests, not
    even one for a new unknown code each time, makes it grow beyond that."""

    def __init__(self) -> None:
        self._data: OrderedDict[K, tuple[float, V, int]] = OrderedDict()
        self._size = 0

    def get(self, key: K) -> tuple[V] | None:
        entry = self._data.get(key)
        if entry is None:
            return None
        if entry[0] < time.monotonic():
            self.pop(key)  # expired answers are not kept
            return None
        self._data.move_to_end(key)
        return (entry[1],)

    def put(self, key: K, value: V, ttl: float | None) -> None:
        self.pop(key)
        weight = _weight(key, value)
        deadline = time.monotonic() + ttl if ttl is not None else float("inf")
        self._data[key] = (deadline, value, weight)
        self._size += weight
        budget = get_settings().published_lookup_mb * 1_000_000
        while self._size > budget and self._data:
            _, (_, _, old) = self._data.popitem(last=False)
            self._size -= old

    def pop(self, key: K) -> None:
        entry = self._data.pop(key, None)
        if entry is not None:
            self._size -= entry[2]

    def drop(self, which: Callable[[K], bool]) -> None:
        for key in [key for key in self._data if which(key)]:
            self.pop(key)

    def clear(self) -> None:
        self._data.clear()
        self._size = 0

    @property
    def size(self) -> int:
        return self._size


def _weight(key: object, value: object) -> int:
    """An entry's bytes, roughly: its text twice over (Python objects cost about that) plus
    the entry's own overhead. Computed on a miss only, after a database query."""
    return 200 + 2 * (len(repr(key)) + len(repr(value)))


class _Renderings:
    """Rendered bytes, least recently used out first, within a byte budget."""

    def __init__(self) -> None:
        self._data: OrderedDict[Hashable, Rendering] = OrderedDict()
        self._size = 0

    def get(self, key: Hashable) -> Rendering | None:
        found = self._data.get(key)
        if found is not None:
            self._data.move_to_end(key)
        return found

    def put(self, key: Hashable, value: Rendering) -> None:
        budget = get_settings().published_cache_mb * 1_000_000
        if key in self._data or len(value.body) > budget:
            return
        self._data[key] = value
        self._size += len(value.body)
        while self._size > budget:
            _, old = self._data.popitem(last=False)
            self._size -= len(old.body)

    def clear(self) -> None:
        self._data.clear()
        self._size = 0


_latest: _Expiring[tuple[str, str, int | None], VersionRef | None] = _Expiring()
_units: _Expiring[str, UnitListing | None] = _Expiring()
_renderings = _Renderings()
_inflight: dict[Hashable, asyncio.Task[Any]] = {}
# Bumped by every forget(): a lookup that started before a publish committed must not
# store its (possibly old) answer after that publish made this process forget.
_generation = itertools.count()
_current = 0


def clear_caches() -> None:
    """Forget everything (tests roll their database back, which no real database does)."""
    _latest.clear()
    _units.clear()
    _renderings.clear()


def forget(unit_code: str, domain_code: str, number: int) -> None:
    """A version was published: the next request asks the database again."""
    global _current
    _current = next(_generation) + 1
    _latest.pop((unit_code, domain_code, None))
    _latest.pop((unit_code, domain_code, number))
    _units.pop(unit_code)


def forget_latest() -> None:
    """Another process committed: every "latest" answer may be old (pinned ones are not)."""
    global _current
    _current = next(_generation) + 1
    _latest.drop(lambda key: key[2] is None)
    _units.clear()


def forget_published(payload: str | None) -> None:
    """What freshness.watch calls: a publish's "unit domain number", or None for all."""
    parts = (payload or "").split(" ")
    if len(parts) == 3 and parts[2].isdecimal():
        forget(parts[0], parts[1], int(parts[2]))
    else:
        forget_latest()


def _fresh() -> None:
    """SQLite: before trusting a remembered answer, has any process committed since?"""
    if freshness.watch.changed():
        forget_latest()


def announce(session: Session, version: CatalogueVersion) -> None:
    """Make a publish visible in this process now, again once its transaction commits,
    and in every other process when it commits (freshness: NOTIFY on PostgreSQL).

    The second time closes the window in which a concurrent reader could have looked up
    the old latest version just before the commit and remembered it.
    """
    keys = (version.unit_code, version.domain_code, version.number)
    forget(*keys)
    freshness.announce(session, " ".join(map(str, keys)))
    event.listen(session, "after_commit", lambda _session: forget(*keys), once=True)


async def _shared(key: Hashable, make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """One computation per key at a time; concurrent callers await the same one.

    The work runs as its own task, so a caller that disconnects does not cancel it for
    the others (and its result still lands in the cache).
    """
    loop = asyncio.get_running_loop()
    task = _inflight.get(key)
    if task is None or task.get_loop() is not loop:
        task = loop.create_task(make())
        _inflight[key] = task

        def done(finished: asyncio.Task[Any]) -> None:
            if _inflight.get(key) is finished:
                del _inflight[key]

        task.add_done_callback(done)
    result: T = await asyncio.shield(task)
    return result


async def _in_thread(sessions: SessionFactory, work: Callable[[Session], T]) -> T:
    def run() -> T:
        with sessions() as session:
            return work(session)

    return await anyio.to_thread.run_sync(run)


def remembered_version(unit_code: str, domain_code: str, number: int | None) -> VersionRef | None:
    """What this process already knows, without waiting: None when it would have to ask."""
    _fresh()
    hit = _latest.get((unit_code, domain_code, number))
    return hit[0] if hit is not None else None


def remembered_listing(unit_code: str) -> UnitListing | None:
    _fresh()
    hit = _units.get(unit_code)
    return hit[0] if hit is not None else None


def remembered_rendering(ref: VersionRef, fmt: Format) -> Rendering | None:
    return _renderings.get((ref, fmt))


def remembered_unit_rendering(listing: UnitListing) -> Rendering | None:
    return _renderings.get(("unit", listing))


async def published(
    sessions: SessionFactory, unit_code: str, domain_code: str, number: int | None
) -> VersionRef | None:
    """The latest (number None) or a pinned published version, mostly from memory."""
    key = (unit_code, domain_code, number)
    _fresh()
    if (hit := _latest.get(key)) is not None:
        return hit[0]

    async def look_up() -> VersionRef | None:
        started = _current
        found = await _in_thread(
            sessions, lambda s: find_version(s, unit_code, domain_code, number)
        )
        pinned = number is not None and found is not None
        if pinned or started == _current:
            _latest.put(key, found, None if pinned else get_settings().published_lookup_ttl)
        return found

    return await _shared(("version", key), look_up)


async def unit_listing(sessions: SessionFactory, unit_code: str) -> UnitListing | None:
    _fresh()
    if (hit := _units.get(unit_code)) is not None:
        return hit[0]

    async def look_up() -> UnitListing | None:
        started = _current
        found = await _in_thread(sessions, lambda s: find_unit_listing(s, unit_code))
        if started == _current:
            _units.put(unit_code, found, get_settings().published_lookup_ttl)
        return found

    return await _shared(("unit", unit_code), look_up)


async def rendering(sessions: SessionFactory, ref: VersionRef, fmt: Format) -> Rendering:
    """The version's bytes in `fmt`: made on the first request, then from memory."""
    key = (ref, fmt)
    if (hit := _renderings.get(key)) is not None:
        return hit

    async def make() -> Rendering:
        items = await _in_thread(sessions, lambda s: load_items(s, ref.id))
        made = await anyio.to_thread.run_sync(render, ref, items, fmt)
        _renderings.put(key, made)
        return made

    return await _shared(("rendering", key), make)


async def unit_rendering(sessions: SessionFactory, listing: UnitListing) -> Rendering:
    """The unit's tree: the cached JSON of each version joined, itself cached."""
    key = ("unit", listing)
    if (hit := _renderings.get(key)) is not None:
        return hit
    parts = [await rendering(sessions, ref, Format.json) for ref in listing.versions]
    head = orjson.dumps({"unit_code": listing.unit_code, "unit_name": listing.unit_name})
    body = head[:-1] + b',"catalogues":[' + b",".join(p.body for p in parts) + b"]}"
    made = Rendering(
        body=body,
        media_type=MEDIA_TYPES[Format.json],
        etag=unit_etag(listing),
        last_modified=unit_last_modified(listing),
    )
    _renderings.put(key, made)
    return made
