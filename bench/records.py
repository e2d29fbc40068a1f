"""Disclosure records: the push, the timeliness audit and the public column, each against
its baseline in the same run (SQLite, in-process TestClient on the app as served: its own
engine from DATABASE_URL, no dependency override; see `_served`).

- POST 1,000 records (validation, due dates, upsert, history, commit) against one raw
  `executemany` INSERT of the same 1,000 rows and a commit: goal ≤ 2×.
- GET /audit/timeliness for a city (50 units, 26 domains × 20 items, 200,000 records):
  goal ≤ 50 ms (the grouped SQL alone is shown beside it).
- GET the public column of a 1,000-item catalogue with 10,000 records against a bare
  FastAPI endpoint returning the same bytes: goal ≥ 0.8× its throughput.

The dataset is made once in bench/.data/records_city.sqlite3 (delete it to remake it).
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI, Response
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.config import get_settings
from app.db import get_engine, make_engine
from app.main import app
from app.models.catalogue import Catalogue, CatalogueVersion
from app.models.domain import Domain
from app.models.item import Item
from app.models.record import Record, RecordBatch, RecordStamp
from app.models.unit import Unit
from app.rules.timelimits import WorkCalendar
from app.services import record_column, records, timeliness
from bench.audit_data import _migrate
from bench.harness import bearer, bench_clock, median_ms
from seed import load

DATA = Path(__file__).resolve().parent / ".data"
CITY_DB = DATA / "records_city.sqlite3"
RUNS = int(os.environ.get("BENCH_RUNS", "9"))
AS_OF = date(2021, 1, 10)
UNITS = 50
DOMAINS = 26
ITEMS = 20
RECORDS = 200_000
BIG_UNIT = "TBIG01"
BIG_ITEMS = 1_000
BIG_RECORDS = 10_000
NOW = datetime(2021, 1, 1, tzinfo=UTC)
LIMITS = (
    ("信息形成或变更之日起20个工作日内", 70),
    ("每季度更新", 10),
    ("每年3月底前公开上一年度报告", 5),
    ("长期公开", 13),
    ("实时公开", 2),
)


CLOCK = bench_clock("cpu")
"""CPU time of this process (all its threads; SQLite runs in-process) by default: on a
shared machine wall time measures the neighbours. BENCH_CLOCK=wall for wall time."""


def _median_ms(run: Callable[[], object], runs: int = RUNS) -> float:
    return median_ms(run, runs, clock=CLOCK)


def _limit(rng: random.Random) -> str:
    return rng.choices([t for t, _ in LIMITS], weights=[w for _, w in LIMITS])[0]


def _item_row(item_id: int, catalogue_id: int, position: int, rng: random.Random) -> dict[str, Any]:
    return {
        "id": item_id,
        "catalogue_id": catalogue_id,
        "first_level": f"一级事项{position // 5 + 1}",
        "name": f"二级事项{position}",
        "content": "内容",
        "basis": "《中华人民共和国政府信息公开条例》",
        "time_limit": _limit(rng),
        "responsible_body": "区政府办",
        "method": "依申请" if rng.random() < 0.15 else "主动",
        "channels": ["政府网站"],
        "audience": "全社会",
        "levels": ["县级"],
        "position": position,
        "lacking": 0,
        "name_key": f"二级事项{position}",
        "flags": 0,
        "revision": 1,
        "created_at": NOW,
        "updated_at": NOW,
    }


def _snapshot(item: dict[str, Any]) -> dict[str, Any]:
    keys: tuple[str, ...] = ("id", "first_level", "name", "content", "basis", "time_limit")
    keys += ("responsible_body", "method", "channels", "audience", "levels", "position")
    return {key: item[key] for key in keys} | {"missing": []}


def _catalogue(
    connection: sa.Connection,
    unit_code: str,
    domain_code: str,
    items: list[dict[str, Any]],
    catalogue_id: int,
    feed_seq: int,
) -> None:
    connection.execute(
        sa.insert(Catalogue.__table__),  # type: ignore[attr-defined]
        {
            "id": catalogue_id,
            "unit_code": unit_code,
            "domain_code": domain_code,
            "applicable": True,
            "status": "published",
            "compiled_on": date(2020, 1, 10),
            "published_on": date(2020, 1, 15),
            "published_url": "http://www.xm.gov.cn/",
            "first_compiled_on": date(2020, 1, 10),
            "first_published_on": date(2020, 1, 15),
            "version": 1,
            "revision": 1,
            "created_at": NOW,
            "updated_at": NOW,
            "item_count": len(items),
            "first_version_on": date(2020, 1, 15),
        },
    )
    connection.execute(sa.insert(Item.__table__), items)  # type: ignore[attr-defined]
    connection.execute(
        sa.insert(CatalogueVersion.__table__),  # type: ignore[attr-defined]
        {
            "id": catalogue_id,
            "catalogue_id": catalogue_id,
            "unit_code": unit_code,
            "unit_name": connection.execute(
                sa.select(Unit.name).where(Unit.code == unit_code)  # type: ignore[call-overload]
            ).scalar_one(),
            "domain_code": domain_code,
            "domain_name": connection.execute(
                sa.select(Domain.name).where(Domain.code == domain_code)  # type: ignore[call-overload]
            ).scalar_one(),
            "number": 1,
            "published_on": date(2020, 1, 15),
            "published_url": "http://www.xm.gov.cn/",
            "published_at": NOW,
            "item_count": len(items),
            "first_level_count": len({i["first_level"] for i in items}),
            "feed_seq": feed_seq,
            "items": [_snapshot(item) for item in items],
        },
    )


_judged: dict[tuple[str, date, date], records.Judgement] = {}


def _records(
    items: list[dict[str, Any]],
    count: int,
    unit_code: str,
    domain_of: dict[int, str],
    seq: int,
    rng: random.Random,
    calendar: WorkCalendar,
) -> list[dict[str, Any]]:
    rows = []
    for n in range(count):
        item = items[rng.randrange(len(items))]
        if item["position"] % 20 == 0:
            continue  # some items stay blank
        formed = date(2020, 1, 16) + timedelta(days=rng.randrange(330))
        published = formed + timedelta(days=int(rng.expovariate(1 / 4)))
        key = (item["time_limit"], formed, published)
        if (verdict := _judged.get(key)) is None:
            verdict = _judged[key] = records.judge(*key, calendar)
        rows.append(
            {
                "unit_code": unit_code,
                "catalogue_id": item["catalogue_id"],
                "domain_code": domain_of[item["catalogue_id"]],
                "item_id": item["id"],
                "title": f"信息{n}",
                "url": f"http://www.xm.gov.cn/{unit_code}/{n}.html",
                "formed_on": formed,
                "published_on": published,
                "due_on": verdict.due_on,
                "state": verdict.state,
                "late_days": verdict.late_days,
                "note": verdict.note,
                "seq": seq + n,
                "deleted_at": None,
                "created_at": NOW,
                "updated_at": NOW,
            }
        )
    return rows


def _stamps(connection: sa.Connection, rows: list[dict[str, Any]]) -> None:
    last: dict[int, int] = {}
    for row in rows:
        last[row["catalogue_id"]] = max(last.get(row["catalogue_id"], 0), row["seq"])
    connection.execute(
        sa.insert(RecordStamp.__table__),  # type: ignore[attr-defined]
        [{"catalogue_id": cid, "seq": seq} for cid, seq in last.items()],
    )


def generate(url: str) -> None:
    """The city dataset, once: 50 units × 26 domains × 20 items, 200,000 records, and one
    unit with a 1,000-item catalogue and 10,000 records."""
    _migrate(url)
    engine = make_engine(url)
    with Session(engine) as session:
        load(session)
        session.commit()
        if session.get(Unit, BIG_UNIT) is not None:
            return
        units = [
            u.code
            for u in session.query(Unit).filter(Unit.kind != "city").order_by(Unit.code).all()  # type: ignore[arg-type]
        ]
    rng = random.Random(20201105)
    calendar = WorkCalendar()
    extra = [f"TST{n:03d}" for n in range(UNITS - len(units))]
    with engine.begin() as connection:
        for code in [*extra, BIG_UNIT]:
            connection.execute(
                sa.insert(Unit.__table__),  # type: ignore[attr-defined]
                {
                    "code": code,
                    "name": f"测试街道{code}",
                    "kind": "street",
                    "parent_code": "350206",
                },
            )
    units = (units + extra)[:UNITS]
    catalogue_id = item_id = 1_000_000
    seq = feed = 1
    per_unit = RECORDS // UNITS
    for unit_code in units:
        with engine.begin() as connection:
            unit_items: list[dict[str, Any]] = []
            domain_of: dict[int, str] = {}
            for domain in range(1, DOMAINS + 1):
                items = []
                for position in range(1, ITEMS + 1):
                    items.append(_item_row(item_id, catalogue_id, position, rng))
                    item_id += 1
                _catalogue(connection, unit_code, f"{domain:02d}", items, catalogue_id, feed)
                domain_of[catalogue_id] = f"{domain:02d}"
                unit_items += items
                catalogue_id += 1
                feed += 1
            rows = _records(unit_items, per_unit, unit_code, domain_of, seq, rng, calendar)
            connection.execute(sa.insert(Record.__table__), rows)  # type: ignore[attr-defined]
            _stamps(connection, rows)
            records.recount_catalogues(connection, list(domain_of))
            seq += per_unit
    with engine.begin() as connection:
        items = [_item_row(item_id + n, catalogue_id, n + 1, rng) for n in range(BIG_ITEMS)]
        _catalogue(connection, BIG_UNIT, "01", items, catalogue_id, feed)
        rows = _records(items, BIG_RECORDS, BIG_UNIT, {catalogue_id: "01"}, seq, rng, calendar)
        connection.execute(sa.insert(Record.__table__), rows)  # type: ignore[attr-defined]
        _stamps(connection, rows)
        records.recount_catalogues(connection, [catalogue_id])
    engine.dispose()


@contextmanager
def _served(url: str) -> Iterator[Engine]:
    """The app on the dataset as a served process runs it: DATABASE_URL names the database
    and each request has get_session's own session (committed before the answer), not a
    dependency override (harness.in_process): while any override is set, FastAPI analyses
    every dependency of a route again on each request, about 2.5 ms of a request here that
    a served request never pays (and the bare endpoints of the floors do not)."""
    saved = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = url
    app.dependency_overrides.clear()  # an earlier bench's, in the same process
    get_settings.cache_clear()
    get_engine.cache_clear()
    try:
        yield get_engine()
    finally:
        get_engine().dispose()
        if saved is None:
            os.environ.pop("DATABASE_URL", None)
        else:
            os.environ["DATABASE_URL"] = saved
        get_settings.cache_clear()
        get_engine.cache_clear()


def _client(engine: Engine) -> tuple[TestClient, dict[str, str], dict[str, str]]:
    auditor = bearer(engine, "auditor")
    return TestClient(app), auditor, bearer(engine, "editor", unit_code=BIG_UNIT)


def _post_case(
    engine: Engine, client: TestClient, editor: dict[str, str]
) -> tuple[float, float, float]:
    with engine.connect() as connection:
        item_ids = [
            row[0]
            for row in connection.execute(
                sa.select(Item.id)  # type: ignore[call-overload]
                .join(Catalogue, Catalogue.id == Item.catalogue_id)
                .where(Catalogue.unit_code == BIG_UNIT)
                .order_by(Item.id)
            )
        ]
    runs = iter(range(1_000_000))
    stamp = f"{time.time_ns():x}"  # every run of the bench writes new URLs

    def batch(prefix: str) -> list[dict[str, Any]]:
        n = f"{stamp}-{next(runs)}"
        return [
            {
                "item_id": item_ids[i],
                "title": f"推送{n}-{i}",
                "url": f"http://www.xm.gov.cn/{prefix}/{n}/{i}.html",
                "formed_on": "2020-09-28",
                "published_on": "2020-11-05",
            }
            for i in range(1000)
        ]

    def post() -> None:
        response = client.post(
            f"/api/v1/units/{BIG_UNIT}/records", json={"records": batch("api")}, headers=editor
        )
        assert response.status_code == 200, response.text

    with engine.connect() as connection:
        top = connection.execute(sa.text("SELECT max(seq) FROM records")).scalar_one()
    seq = iter(range(top + 10_000_000, top + 20_000_000))

    def raw() -> None:
        rows = [
            {
                "unit_code": BIG_UNIT,
                "catalogue_id": 0,
                "domain_code": "01",
                "item_id": r["item_id"],
                "title": r["title"],
                "url": r["url"],
                "formed_on": date(2020, 9, 28),
                "published_on": date(2020, 11, 5),
                "due_on": date(2020, 11, 2),
                "state": "late",
                "late_days": 3,
                "note": None,
                "seq": next(seq),
                "deleted_at": None,
                "created_at": NOW,
                "updated_at": NOW,
            }
            for r in batch("raw")
        ]
        columns = list(rows[0])
        sql = (
            f"INSERT INTO records ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
        )
        with engine.connect() as connection:
            catalogue = connection.execute(
                sa.select(Catalogue.id).where(Catalogue.unit_code == BIG_UNIT)  # type: ignore[call-overload]
            ).scalar_one()
            values = [
                tuple(
                    catalogue
                    if name == "catalogue_id"
                    else v.isoformat(" ")
                    if isinstance(v, datetime)
                    else v.isoformat()
                    if isinstance(v, date)
                    else v
                    for name, v in row.items()
                )
                for row in rows
            ]
            connection.exec_driver_sql(sql, values)
            connection.commit()

    answer = client.post(
        f"/api/v1/units/{BIG_UNIT}/records", json={"records": batch("api")}, headers=editor
    ).content
    bare = FastAPI()

    @bare.post("/records")
    def same_answer(body: RecordBatch) -> Response:
        return Response(answer, media_type="application/json")

    plain = TestClient(bare)

    def floor() -> None:
        response = plain.post("/records", json={"records": batch("api")})
        assert response.status_code == 200

    return _median_ms(post), _median_ms(raw), _median_ms(floor)


def _timeliness_case(
    engine: Engine, client: TestClient, auditor: dict[str, str]
) -> tuple[float, float, float]:
    params = {"as_of": AS_OF.isoformat(), "limit": "100"}

    def endpoint() -> None:
        response = client.get("/api/v1/audit/timeliness", params=params, headers=auditor)
        assert response.status_code == 200, response.text

    timeliness.clear_caches()
    records.clear_caches()
    started = CLOCK()
    endpoint()
    cold = (CLOCK() - started) * 1000

    grouped = sa.text(
        "SELECT catalogue_id, item_id, count(*), sum(state = 'on_time'), sum(state = 'late'), "
        "max(formed_on) FROM records WHERE published_on <= :as_of AND deleted_at IS NULL "
        "GROUP BY catalogue_id, item_id"
    ).bindparams(as_of=AS_OF.isoformat())

    def sql() -> None:
        with engine.connect() as connection:
            connection.execute(grouped).all()

    return _median_ms(endpoint), _median_ms(sql), cold


def _column_case(client: TestClient) -> tuple[float, float, int]:
    path = f"/api/v1/public/units/{BIG_UNIT}/catalogues/01/records"
    # the uncompressed bytes both ways (httpx asks for gzip and br by default, and would time
    # its own decompression); compressed pulls are `python -m bench compression`
    identity = {"accept-encoding": "identity"}
    body = client.get(path, headers=identity).content
    bare = FastAPI()

    @bare.get("/bytes")
    async def same_bytes() -> Response:
        return Response(body, media_type="application/json")

    plain = TestClient(bare)

    def ours() -> None:
        response = client.get(path, headers=identity)
        assert response.status_code == 200

    def anchor() -> None:
        response = plain.get("/bytes", headers=identity)
        assert response.status_code == 200

    return _median_ms(ours, RUNS * 3), _median_ms(anchor, RUNS * 3), len(body)


def main() -> str:
    DATA.mkdir(exist_ok=True)
    url = f"sqlite:///{CITY_DB}"
    generate(url)
    with _served(url) as engine:
        with engine.begin() as connection:  # what earlier runs posted: every run starts alike
            connection.execute(
                sa.text(
                    "DELETE FROM records WHERE url LIKE 'http://www.xm.gov.cn/api/%' "
                    "OR url LIKE 'http://www.xm.gov.cn/raw/%'"
                )
            )
            big = connection.execute(
                sa.select(Catalogue.id).where(Catalogue.unit_code == BIG_UNIT)  # type: ignore[call-overload]
            ).scalars()
            records.recount_catalogues(connection, list(big))
        client, auditor, editor = _client(engine)
        with client:
            records.clear_caches()
            record_column.clear_caches()
            audit_ms, audit_sql, audit_cold = _timeliness_case(engine, client, auditor)
            column_ms, bare_ms, size = _column_case(client)
            post_ms, raw_ms, floor_ms = _post_case(engine, client, editor)
        with engine.connect() as connection:
            total = connection.execute(sa.text("SELECT count(*) FROM records")).scalar_one()
    return "\n".join(
        [
            "## Records",
            "",
            "`python -m bench records`: SQLite, in-process (TestClient, the app as served: its "
            "own engine from DATABASE_URL and get_session, no dependency override, which makes "
            f"FastAPI analyse every dependency again on each request), medians of {RUNS} runs "
            f"after a warm-up, in {'CPU' if CLOCK is time.process_time else 'wall'}"
            " milliseconds of the process (BENCH_CLOCK=wall for wall time); the dataset holds "
            f"{UNITS} units × {DOMAINS} domains × "
            f"{ITEMS} items with {RECORDS:,} records, plus one {BIG_ITEMS:,}-item catalogue with "
            f"{BIG_RECORDS:,} records ({total:,} records after the runs).",
            "",
            "| case | ms | baseline ms | ratio | goal |",
            "| --- | ---: | ---: | ---: | --- |",
            f"| POST 1,000 records vs one raw executemany of the same rows + commit | "
            f"{post_ms:.1f} | {raw_ms:.1f} | {post_ms / raw_ms:.2f}× | ≤ 2× |",
            f"| the HTTP floor: a bare FastAPI endpoint taking the same body (validated by the "
            f"same model) and answering the same bytes, stores nothing | {floor_ms:.1f} | "
            f"{raw_ms:.1f} | {floor_ms / raw_ms:.2f}× |  |",
            f"| timeliness audit, city ({UNITS} units, as_of {AS_OF}) vs the grouped SQL alone | "
            f"{audit_ms:.1f} | {audit_sql:.1f} | {audit_ms / audit_sql:.2f}× | ≤ 50 ms |",
            f"| the same, cold (first request after a restart; then only catalogues whose "
            f"records, items or version changed are computed again) | {audit_cold:.1f} |  |  |  |",
            f"| public column, {BIG_ITEMS:,} items + {BIG_RECORDS:,} records ({size:,} bytes) vs "
            f"a bare FastAPI endpoint returning the same bytes (throughput) | {column_ms:.2f} | "
            f"{bare_ms:.2f} | {bare_ms / column_ms:.2f}× | ≥ 0.8× |",
            "",
            f"Goals: POST {'met' if post_ms <= 2 * raw_ms else 'not met'} "
            f"({post_ms / raw_ms:.2f}×); city timeliness "
            f"{'met' if audit_ms <= 50 else 'not met'} ({audit_ms:.1f} ms); public column "
            f"{'met' if bare_ms / column_ms >= 0.8 else 'not met'} "
            f"({bare_ms / column_ms:.2f}×). The national timeliness audit (40,044 units, "
            '9.8 M records, PostgreSQL) is timed by `python -m bench audit`: "Audit" above. '
            f"Load average at the end: {os.getloadavg()[0]:.1f}.",
        ]
    )


if __name__ == "__main__":
    print(main())
