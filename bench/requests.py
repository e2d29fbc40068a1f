"""The request register: clerks writing (create + event) and table 三 for a city.

Writes: bench/request_writes.py (the load in its own process, bench/clerks.py).

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
import time
from datetime import date, timedelta
from pathlib import Path

from bench import request_writes
from bench.publish import migrate_and_seed
from bench.request_writes import WRITES_FINDINGS, write_lines

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "15"))
UNITS = 50
REQUESTS = 50_000
YEAR = 2020
OUTCOMES = ("granted", "partial", "refused_process", "unable_not_held", "ignored_repeat")
APPLICANTS = ("natural", "natural", "natural", "business", "legal", "other_org")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


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
        writes_rows = request_writes.writes(directory)
    ratio_three = city["app_ms"] / city["raw_ms"]
    lines = [
        "## Request register",
        "",
        *write_lines(writes_rows),
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
        *WRITES_FINDINGS,
    ]
    return "\n".join(lines)
