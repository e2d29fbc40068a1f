"""Synthetic audit datasets: a city (50 units, 60,000 items) and the nation (40,000 units,
5,000,000 second-level items), with realistic shares of gaps.

`python -m bench.audit_data city sqlite:///bench/.data/city.sqlite3`
`python -m bench.audit_data nation postgresql+psycopg://postgres@127.0.0.1:5432/bench_audit`

The database is migrated and seeded first. Generation goes one district (and its streets and
towns) per transaction and records each finished district in `bench_progress`, so an
interrupted run resumes where it stopped and a finished one is a no-op. PostgreSQL loads with
COPY. Shares (per catalogue unless said): 65 % published, 15 % compiled, 20 % draft; in a
draft 30 % of the items lack their basis; 5 % of items have the vague time limit 及时, 3 % a
generic responsible body, 2 % a basis citing no document; 10 % of the guide's items are left
out of a catalogue, 2 % of catalogues waive one; 3 % of the remaining unit × domain pairs are
declared not applicable. The city's published versions keep counts but an empty snapshot
(the completeness audit reads counts only); the nation's hold their items' snapshots, and
of the 90 % of its items that are neither vague nor badly based nor given a generic body, 8 % are
每季度更新, 2 % 每月更新, 3 % 每年3月底前公开上一年度报告, 7 % 长期公开, 2 % 实时公开 and the
rest 20 working days (the timeliness audit reads them); it also gets disclosure records
(`records` below).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from typing import Any

import sqlalchemy as sa
from alembic import command
from sqlmodel import Session

from app.config import ROOT
from app.db import make_engine
from app.rules import quality
from app.services import stats
from seed import load

CATALOGUE_ID_BASE = 100_000_000  # far above anything the app's sequence hands out
NOW = "2021-01-01 00:00:00+00:00"


@dataclass(frozen=True)
class Shape:
    """How big a dataset is: districts, townships per district, domains and items each."""

    name: str
    districts: int
    townships: int
    district_domains: int
    district_items: int
    township_domains: int
    township_items: int
    synthetic_districts: bool
    timeliness: bool = False
    """Made for the timeliness audit too (the nation): some items get periodic and other
    time limits, published versions get their items' snapshots, and records are added."""


CITY = Shape("city", 6, 0, 23, 42, 20, 63, synthetic_districts=False)
"""Xiamen's 6 districts and 38 streets and towns (the seed) plus 6 more streets: 50 units;
6 × 23 × 42 + 44 × 20 × 63 ≈ 61,000 items (a city of PERF.md's size)."""
NATION = Shape("nation", 2_850, 13, 23, 42, 9, 7, synthetic_districts=True, timeliness=True)
"""2,850 districts × (1 + 13.04 streets or towns) = 40,000 units; districts report 23 domains
of 42 items (Huli: 23 类, 962 项), townships 9 of 7 (Huli's streets: 9 类, 63 项):
≈ 2.75 M + 2.34 M ≈ 5.1 M second-level items."""
NATION_TOWNSHIPS = 37_150


def _migrate(url: str) -> None:
    from alembic.config import Config

    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["url"] = url
    command.upgrade(config, "head")


@cache
def _flags(time_limit: str, basis: str | None, body: str) -> int:
    return quality.item_flags(
        {
            "content": "公开内容",
            "basis": basis,
            "time_limit": time_limit,
            "responsible_body": body,
            "method": "主动",
            "channels": ["政府网站"],
            "audience": "全社会",
        }
    )


PERIODIC_LIMITS = (
    (0.08, "每季度更新"),
    (0.10, "每月更新"),
    (0.13, "每年3月底前公开上一年度报告"),
    (0.20, "长期公开"),
    (0.22, "实时公开"),
)
"""The nation's other time limits, by cumulative share of the items not drawn vague."""


def _limit(roll: float) -> str:
    for share, text in PERIODIC_LIMITS:
        if roll < share:
            return text
    return "信息形成或变更之日起20个工作日内"


@cache
def _key(name: str) -> str:
    return quality.name_key(name)


ITEM_COLUMNS = (
    "catalogue_id",
    "first_level",
    "name",
    "content",
    "basis",
    "time_limit",
    "responsible_body",
    "method",
    "channels",
    "audience",
    "levels",
    "position",
    "lacking",
    "revision",
    "created_at",
    "updated_at",
    "name_key",
    "flags",
)
CATALOGUE_COLUMNS = (
    "id",
    "unit_code",
    "domain_code",
    "applicable",
    "not_applicable_reason",
    "status",
    "compiled_on",
    "published_on",
    "published_url",
    "first_compiled_on",
    "first_published_on",
    "version",
    "revision",
    "created_at",
    "updated_at",
)
VERSION_COLUMNS = (
    "catalogue_id",
    "unit_code",
    "domain_code",
    "unit_name",
    "domain_name",
    "number",
    "published_on",
    "published_url",
    "published_at",
    "item_count",
    "first_level_count",
    "items",
    "feed_seq",
)
WAIVER_COLUMNS = ("catalogue_id", "guide_item_id", "reason", "created_at")


SNAPSHOTS = """UPDATE catalogue_versions SET items = made.items FROM (
  SELECT catalogue_id, json_agg(json_build_object(
    'id', id, 'first_level', first_level, 'name', name, 'content', content, 'basis', basis,
    'time_limit', time_limit, 'responsible_body', responsible_body, 'method', method,
    'channels', channels, 'audience', audience, 'levels', levels, 'position', position,
    'missing', '[]'::json) ORDER BY position, id) AS items
  FROM items WHERE catalogue_id BETWEEN :first AND :last GROUP BY catalogue_id
) AS made WHERE catalogue_versions.catalogue_id = made.catalogue_id"""
"""The published versions' snapshots as publishing freezes them (services.items.snapshot):
the timeliness audit reads a version's items from it. PostgreSQL (the nation) only."""


@dataclass
class Chunk:
    units: list[tuple[Any, ...]]
    catalogues: list[tuple[Any, ...]]
    items: list[tuple[Any, ...]]
    versions: list[tuple[Any, ...]]
    waivers: list[tuple[Any, ...]]


class Generator:
    def __init__(self, connection: sa.Connection, shape: Shape) -> None:
        self.shape = shape
        self.domains = [
            (code, name)
            for code, name in connection.execute(
                sa.text("SELECT code, name FROM domains ORDER BY code")
            )
        ]
        guide: dict[tuple[str, int], list[tuple[int, str]]] = {}
        for gid, domain, name, mask in connection.execute(
            sa.text(
                "SELECT id, domain_code, name, level_mask FROM guide_items ORDER BY position, id"
            )
        ):
            for level in (quality.COUNTY, quality.TOWNSHIP):
                if mask & level:
                    guide.setdefault((domain, level), []).append((gid, name))
        self.guide = guide

    def chunk(
        self, index: int, district: tuple[str, str], townships: list[tuple[str, str]]
    ) -> Chunk:
        rng = random.Random(f"{self.shape.name}-{index}")
        out = Chunk([], [], [], [], [])
        base_id = CATALOGUE_ID_BASE + index * 1_000
        members = [(district[0], quality.COUNTY)] + [
            (code, quality.TOWNSHIP) for code, _ in townships
        ]
        names = dict([district, *townships])
        local = 0
        for unit_code, level in members:
            county = level == quality.COUNTY
            wanted = self.shape.district_domains if county else self.shape.township_domains
            n_items = self.shape.district_items if county else self.shape.township_items
            chosen = set(rng.sample(range(len(self.domains)), min(wanted, len(self.domains))))
            for d_index, (domain_code, domain_name) in enumerate(self.domains):
                local += 1
                catalogue_id = base_id + local
                if d_index not in chosen:
                    if rng.random() < 0.03:
                        out.catalogues.append(
                            self._catalogue(
                                catalogue_id, unit_code, domain_code, "draft", None, False
                            )
                        )
                    continue
                roll = rng.random()
                status = "published" if roll < 0.65 else "compiled" if roll < 0.80 else "draft"
                published_on = date(2020, 11, 1) + timedelta(days=rng.randrange(20))
                out.catalogues.append(
                    self._catalogue(
                        catalogue_id, unit_code, domain_code, status, published_on, True
                    )
                )
                count = max(1, int(n_items * rng.uniform(0.7, 1.3)))
                guide = self.guide.get((domain_code, level), [])
                first_levels = set()
                for k in range(1, count + 1):
                    if k <= len(guide) and rng.random() >= 0.10:
                        name = guide[k - 1][1]
                    else:
                        name = f"{domain_name}事项{k}"
                    first_level = f"一级事项{(k - 1) // 6 + 1}"
                    first_levels.add(first_level)
                    lacking = status == "draft" and rng.random() < 0.30
                    r = rng.random()
                    time_limit = "及时" if r < 0.05 else "信息形成或变更之日起20个工作日内"
                    if self.shape.timeliness and r >= 0.10:
                        time_limit = _limit(rng.random())
                    body = "相关部门" if 0.05 <= r < 0.08 else "区政府办公室"
                    basis: str | None = "依法" if 0.08 <= r < 0.10 else "《政府信息公开条例》"
                    if lacking:
                        basis = None
                    out.items.append(
                        (
                            catalogue_id,
                            first_level,
                            name,
                            "公开内容",
                            basis,
                            time_limit,
                            body,
                            "主动",
                            '["政府网站"]',
                            "全社会",
                            '["县级"]' if county else '["乡级"]',
                            k,
                            1 if lacking else 0,
                            1,
                            NOW,
                            NOW,
                            _key(name),
                            _flags(time_limit, basis, body),
                        )
                    )
                if status == "published":
                    out.versions.append(
                        (
                            catalogue_id,
                            unit_code,
                            domain_code,
                            names[unit_code],
                            domain_name,
                            1,
                            published_on,
                            f"http://example.gov.cn/{unit_code}/{domain_code}",
                            NOW,
                            count,
                            len(first_levels),
                            "[]",
                            catalogue_id,  # feed_seq: unique, one version per catalogue
                        )
                    )
                if guide and rng.random() < 0.02:
                    out.waivers.append((catalogue_id, guide[-1][0], "本地无此类事项", NOW))
        return out

    @staticmethod
    def _catalogue(
        catalogue_id: int,
        unit: str,
        domain: str,
        status: str,
        published_on: date | None,
        applicable: bool,
    ) -> tuple[Any, ...]:
        published = status == "published" and published_on is not None
        compiled_on = (
            published_on - timedelta(days=5) if published_on and status != "draft" else None
        )
        return (
            catalogue_id,
            unit,
            domain,
            applicable,
            None if applicable else "本级无此职能",
            status,
            compiled_on,
            published_on if published else None,
            f"http://example.gov.cn/{unit}/{domain}" if published else None,
            compiled_on,
            published_on if published else None,
            1 if published else 0,
            1,
            NOW,
            NOW,
        )


def _insert(
    connection: sa.Connection, table: str, columns: tuple[str, ...], rows: list[Any]
) -> None:
    if not rows:
        return
    if connection.dialect.name == "postgresql":
        raw = connection.connection.driver_connection
        assert raw is not None
        sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        with raw.cursor() as cursor, cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join("?" for _ in columns)
    raw = connection.connection.driver_connection
    assert raw is not None
    raw.executemany(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
        [tuple(_sqlite(v) for v in row) for row in rows],
    )


def _sqlite(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _plan(
    connection: sa.Connection, shape: Shape
) -> Iterator[tuple[int, tuple[str, str], list[tuple[str, str]], list[tuple[Any, ...]]]]:
    """(index, district, townships, unit rows to insert first) per district."""
    if not shape.synthetic_districts:
        districts = connection.execute(
            sa.text("SELECT code, name FROM units WHERE kind = 'district' ORDER BY code")
        ).all()
        for index, (code, name) in enumerate(districts):
            townships = [
                (c, n)
                for c, n in connection.execute(
                    sa.text("SELECT code, name FROM units WHERE parent_code = :p ORDER BY code"),
                    {"p": code},
                )
            ]
            extra = [(f"B{code}9{n:02d}", f"补充街道{n}") for n in range(1)]
            yield index, (code, name), townships + extra, [(c, n, "street", code) for c, n in extra]
        return
    for index in range(shape.districts):
        city = f"BC{index // 10:04d}"
        code = f"BD{index:05d}"
        townships = [
            (f"BT{t:06d}", f"街镇{t}") for t in range(index, NATION_TOWNSHIPS, shape.districts)
        ]
        rows: list[tuple[Any, ...]] = []
        if index % 10 == 0:
            rows.append((city, f"城市{index // 10}", "city", None))
        rows.append((code, f"区县{index}", "district", city))
        rows += [(c, n, "street" if i % 3 else "town", code) for i, (c, n) in enumerate(townships)]
        yield index, (code, f"区县{index}"), townships, rows


def generate(url: str, shape: Shape, *, quiet: bool = False) -> None:
    _migrate(url)
    engine = make_engine(url)
    with Session(engine) as session:
        load(session)
        session.commit()
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "CREATE TABLE IF NOT EXISTS bench_progress (dataset VARCHAR(20), chunk INTEGER, "
                "PRIMARY KEY (dataset, chunk))"
            )
        )
    with engine.connect() as connection:
        done = {
            c
            for (c,) in connection.execute(
                sa.text("SELECT chunk FROM bench_progress WHERE dataset = :d"), {"d": shape.name}
            )
        }
        generator = Generator(connection, shape)
        plan = list(_plan(connection, shape))
    started = time.perf_counter()
    for index, district, townships, unit_rows in plan:
        if index in done:
            continue
        chunk = generator.chunk(index, district, townships)
        with engine.begin() as connection:
            _insert(connection, "units", ("code", "name", "kind", "parent_code"), unit_rows)
            _insert(connection, "catalogues", CATALOGUE_COLUMNS, chunk.catalogues)
            _insert(connection, "items", ITEM_COLUMNS, chunk.items)
            _insert(connection, "catalogue_versions", VERSION_COLUMNS, chunk.versions)
            _insert(connection, "guide_waivers", WAIVER_COLUMNS, chunk.waivers)
            first = CATALOGUE_ID_BASE + index * 1_000
            if shape.timeliness:
                connection.execute(sa.text(SNAPSHOTS), {"first": first, "last": first + 999})
            catalogues = stats.catalogues_t.c.id
            stats.recompute(  # what the app's writers keep, for the rows COPY bypassed
                connection, sa.select(catalogues).where(catalogues.between(first, first + 999))
            )
            connection.execute(
                sa.text("INSERT INTO bench_progress (dataset, chunk) VALUES (:d, :c)"),
                {"d": shape.name, "c": index},
            )
        if not quiet and index % 100 == 0:
            print(
                f"{shape.name}: district {index + 1}/{len(plan)} "
                f"({time.perf_counter() - started:.0f} s)",
                file=sys.stderr,
                flush=True,
            )
    with engine.connect() as connection:
        # VACUUM sets the visibility map: the covering indexes then serve index-only scans
        connection.execution_options(isolation_level="AUTOCOMMIT")
        connection.execute(sa.text("VACUUM ANALYZE" if url.startswith("postgresql") else "ANALYZE"))
    engine.dispose()


# ---- disclosure records (the nation) ------------------------------------------------------

RECORDS_DATASET = "nation-records"
RECORD_CHUNK = 50
"""Districts (blocks of catalogue ids) per records transaction: about 175,000 records."""
FIRST_FORMED = date(2020, 1, 1)
LAST_PUBLISHED = date(2020, 12, 31)
"""Records are formed in 2020 and published by its last day: a crawl taken on 2020-12-31 (a
record that would be published later does not exist yet), so no catalogue has a record
published after an as_of in 2021 and the stored counts answer for every catalogue."""
MAX_DELAY = 90
BLANK_SHARE = 0.06
"""Share of published items with no record at all (blank columns)."""
MEAN_EXTRA = 2.81
"""Records per item besides the first: floor of an exponential of this mean (2.34 on
average), so a published item has 0.94 × 3.34 ≈ 3.1 records: ~10 M over ~3.2 M items."""
MEAN_DELAY = 8.0
"""Days from formed to published: floor of an exponential of this mean, at most MAX_DELAY
(about 3 % past a 20-working-day limit)."""

RECORD_COLUMNS = (
    "unit_code, catalogue_id, domain_code, item_id, title, url, formed_on, published_on, "
    "due_on, state, late_days, note, seq, deleted_at, created_at, updated_at"
)


def _uniform(key: str, seed: int) -> str:
    """SQL for a uniform number in [0, 1) drawn from `key` (a deterministic hash: a rerun of a
    chunk makes the same records, and PostgreSQL may evaluate random() once per statement
    in a lateral subquery)."""
    return f"((hashint8extended({key}, {seed}) & 16777215) / 16777216.0)"


_ITEM = "CAST(i.id AS bigint)"
_RECORD = "CAST(i.id AS bigint) * 1024 + n.n"
RECORDS_SQL = f"""INSERT INTO records ({RECORD_COLUMNS})
SELECT unit_code, catalogue_id, domain_code, item_id, title, url, formed_on, published_on,
  due_on, state, late_days, note, :seq0 + row_number() OVER (ORDER BY catalogue_id, item_id, n),
  NULL, CAST(:now AS timestamptz), CAST(:now AS timestamptz)
FROM (
  SELECT c.unit_code, i.catalogue_id, c.domain_code, i.id AS item_id, n.n,
    '信息' || i.id || '-' || n.n AS title,
    'http://example.gov.cn/' || c.unit_code || '/' || i.id || '/' || n.n || '.html' AS url,
    d.formed_on, d.formed_on + d.delay AS published_on, j.due_on, j.state, j.late_days, j.note
  FROM items i
  JOIN catalogues c ON c.id = i.catalogue_id AND c.status = 'published'
  CROSS JOIN LATERAL generate_series(1, CASE WHEN {_uniform(_ITEM, 1)} < :blank THEN 0
    ELSE 1 + floor(-ln(1 - {_uniform(_ITEM, 2)}) * :extra)::int END) AS n(n)
  CROSS JOIN LATERAL (SELECT
    CAST(:first AS date) + floor({_uniform(_RECORD, 3)} * :days)::int AS formed_on,
    least(floor(-ln(1 - {_uniform(_RECORD, 4)}) * :delay)::int, :max_delay) AS delay) AS d
  JOIN bench_judged j ON j.time_limit = i.time_limit AND j.formed_on = d.formed_on
    AND j.delay = d.delay
  WHERE i.catalogue_id BETWEEN :low AND :high AND d.formed_on + d.delay <= :last
) AS made"""
"""One chunk of records: per published item a random number, formed on a random day of
2020 and published some days later, each with the due date, state, working days late and
note that `records.judge` gives (looked up in bench_judged, made by the app's judge)."""


def _judgements(connection: sa.Connection) -> None:
    """bench_judged: `records.judge` for every time limit the nation's items use × formed day
    × delay, so the records' stored verdicts are the app's own."""
    from app.services import records
    from app.services.calendar import work_calendar

    connection.execute(sa.text("DROP TABLE IF EXISTS bench_judged"))
    connection.execute(
        sa.text(
            "CREATE UNLOGGED TABLE bench_judged (time_limit VARCHAR(500), formed_on DATE, "
            "delay INTEGER, due_on DATE, state VARCHAR(16), late_days INTEGER, note TEXT, "
            "PRIMARY KEY (time_limit, formed_on, delay))"
        )
    )
    limits = [t for (t,) in connection.execute(sa.text("SELECT DISTINCT time_limit FROM items"))]
    with Session(bind=connection) as session:
        calendar = work_calendar(session)
        rows = []
        for text in limits:
            if text is None:
                continue
            for offset in range((LAST_PUBLISHED - FIRST_FORMED).days + 1):
                formed = FIRST_FORMED + timedelta(days=offset)
                for delay in range(min(MAX_DELAY, (LAST_PUBLISHED - formed).days) + 1):
                    verdict = records.judge(text, formed, formed + timedelta(days=delay), calendar)
                    state = getattr(verdict.state, "value", verdict.state)
                    rows.append(
                        (
                            text,
                            formed,
                            delay,
                            verdict.due_on,
                            state,
                            verdict.late_days,
                            verdict.note,
                        )
                    )
    _insert(
        connection,
        "bench_judged",
        ("time_limit", "formed_on", "delay", "due_on", "state", "late_days", "note"),
        rows,
    )
    connection.execute(sa.text("ANALYZE bench_judged"))


def add_records(url: str, shape: Shape, *, quiet: bool = False) -> None:
    """The nation's disclosure records (PostgreSQL), RECORD_CHUNK districts per transaction,
    each recorded in bench_progress; then the stored counts and stamps the write path keeps
    (records.recount_catalogues, record_stamps) for the same catalogues."""
    from app.services import records

    engine = make_engine(url)
    with engine.connect() as connection:
        done = {
            c
            for (c,) in connection.execute(
                sa.text("SELECT chunk FROM bench_progress WHERE dataset = :d"),
                {"d": RECORDS_DATASET},
            )
        }
    chunks = range(0, shape.districts, RECORD_CHUNK)
    if all(index in done for index in chunks):
        engine.dispose()
        return
    started = time.perf_counter()
    with engine.begin() as connection:
        _judgements(connection)
    if not quiet:
        print(f"records: verdicts judged ({time.perf_counter() - started:.0f} s)", file=sys.stderr)
    for index in chunks:
        if index in done:
            continue
        low = CATALOGUE_ID_BASE + index * 1_000
        high = CATALOGUE_ID_BASE + (index + RECORD_CHUNK) * 1_000 - 1
        with engine.begin() as connection:
            seq0 = connection.execute(sa.text("SELECT coalesce(max(seq), 0) FROM records")).scalar()
            connection.execute(
                sa.text(RECORDS_SQL),
                {
                    "seq0": seq0,
                    "now": NOW,
                    "blank": BLANK_SHARE,
                    "extra": MEAN_EXTRA,
                    "first": FIRST_FORMED,
                    "days": (LAST_PUBLISHED - FIRST_FORMED).days + 1,
                    "delay": MEAN_DELAY,
                    "max_delay": MAX_DELAY,
                    "last": LAST_PUBLISHED,
                    "low": low,
                    "high": high,
                },
            )
            ids = [
                cid
                for (cid,) in connection.execute(
                    sa.text(
                        "SELECT DISTINCT catalogue_id FROM records "
                        "WHERE catalogue_id BETWEEN :low AND :high"
                    ),
                    {"low": low, "high": high},
                )
            ]
            if ids:
                records.recount_catalogues(connection, ids)
            connection.execute(
                sa.text(
                    "INSERT INTO record_stamps (catalogue_id, seq) SELECT catalogue_id, max(seq) "
                    "FROM records WHERE catalogue_id BETWEEN :low AND :high GROUP BY catalogue_id"
                ),
                {"low": low, "high": high},
            )
            connection.execute(
                sa.text("INSERT INTO bench_progress (dataset, chunk) VALUES (:d, :c)"),
                {"d": RECORDS_DATASET, "c": index},
            )
        if not quiet:
            print(
                f"records: districts {index + 1}-{min(index + RECORD_CHUNK, shape.districts)}"
                f"/{shape.districts} ({time.perf_counter() - started:.0f} s)",
                file=sys.stderr,
                flush=True,
            )
    with engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT")
        connection.execute(sa.text("DROP TABLE IF EXISTS bench_judged"))
        connection.execute(sa.text("VACUUM ANALYZE records"))
        connection.execute(sa.text("VACUUM ANALYZE record_counts"))
        connection.execute(sa.text("VACUUM ANALYZE record_stamps"))
    engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.audit_data")
    parser.add_argument("dataset", choices=("city", "nation"))
    parser.add_argument("url")
    args = parser.parse_args(argv)
    shape = CITY if args.dataset == "city" else NATION
    generate(args.url, shape)
    if shape.timeliness:
        add_records(args.url, shape)
    return 0


if __name__ == "__main__":
    sys.exit(main())
