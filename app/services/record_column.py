"""网站栏目 / the public column: the latest published version's tree with each item's records.

Records change often, so the answer is keyed by the version and by the highest change
number among the catalogue's records (a delete leaves a tombstone with a new number): any
write changes the ETag, and two requests with the same key get the same bytes, made once.
Only the catalogue's own records are read (by catalogue id and unit), never another unit's.
Each rendering is compressed (gzip, brotli) once, when it is made, and kept with it.
"""

from __future__ import annotations

import hashlib
import html
import time
from collections import OrderedDict, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import anyio.to_thread
import orjson
import sqlalchemy as sa
from sqlalchemy import event
from sqlmodel import Session, col

from app.config import get_settings
from app.db import SessionFactory
from app.models.catalogue import Catalogue
from app.models.publication import VersionRef
from app.models.record import PublishedRecord, Record, RecordStamp
from app.render import published
from app.render.published import MEDIA_TYPES, Format, Rendering
from app.services import publication

FORMATS = ("json", "html", "fragment")
_TAG = hashlib.sha256(Path(__file__).read_bytes() + published.RENDER_TAG.encode()).hexdigest()[:8]
_PUBLISHED_FIELDS = tuple(PublishedRecord.model_fields)


@dataclass(frozen=True)
class ColumnKey:
    ref: VersionRef
    catalogue_id: int
    stamp: int

    def etag(self, fmt: str) -> str:
        return f'"r{self.ref.id}.{self.stamp}.{fmt}.{_TAG}"'


def look_up(session: Session, unit_code: str, domain_code: str) -> ColumnKey | None:
    """The latest version and the catalogue's record stamp: two indexed lookups."""
    ref = publication.find_version(session, unit_code, domain_code)
    if ref is None:
        return None
    catalogue_id, stamp = session.exec(  # type: ignore[call-overload]
        sa.select(col(Catalogue.id), col(RecordStamp.seq))
        .select_from(Catalogue)
        .join(RecordStamp, col(RecordStamp.catalogue_id) == col(Catalogue.id), isouter=True)
        .where(col(Catalogue.unit_code) == unit_code, col(Catalogue.domain_code) == domain_code)
    ).one()
    return ColumnKey(ref, catalogue_id, int(stamp or 0))


# What this process remembers of each column's key, for `published_lookup_ttl` seconds as
# the catalogue routes do; a record write or a publish in this process forgets it at once
# (and again after its commit). Keyed by catalogue id too, which is what writers know.
_keys: dict[tuple[str, str], tuple[float, ColumnKey | None]] = {}
_by_catalogue: dict[int, tuple[str, str]] = {}


_generation = 0


def forget(catalogue_ids: Iterable[int]) -> None:
    global _generation
    _generation += 1  # a lookup that started before this must not store its answer
    for catalogue_id in catalogue_ids:
        if (where := _by_catalogue.pop(catalogue_id, None)) is not None:
            _keys.pop(where, None)


def announce(session: Session, catalogue_ids: Iterable[int]) -> None:
    ids = tuple(catalogue_ids)
    forget(ids)
    event.listen(session, "after_commit", lambda _session: forget(ids), once=True)


def clear_caches() -> None:
    _keys.clear()
    _by_catalogue.clear()
    renderings.clear()


async def current(sessions: SessionFactory, unit_code: str, domain_code: str) -> ColumnKey | None:
    """The column's key, from memory while fresh, else from the database."""
    where = (unit_code, domain_code)
    hit = _keys.get(where)
    if hit is not None and hit[0] >= time.monotonic():
        return hit[1]

    def run() -> ColumnKey | None:
        with sessions() as session:
            return look_up(session, unit_code, domain_code)

    started = _generation
    key = await anyio.to_thread.run_sync(run)
    if started != _generation:
        return key
    if len(_keys) > 100_000:
        _keys.clear()
        _by_catalogue.clear()
    _keys[where] = (time.monotonic() + get_settings().published_lookup_ttl, key)
    if key is not None:
        _by_catalogue[key.catalogue_id] = where
    return key


async def column(sessions: SessionFactory, key: ColumnKey, fmt: str) -> Rendering:
    if (hit := renderings.get((key, fmt))) is not None:
        return hit

    def run() -> Rendering:
        with sessions() as session:
            return rendering(session, key, fmt)

    return await anyio.to_thread.run_sync(run)


def _records(session: Session, key: ColumnKey) -> dict[int, list[dict[str, Any]]]:
    rows = session.exec(  # type: ignore[call-overload]
        sa.select(col(Record.item_id), *(col(getattr(Record, name)) for name in _PUBLISHED_FIELDS))
        .where(
            col(Record.catalogue_id) == key.catalogue_id,
            col(Record.unit_code) == key.ref.unit_code,
            col(Record.deleted_at).is_(None),
        )
        .order_by(col(Record.published_on).desc(), col(Record.id).desc())
    ).all()
    by_item: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_item[row[0]].append(dict(zip(_PUBLISHED_FIELDS, row[1:], strict=True)))
    return by_item


def tree(session: Session, key: ColumnKey) -> dict[str, Any]:
    data = published.tree(key.ref, publication.load_items(session, key.ref.id))
    by_item = _records(session, key)
    for first in data["first_level_items"]:
        for item in first["items"]:
            item["records"] = by_item.get(item["id"], [])
    return data


def _date(value: date | None) -> str:
    return value.isoformat() if value is not None else ""


def render_html(data: dict[str, Any], *, fragment: bool) -> bytes:
    """Each first-level item, each item under it with its records as links, newest first."""
    esc = html.escape
    title = f"{data['unit_name']}{data['domain_name']}领域 公开栏目"
    parts = [f'<section class="records-column"><h1>{esc(title)}</h1>']
    for first in data["first_level_items"]:
        parts.append(f"<h2>{esc(first['name'])}</h2>")
        for item in first["items"]:
            parts.append(f'<h3 id="item-{item["id"]}">{esc(item["name"])}</h3>')
            if not item["records"]:
                parts.append("<p>暂无信息 / nothing published yet</p>")
                continue
            parts.append("<ul>")
            for record in item["records"]:
                parts.append(
                    f'<li><a href="{esc(record["url"])}" rel="noopener">{esc(record["title"])}'
                    f'</a> <time datetime="{_date(record["published_on"])}">'
                    f"{_date(record['published_on'])}</time></li>"
                )
            parts.append("</ul>")
    parts.append("</section>")
    body = "".join(parts)
    if not fragment:
        body = (
            '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
            f"<title>{esc(title)}</title></head><body>{body}</body></html>"
        )
    return body.encode()


def render(session: Session, key: ColumnKey, fmt: str) -> Rendering:
    data = tree(session, key)
    if fmt == "json":
        body = orjson.dumps(data)
        media_type = MEDIA_TYPES[Format.json]
    else:
        body = render_html(data, fragment=fmt == "fragment")
        media_type = MEDIA_TYPES[Format.html]
    return Rendering(body, media_type, key.etag(fmt), None, encoded=published.compress(body))


class _Renderings:
    """The last few columns made, by key and format (a new record makes a new key)."""

    def __init__(self, size: int = 256) -> None:
        self._data: OrderedDict[tuple[ColumnKey, str], Rendering] = OrderedDict()
        self._size = size

    def get(self, key: tuple[ColumnKey, str]) -> Rendering | None:
        found = self._data.get(key)
        if found is not None:
            self._data.move_to_end(key)
        return found

    def put(self, key: tuple[ColumnKey, str], value: Rendering) -> None:
        self._data[key] = value
        while len(self._data) > self._size:
            self._data.popitem(last=False)

    def clear(self) -> None:
        self._data.clear()


renderings = _Renderings()


def rendering(session: Session, key: ColumnKey, fmt: str) -> Rendering:
    """The column's bytes in `fmt`: made once per key, then from memory."""
    if (hit := renderings.get((key, fmt))) is not None:
        return hit
    made = render(session, key, fmt)
    renderings.put((key, fmt), made)
    return made


def remembered(unit_code: str, domain_code: str) -> ColumnKey | None:
    """The column's key when this process holds a fresh one; None when it must ask."""
    hit = _keys.get((unit_code, domain_code))
    if hit is None or hit[0] < time.monotonic():
        return None
    return hit[1]
