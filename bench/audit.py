"""The audit endpoints against the raw aggregate SQL they need, in the same run.

City scale (50 units, ~60,000 items) on SQLite, always; national scale (40,000 units,
~5,000,000 items, ~10,000,000 disclosure records; BENCH_NATION=0 skips it) on PostgreSQL
when BENCH_PG_URL (default: the local `bench_audit` database) answers; the nation also
times the timeliness audit against the raw aggregate of its page. Datasets come from
bench/audit_data.py (resumable; the national one takes about 15 minutes the first time).
The endpoint runs in-process (TestClient), so the figures include routing, auth, every SQL
statement, scoring and JSON, not the network.
"""

from __future__ import annotations

import os
import statistics
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.db import make_engine
from app.main import app
from app.models.unit import Unit
from app.services import audit
from bench.audit_data import CITY, NATION, Shape, add_records, generate
from bench.harness import bearer, bench_clock, in_process, median_ms

DATA = Path(__file__).resolve().parent / ".data"
CITY_URL = f"sqlite:///{DATA / 'city.sqlite3'}"
PG_URL = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/bench_audit")
AS_OF = date(2021, 1, 1)
TIMELINESS_AS_OF = date(2021, 1, 10)
"""As the records bench: the fourth quarter's records were due by 2020-12-31."""
RUNS = int(os.environ.get("BENCH_RUNS", "7"))
CPU = os.environ.get("BENCH_CLOCK", "wall") == "cpu"
clock = bench_clock("wall")
"""BENCH_CLOCK=cpu: the process's CPU time (every thread, SQLite included) instead of wall
time, for a machine others load: a request's wall time there is mostly waiting for a core."""


def _median_ms(run: Callable[[], object], runs: int) -> float:
    return median_ms(run, runs, clock=clock)


def _client(engine: Engine) -> tuple[TestClient, dict[str, str]]:
    """A client of the app as served (bench.harness)."""
    return in_process(engine), bearer(engine, "auditor")


Result = tuple[str, float | None, float | None, float | None]
"""(label, endpoint ms, ms of every statement it runs, ms of its aggregate alone): None
leaves the cell empty."""


def _write(engine: Engine) -> None:
    """A committed write, so that the request after it is cold: SQLite drops every other
    connection's page cache when the file changes; nothing cached in the process may answer."""
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "UPDATE catalogues SET revision = revision + 1 "
                "WHERE id = (SELECT min(id) FROM catalogues)"
            )
        )


def _cold_median_ms(engine: Engine, run: Callable[[], object], runs: int) -> float:
    run()  # warm: plans, compiled statements
    times = []
    for _ in range(runs):
        _write(engine)
        started = clock()
        run()
        times.append((clock() - started) * 1000)
    return statistics.median(times)


def _sql(engine: Engine, raw: Any, runs: int) -> float:
    def sql() -> None:
        with engine.connect() as connection:
            connection.execute(raw).all()
            connection.commit()

    return _cold_median_ms(engine, sql, runs)


def _statements(engine: Engine, request: Callable[[], object]) -> list[tuple[str, Any]]:
    """The SQL text and parameters of every statement one request runs."""
    seen: list[tuple[str, Any]] = []

    def record(_c: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        request()
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    return seen


def _replay(engine: Engine, statements: list[tuple[str, Any]], runs: int) -> float:
    """Every statement run on the driver's own cursor and fetched: the SQL the request needs,
    without SQLAlchemy or the app."""

    def replay() -> None:
        with engine.connect() as connection:
            cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
            for statement, parameters in statements:
                cursor.execute(statement, parameters)
                if cursor.description is not None:
                    cursor.fetchall()
            connection.rollback()

    return _cold_median_ms(engine, replay, runs)


FIRST: dict[str, float] = {}
"""ms of each case's first request in the process (nothing of its answer remembered yet)."""
WARM: dict[str, float] = {}
"""ms of each case's request repeated with nothing written in between (median)."""


def _case(
    engine: Engine,
    client: TestClient,
    headers: dict[str, str],
    label: str,
    path: str,
    params: dict[str, str],
    raw: Any,
    runs: int,
) -> Result:
    def endpoint() -> None:
        response = client.get(path, params=params, headers=headers)
        assert response.status_code == 200, response.text

    started = clock()
    endpoint()
    FIRST[label] = (clock() - started) * 1000
    statements = _statements(engine, endpoint)
    WARM[label] = _median_ms(endpoint, runs)
    return (
        label,
        _cold_median_ms(engine, endpoint, runs),
        _replay(engine, statements, runs),
        _sql(engine, raw, runs),
    )


TIMELINESS_PAGE = 100
"""Units per page of the timeliness report (the route's default)."""


def timeliness_aggregate(as_of: date, first: int | None = TIMELINESS_PAGE) -> Any:
    """The raw aggregate SQL behind a page of the timeliness report: per unit × domain of the
    first `first` units with a version published by as_of (every unit: None), its published
    catalogue's items, their records by state and its blank items, over the base tables
    (items, records) with no stored count, no memory and no Python."""
    page = (
        "SELECT u.code FROM units u WHERE EXISTS (SELECT 1 FROM catalogue_versions v "
        "WHERE v.unit_code = u.code AND v.published_on <= :as_of) ORDER BY u.code LIMIT :first"
        if first is not None
        else "SELECT DISTINCT unit_code FROM catalogue_versions WHERE published_on <= :as_of"
    )
    sql = f"""SELECT c.unit_code, c.domain_code, count(DISTINCT i.id) AS items,
  count(r.id) AS records, coalesce(sum(CASE WHEN r.state = 'on_time' THEN 1 END), 0),
  coalesce(sum(CASE WHEN r.state = 'late' THEN 1 END), 0),
  coalesce(sum(CASE WHEN r.state = 'unknown' THEN 1 END), 0),
  count(DISTINCT i.id) FILTER (WHERE r.id IS NULL AND i.method = '主动') AS blank,
  max(r.formed_on)
FROM catalogues c
JOIN items i ON i.catalogue_id = c.id
LEFT JOIN records r ON r.catalogue_id = i.catalogue_id AND r.item_id = i.id
  AND r.deleted_at IS NULL AND r.published_on <= :as_of
WHERE c.unit_code IN ({page}) AND EXISTS (SELECT 1 FROM catalogue_versions v
  WHERE v.catalogue_id = c.id AND v.published_on <= :as_of)
GROUP BY c.unit_code, c.domain_code"""
    query = sa.text(sql).bindparams(as_of=as_of)
    return query.bindparams(first=first) if first is not None else query


def _measure(url: str, shape: Shape, district: str, runs: int) -> list[Result]:
    generate(url, shape, quiet=True)
    if shape.timeliness:
        add_records(url, shape, quiet=True)
    engine = make_engine(url)
    client, headers = _client(engine)
    client.__enter__()
    with Session(engine, expire_on_commit=False) as session:
        district_unit = session.get(Unit, district)
        session.commit()  # SQLite: release the (IMMEDIATE) transaction before the requests
    whole = audit.Scope(as_of=AS_OF)
    one = audit.Scope(as_of=AS_OF, district=district_unit)
    with engine.connect() as connection:
        units = connection.execute(
            sa.select(sa.func.count())
            .select_from(audit.units_t)
            .where(audit.units_t.c.kind.in_(["district", "street", "town"]))
        ).scalar_one()
        items = connection.execute(
            sa.select(sa.func.count()).select_from(audit.items_t)
        ).scalar_one()
        records_count = (
            connection.execute(sa.text("SELECT count(*) FROM records")).scalar_one()
            if shape.timeliness
            else 0
        )
        connection.commit()
    base = {"as_of": AS_OF.isoformat()}
    try:
        cases = [
            _case(
                engine,
                client,
                headers,
                f"completeness, all {units:,} units (first 100 units' rows; ranking of all)",
                "/api/v1/audit/completeness",
                base,
                audit.unit_aggregate(whole),
                runs,
            ),
            _case(
                engine,
                client,
                headers,
                f"completeness, one district ({district})",
                "/api/v1/audit/completeness",
                {**base, "district": district},
                audit.unit_aggregate(one),
                runs,
            ),
            _case(
                engine,
                client,
                headers,
                f"statistics, all {units:,} units (first 1,000 units; levels of all)",
                "/api/v1/audit/statistics",
                base,
                audit.statistics_query(whole),
                runs,
            ),
            (
                "reference: the completeness aggregate over the base tables (items, guide, "
                "waivers, versions), as the endpoint ran it before the counts were stored",
                None,
                None,
                _sql(engine, audit.unit_aggregate_from_items(whole), max(1, runs // 2)),
            ),
        ]
        if shape.timeliness:
            cases.append(
                _case(
                    engine,
                    client,
                    headers,
                    f"timeliness, all {units:,} units (first {TIMELINESS_PAGE} units' rows "
                    f"and lists), {records_count:,} records",
                    "/api/v1/audit/timeliness",
                    {**base, "as_of": TIMELINESS_AS_OF.isoformat()},
                    timeliness_aggregate(TIMELINESS_AS_OF),
                    runs,
                )
            )
            cases.append(
                (
                    "reference: the timeliness aggregate of every unit (all records)",
                    None,
                    None,
                    _sql(engine, timeliness_aggregate(TIMELINESS_AS_OF, None), 1),
                )
            )
        cases += [
            (f"{label.split(' (')[0]}: first request of the process", ms, None, None)
            for label, ms in FIRST.items()
            if shape.timeliness and not label.startswith("statistics")
        ]
        cases += [
            (f"{label.split(' (')[0]}: repeated, nothing written in between", ms, None, None)
            for label, ms in WARM.items()
            if shape.timeliness and not label.startswith("statistics")
        ]
        FIRST.clear()
        WARM.clear()
    finally:
        client.__exit__(None, None, None)
        app.dependency_overrides.clear()
        engine.dispose()
    return [(f"{shape.name}: {label}", e, r, a) for label, e, r, a in cases] + [
        (f"{shape.name} dataset: {units:,} units, {items:,} items", None, None, None)
    ]


def _pg_available() -> bool:
    try:
        engine = make_engine(PG_URL)
        with engine.connect():
            pass
        engine.dispose()
    except Exception:
        return False
    return True


NATIONAL_NOTES = (
    'National rows: "first request of the process" is the first call in a fresh process, '
    'before anything of the answer is kept in memory; "repeated" the median of the same '
    "request with nothing written in between. The timeliness aggregate "
    "(`bench.audit.timeliness_aggregate`) is, per unit × domain of the page's 100 units (those "
    "with a version published by `as_of` 2021-01-10, in code order), the published "
    "catalogues' items joined to their records (published by `as_of`, live) and grouped, over "
    "the base tables (no stored count, no memory); the endpoint answers a page of units, as "
    "the contract pages it, and its own SQL reads the per-item stored counts. The whole "
    "nation's timeliness aggregate is the reference row. National completeness after a write "
    "in scope: most of the request reads the 259,717 versions in scope with their revisions "
    "and record stamps to find what changed (one statement, 260,000 rows to Python; "
    'docs/audit.md "Timeliness"); its "all its SQL" replays a request with nothing '
    "written before it, so that ratio understates the SQL of a request after a write. "
    "Before (3 December, load 17, the timeliness rows thrashing their cache): 44 s on every "
    "request."
)


def main() -> str:
    DATA.mkdir(exist_ok=True)
    results = _measure(CITY_URL, CITY, "350206", RUNS)
    national = os.environ.get("BENCH_NATION", "1") != "0" and _pg_available()
    if national:
        results += _measure(PG_URL, NATION, "BD00000", max(3, RUNS // 2))
    lines = [
        "## Audit",
        "",
        "`GET /api/v1/audit/completeness` and `/statistics` in-process (auth, every SQL "
        "statement, scoring, JSON), each request cold: right after a committed write (which "
        "also drops SQLite's page cache of every other connection). Against it, in the same "
        "run and also after a write each: every statement the request runs, replayed on the "
        "driver's own cursor and fetched (the SQL it needs, without SQLAlchemy or Python "
        "work), and its aggregate alone (`audit.unit_aggregate` over the per-catalogue "
        "counts stored on write; `audit.statistics_query`). Medians after a warm-up run. The "
        "reference row times the completeness aggregate computed from the base tables "
        "(`audit.unit_aggregate_from_items`). City: SQLite; nation: PostgreSQL. Data: "
        "`python -m bench.audit_data city|nation URL`.",
        "",
        f"Clock: {'CPU time of the process (BENCH_CLOCK=cpu)' if CPU else 'wall time'}.",
        "",
        "| case | endpoint ms | all its SQL ms | endpoint / SQL | aggregate SQL ms |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for label, endpoint, every, aggregate in results:
        cells = [f"{v:.1f}" if v is not None else "" for v in (endpoint, every, aggregate)]
        ratio = f"{endpoint / every:.2f}" if endpoint is not None and every else ""
        lines.append(f"| {label} | {cells[0]} | {cells[1]} | {ratio} | {cells[2]} |")
    found = {
        label.split(" (")[0]: (e, r or 0.0, a or 0.0)
        for label, e, r, a in results
        if e is not None and r and a
    }
    city = next((v for k, v in found.items() if k.startswith("city: completeness, all")), None)
    if city is not None:
        e, r, _ = city
        met = e <= 30 and e <= 3 * r
        lines += [
            "",
            f"Goal, city completeness of every unit, cold: ≤ 30 ms and ≤ 3× its SQL: "
            f"{'met' if met else 'not met'} ({e:.1f} ms, {e / r:.2f}×).",
        ]
    stats = next((v for k, v in found.items() if k.startswith("nation: statistics")), None)
    if stats is not None:
        lines.append(
            f"Goal, national statistics ≤ 1 s: {'met' if stats[0] <= 1000 else 'not met'} "
            f"({stats[0] / 1000:.2f} s)."
        )
    timely = next((v for k, v in found.items() if k.startswith("nation: timeliness, all")), None)
    if timely is not None:
        e, r, a = timely
        lines.append(
            f"Goal, national timeliness ≤ 1 s and ≤ 2× its raw aggregate SQL (the page's): "
            f"{'met' if e <= 1000 and e <= 2 * a else 'not met'} ({e / 1000:.2f} s, "
            f"{e / a:.2f}× the page's aggregate over the base tables, {e / r:.2f}× the SQL "
            f"the endpoint itself runs over the stored counts)."
        )
    nation = next((v for k, v in found.items() if k.startswith("nation: completeness, all")), None)
    if nation is not None:
        e, _, a = nation
        lines.append(
            f"Goal, national completeness < 5 s and ≤ 2× its aggregate: "
            f"{'met' if e < 5000 and e <= 2 * a else 'not met'} ({e / 1000:.2f} s, {e / a:.2f}×)."
        )
    if national:
        lines += ["", NATIONAL_NOTES]
    else:
        lines += ["", f"National scale skipped (BENCH_NATION=0 or no PostgreSQL at {PG_URL})."]
    lines += ["", f"Load average at the end: {os.getloadavg()[0]:.1f}."]
    lines += [
        "",
        "Datasets: `python -m bench.audit_data city sqlite:///bench/.data/city.sqlite3` (5 s) "
        "and `python -m bench.audit_data nation "
        "postgresql+psycopg://postgres@127.0.0.1:5432/bench_audit` (about 5 minutes on this "
        "machine for the units, catalogues and items: COPY, one district per transaction with "
        "its catalogues' stored counts recomputed and, for the nation, its versions' snapshots; "
        "then about 9 minutes for 9.8 M disclosure records: INSERT … SELECT over "
        "generate_series, 50 districts a transaction, verdicts from the app's records.judge, "
        "stored counts by records.recount_catalogues; resumable; then VACUUM ANALYZE). The "
        "nation has 40,044 audited units (2,850 synthetic districts, 37,150 streets and towns, "
        "and Xiamen's 44 from the seed), 4.89 M items (the random shares land a little under "
        "5 M) and 9.77 M records on the 3.2 M items of its 259,717 published catalogues. "
        "Before the counts were stored (7de608f): city all units 440 ms, nation all units "
        "12.7 s against 7.0 s of raw SQL. Before the statements were compiled once per "
        "shape and run on the driver "
        "(83916f9), timed alternately with the current code in one process on the city, "
        "cold: completeness 1.7× the wall time of now (224 against 131 ms, load 2; 1.4× the "
        "CPU time at load 15), statistics 3.2×; on a partial nation (18,820 units, "
        "PostgreSQL, 2 runs each) the statistics took 1.9-2.3 s then, 0.7-1.1 s now, their "
        "statement 1.0-1.2 s (grouped by the units' columns) or 0.5-0.6 s (an anti-join for "
        "the latest versions, summed per unit) now. "
        "Before the lacking items and guide gaps were stored per catalogue (catalogue_lists) "
        "and the timeliness components added (3baa442), on a quiet machine (load 0.3, wall "
        "time): city completeness of every unit 62.2 ms against 39.9 ms of SQL (1.56×), one "
        "district 27.0 ms against 8.3 ms; by statement, cold: page rows 5.3, lacking items "
        "7.5, guide gaps 11.0, milestone states 5.0, aggregate 1.1 ms. "
        'Where the time goes: docs/audit.md, "Cost".',
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(main())
