"""What one process remembers of the published side: lookups and renderings, made once.

A published version never changes, so its renderings (app/render/published.py: the bytes
of each format and their gzip and brotli variants, compressed once, there) are made on the
first request and kept in memory, keyed by the version, within `published_cache_mb`. The
only question a request asks the database (app/services/publication.py) is "which version
is the latest for this unit × domain"; a process remembers the answer, and a publish in
the same process forgets it at once (before and again after its commit); every other
process forgets it when the publish commits (app/services/freshness.py: NOTIFY on
PostgreSQL, data_version on SQLite), with `published_lookup_ttl` seconds (1 s by default)
only as the fallback. A pinned `?version=N` is immutable and remembered until evicted.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import OrderedDict
from collections.abc import Callable, Coroutine, Hashable
from typing import Any, Generic, TypeVar

import anyio.to_thread
from sqlalchemy import event
from sqlmodel import Session

from app.config import get_settings
from app.db import SessionFactory
from app.models.catalogue import CatalogueVersion
from app.models.publication import UnitListing, VersionRef
from app.render.published import Format, Rendering, render_unit, render_version
from app.services import freshness, publication

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


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
    """Renderings (each with its compressed variants), least recently used out first,
    within a byte budget."""

    def __init__(self) -> None:
        self._data: OrderedDict[Hashable, Rendering] = OrderedDict()
        self._size = 0

    def get(self, key: Hashable) -> Rendering | None:
        found = self._data.get(key)
        if found is not None:
            self._data.move_to_end(key)
        return found

    def put(self, key: Hashable, value: Rendering) -> None:
        """Counted with every encoding it holds, so the budget bounds what is in memory."""
        budget = get_settings().published_cache_mb * 1_000_000
        if key in self._data or value.size > budget:
            return
        self._data[key] = value
        self._size += value.size
        while self._size > budget:
            _, old = self._data.popitem(last=False)
            self._size -= old.size

    @property
    def size(self) -> int:
        return self._size

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
            sessions, lambda s: publication.find_version(s, unit_code, domain_code, number)
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
        found = await _in_thread(sessions, lambda s: publication.find_unit_listing(s, unit_code))
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
        items = await _in_thread(sessions, lambda s: publication.load_items(s, ref.id))
        made = await anyio.to_thread.run_sync(render_version, ref, items, fmt)
        _renderings.put(key, made)
        return made

    return await _shared(("rendering", key), make)


async def unit_rendering(sessions: SessionFactory, listing: UnitListing) -> Rendering:
    """The unit's tree: the cached JSON of each version joined (and compressed), itself
    cached."""
    key = ("unit", listing)
    if (hit := _renderings.get(key)) is not None:
        return hit
    parts = [await rendering(sessions, ref, Format.json) for ref in listing.versions]
    made = await anyio.to_thread.run_sync(render_unit, listing, parts)
    _renderings.put(key, made)
    return made
