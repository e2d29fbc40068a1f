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
declared not applicable. Published versions keep counts but an empty snapshot (the audit
reads counts only).
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


CITY = Shape("city", 6, 0, 23, 42, 20, 63, synthetic_districts=False)
"""Xiamen's 6 districts and 38 streets and towns (the seed) plus 6 more streets: 50 units;
6 × 23 × 42 + 44 × 20 × 63 ≈ 61,000 items (a city of PERF.md's size)."""
NATION = Shape("nation", 2_850, 13, 23, 42, 9, 7, synthetic_districts=True)
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.audit_data")
    parser.add_argument("dataset", choices=("city", "nation"))
    parser.add_argument("url")
    args = parser.parse_args(argv)
    generate(args.url, CITY if args.dataset == "city" else NATION)
    return 0


if __name__ == "__main__":
    sys.exit(main())
