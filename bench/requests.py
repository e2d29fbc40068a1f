"""The request register: clerks writing (create + event) and table 三 for a city.

Writes: the app served by uvicorn (1 worker) on a temporary SQLite file; CLERKS threads,
each its own editor token and connection, register an application and record its answer
(POST /units/{unit}/requests, then POST /requests/{id}/events with If-Match), one after
the other for the whole run. The anchor, in the same run: the same threads inserting the
same two rows straight into SQLite (sqlite3, one transaction per pair, WAL).

Table 三: a city of UNITS units with REQUESTS applications received in one year, on SQLite;
`requests.table_three_many` for every unit (plus the sum) against the same aggregate as raw
SQL over sqlite3, median of ROUNDS each.
"""

from __future__ import annotations

import os
import random
import sqlite3
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import httpx

from bench.harness import free_port, migrate_and_seed, started

CLERKS = 16
DURATION = float(os.environ.get("BENCH_SECONDS", "5"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "15"))
UNITS = 50
REQUESTS = 50_000
YEAR = 2020
OUTCOMES = ("granted", "partial", "refused_process", "unable_not_held", "ignored_repeat")
APPLICANTS = ("natural", "natural", "natural", "business", "legal", "other_org")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def _clerks(work: Callable[[int], Callable[[], list[float]]]) -> list[float]:
    """Run CLERKS threads for DURATION seconds; each returns its latencies (ms)."""
    results: list[list[float]] = [[] for _ in range(CLERKS)]
    start = threading.Barrier(CLERKS)

    def run(index: int) -> None:
        step = work(index)
        start.wait()
        stop = time.monotonic() + DURATION
        while time.monotonic() < stop:
            results[index].extend(step())

    threads = [threading.Thread(target=run, args=(i,)) for i in range(CLERKS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [value for values in results for value in values]


def _units(url: str) -> list[str]:
    from sqlmodel import Session, col, select

    from app.db import make_engine
    from app.models.unit import Unit

    engine = make_engine(url)
    with Session(engine) as session:
        codes = list(
            session.exec(select(col(Unit.code)).where(col(Unit.kind).in_(["street", "town"]))).all()
        )
    engine.dispose()
    return sorted(codes)[:UNITS]


def _tokens(url: str, units: list[str]) -> list[str]:
    from sqlmodel import Session

    from app import auth
    from app.db import make_engine
    from app.models.common import Role

    engine = make_engine(url)
    with Session(engine) as session:
        secrets = [
            auth.create_token(session, role=Role.editor, unit_code=units[i % len(units)])[1]
            for i in range(CLERKS)
        ]
        session.commit()
    engine.dispose()
    return secrets


def writes(directory: Path) -> tuple[dict[str, float], dict[str, float]]:
    path = directory / "writes.sqlite3"
    url = f"sqlite:///{path}"
    migrate_and_seed(url)
    units = _units(url)
    secrets = _tokens(url, units)

    def app_clerk(index: int) -> Callable[[], list[float]]:
        client = httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {secrets[index]}"}, timeout=30
        )
        unit = units[index % len(units)]
        body = {
            "received_on": "2020-09-25",
            "channel": "网络",
            "applicant_type": "natural",
            "summary": "申请公开某地块征收补偿方案",
        }
        answer = {"kind": "answered", "on": "2020-10-20", "outcome": "granted"}

        def step() -> list[float]:
            began = time.perf_counter()
            created = client.post(f"/api/v1/units/{unit}/requests", json=body)
            middle = time.perf_counter()
            assert created.status_code == 201, created.text
            tag = created.headers["ETag"]
            event = client.post(
                f"/api/v1/requests/{created.json()['id']}/events",
                json=answer,
                headers={"If-Match": tag},
            )
            end = time.perf_counter()
            assert event.status_code == 200, event.text
            return [(middle - began) * 1000, (end - middle) * 1000]

        return step

    with started("app.main:app", free_port(), {"DATABASE_URL": url}) as (base, _process):
        app_latencies = _clerks(app_clerk)

    def raw_clerk(index: int) -> Callable[[], list[float]]:
        connection = sqlite3.connect(path, timeout=30, isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")
        unit = units[index % len(units)]

        def step() -> list[float]:
            began = time.perf_counter()
            connection.execute("BEGIN IMMEDIATE")
            cursor = connection.execute(
                "INSERT INTO disclosure_requests (received_on, applicant_type, summary, "
                "unit_code, channel, state, clock_start, due_on, extended_days, late_notice, "
                "revision, created_at, updated_at) VALUES ('2020-09-25', 'natural', ?, ?, "
                "'网络', 'open', '2020-09-25', '2020-10-29', 0, 0, 1, "
                "datetime('now'), datetime('now'))",
                ("申请公开某地块征收补偿方案", unit),
            )
            connection.execute("COMMIT")
            middle = time.perf_counter()
            connection.execute("BEGIN IMMEDIATE")
            connection.execute(
                'INSERT INTO disclosure_request_events (kind, "on", outcome, request_id, '
                "created_at) VALUES ('answered', '2020-10-20', 'granted', ?, datetime('now'))",
                (cursor.lastrowid,),
            )
            connection.execute(
                "UPDATE disclosure_requests SET state = 'answered', answered_on = '2020-10-20',"
                " closed_on = '2020-10-20', on_time = 1, outcome = 'granted', revision = "
                "revision + 1 WHERE id = ?",
                (cursor.lastrowid,),
            )
            connection.execute("COMMIT")
            end = time.perf_counter()
            return [(middle - began) * 1000, (end - middle) * 1000]

        return step

    raw_latencies = _clerks(raw_clerk)

    def summary(values: list[float]) -> dict[str, float]:
        return {
            "operations": len(values),
            "per_second": len(values) / DURATION,
            "p50": percentile(values, 0.50),
            "p99": percentile(values, 0.99),
        }

    return summary(app_latencies), summary(raw_latencies)


def build_city(url: str, units: list[str]) -> None:
    """REQUESTS applications received in YEAR over the units, plus last year's carried in."""
    from sqlalchemy import insert

    from app.db import make_engine
    from app.models.request import DisclosureRequest

    rng = random.Random(13)
    rows = []
    first = date(YEAR, 1, 1)
    for n in range(REQUESTS + REQUESTS // 50):
        carried = n >= REQUESTS
        received = (
            first - timedelta(days=rng.randint(1, 40))
            if carried
            else (first + timedelta(days=rng.randint(0, 364)))
        )
        closed = received + timedelta(days=rng.randint(0, 45))
        still_open = closed.year > YEAR or rng.random() < 0.02
        withdrawn = not still_open and rng.random() < 0.03
        rows.append(
            {
                "unit_code": units[n % len(units)],
                "received_on": received,
                "channel": "网络",
                "applicant_type": rng.choice(APPLICANTS),
                "summary": "申请公开某事项",
                "state": "open" if still_open else "withdrawn" if withdrawn else "answered",
                "clock_start": received,
                "due_on": received + timedelta(days=28),
                "extended_days": 0,
                "late_notice": False,
                "outcome": None if still_open or withdrawn else rng.choice(OUTCOMES),
                "answered_on": None if still_open or withdrawn else closed,
                "closed_on": None if still_open else closed,
                "on_time": None if still_open or withdrawn else closed <= received + timedelta(28),
            }
        )
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(insert(DisclosureRequest.__table__), rows)  # type: ignore[attr-defined]
    engine.dispose()


RAW_TABLE_THREE = """
SELECT unit_code, applicant_type, state, outcome,
       SUM(CASE WHEN received_on >= :first THEN 1 ELSE 0 END),
       SUM(CASE WHEN received_on < :first THEN 1 ELSE 0 END),
       SUM(CASE WHEN closed_on <= :last THEN 1 ELSE 0 END),
       SUM(CASE WHEN closed_on IS NULL OR closed_on > :last THEN 1 ELSE 0 END)
FROM disclosure_requests
WHERE unit_code IN ({units}) AND received_on <= :last
  AND (closed_on IS NULL OR closed_on >= :first)
GROUP BY unit_code, applicant_type, state, outcome
"""


def table_three(directory: Path) -> dict[str, float]:
    from sqlmodel import Session

    from app.db import make_engine
    from app.services import requests

    path = directory / "city.sqlite3"
    url = f"sqlite:///{path}"
    migrate_and_seed(url)
    units = _units(url)
    build_city(url, units)
    engine = make_engine(url)
    app_times: list[float] = []
    with Session(engine) as session:
        for _ in range(ROUNDS):
            began = time.perf_counter()
            tables = requests.table_three_many(session, units, YEAR, "2019")
            city = requests.sum_tables(tables.values(), "2019")
            app_times.append((time.perf_counter() - began) * 1000)
            session.rollback()
    engine.dispose()
    received = city["received"]["total"]
    balanced = all(
        city["received"][c] + city["carried_in"][c] == city["total"][c] + city["carried_out"][c]
        for c in city["received"]
    )
    connection = sqlite3.connect(path)
    sql = RAW_TABLE_THREE.format(units=",".join("?" * len(units)))
    sql = sql.replace(":first", f"'{YEAR}-01-01'").replace(":last", f"'{YEAR}-12-31'")
    raw_times: list[float] = []
    for _ in range(ROUNDS):
        began = time.perf_counter()
        connection.execute(sql, units).fetchall()
        raw_times.append((time.perf_counter() - began) * 1000)
    connection.close()
    return {
        "units": len(units),
        "received": received,
        "balanced": float(balanced),
        "app_ms": statistics.median(app_times),
        "raw_ms": statistics.median(raw_times),
    }


def main() -> str:
    with tempfile.TemporaryDirectory(prefix="gkml-bench-requests-") as name:
        directory = Path(name)
        city = table_three(directory)
        app, raw = writes(directory)
    ratio_three = city["app_ms"] / city["raw_ms"]
    lines = [
        "## Request register",
        "",
        f"Writes: {CLERKS} clerks at once for {DURATION:.0f} s, each registering an application"
        " and recording its answer, one after the other without pause (closed loop: every "
        "clerk waits only for the server). App: uvicorn, 1 worker, SQLite (WAL) on a "
        "temporary file; anchor: the same threads inserting the same rows straight into the "
        "same database with sqlite3. Each operation (create, event) is one sample. Goal: "
        "p99 < 20 ms.",
        "",
        "| what | operations | per second | p50 ms | p99 ms | p99 / anchor p99 |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
        f"| anchor: raw INSERTs (sqlite3) | {raw['operations']:,.0f} | {raw['per_second']:,.0f} "
        f"| {raw['p50']:.2f} | {raw['p99']:.2f} | 1 |",
        f"| app: POST requests / POST events | {app['operations']:,.0f} | "
        f"{app['per_second']:,.0f} | {app['p50']:.2f} | {app['p99']:.2f} | "
        f"**{app['p99'] / raw['p99']:.1f}×** |",
        "",
        f"Table 三 for a city: {city['units']:.0f} units, {city['received']:,.0f} applications "
        f"received in {YEAR} (plus 2 % carried in from {YEAR - 1}), SQLite; every unit's table "
        f"and their sum, median of {ROUNDS} runs, against the same aggregate as raw SQL over "
        "sqlite3. Goals: ≤ 50 ms and ≤ 2× raw.",
        "",
        "| what | ms | app / raw |",
        "| --- | ---: | ---: |",
        f"| raw SQL (sqlite3, rows fetched) | {city['raw_ms']:.1f} | 1 |",
        f"| `requests.table_three_many` + `sum_tables` | {city['app_ms']:.1f} | "
        f"**{ratio_three:.2f}×** |",
        "",
        f"The city's table balances: {'yes' if city['balanced'] else 'NO'}. Load average at "
        f"the end: {os.getloadavg()[0]:.1f} (other work shares this machine; compare ratios).",
        "",
        "Command: `python -m bench requests --write` (`BENCH_SECONDS`, `BENCH_ROUNDS`).",
        "",
        "What was found and fixed (2 December 2026; this machine, load 8-17 from other work):",
        "an application still open whose due date had passed had its `days_left` counted day "
        "by day since the due date through chinese-calendar (~50 µs a day: ~2,000 days, ~300 ms"
        " per response), inside the write transaction. Working days are now counted a year at "
        "a time from a per-year table: one create + answer pair, the services alone, 307 ms → "
        "50 ms. Writers of one process now queue on a lock before `BEGIN IMMEDIATE` (SQLite's "
        "busy handler polled with sleeps up to 100 ms, and 503s appeared); a write request reads"
        " its token before it takes the write lock, and the unit scope checks take no thread-"
        "pool hop. Before: 10 operations/s, p99 6,309 ms with 503 answers (anchor p99 5,118 ms "
        "in that run). The goal, p99 < 20 ms with 16 clerks in a closed loop, is not met here: "
        "the server's time per operation (~30 ms on this loaded machine) times 16 clerks "
        "waiting in turn is the latency. Left to do: fewer thread-pool hops per write (each "
        "sync dependency is one, and the write lock is held across them).",
    ]
    return "\n".join(lines)
