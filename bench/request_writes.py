"""The request register's writes: clerks registering applications and recording answers.

The app: uvicorn (1 or 2 workers) on a temporary SQLite file (WAL). The load: `bench.clerks`
in its own process (16 asyncio clerks over plain HTTP/1.1 keep-alive connections), so the
load generator never shares the server's interpreter. Two loads:

- closed loop: every clerk sends its next operation as soon as the last one is answered
  (no think time). A stress figure: 16 clerks that never pause keep 16 operations queued,
  so each waits for ~16 others: latency ≈ 16 × the server's time per operation.
- clerk model: every clerk pauses before each operation for an exponentially distributed
  time of mean THINK seconds, so each clerk's operations arrive as a Poisson process of
  1/THINK per second. A clerk registers a few applications an hour (a city's 50 units
  receive ~50,000 a year, ~4 per unit per working day); 1/THINK per second is thousands
  of times that, so this is still a heavy load, but one where clerks act independently.

The anchor, in the same run and under the same two loads: CLERKS threads inserting the same
rows straight into the same database file with sqlite3 (one transaction per operation). The
server's CPU time (all its processes, from /proc) is divided by the operations it served.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.harness import ROOT, free_port, migrate_and_seed, started

CLERKS = 16
DURATION = float(os.environ.get("BENCH_SECONDS", "10"))
THINK = 0.5
"""Mean pause (s) before each operation in the clerk model: 2 operations/s per clerk."""
WORKERS = (1, 2)
TICK = os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def _tree(pid: int) -> list[int]:
    """pid and its descendants (uvicorn's worker processes)."""
    found = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return found
    for child in children:
        found += _tree(int(child))
    return found


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its descendants so far."""
    total = 0
    for each in _tree(pid):
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICK


def _units(url: str) -> list[str]:
    from sqlmodel import Session, col, select

    from app.db import make_engine
    from app.models.unit import Unit

    engine = make_engine(url)
    with Session(engine) as session:
        codes = session.exec(
            select(col(Unit.code)).where(col(Unit.kind).in_(["street", "town"]))
        ).all()
    engine.dispose()
    return sorted(codes)[:CLERKS]


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


def summary(values: list[float], elapsed: float, cpu: float | None = None) -> dict[str, Any]:
    return {
        "operations": len(values),
        "per_second": len(values) / elapsed,
        "p50": percentile(values, 0.50),
        "p99": percentile(values, 0.99),
        "cpu_ms": None if cpu is None else cpu / max(1, len(values)) * 1000,
    }


def app_run(
    directory: Path, url: str, spec: dict[str, Any], workers: int, think: float
) -> dict[str, Any]:
    port = free_port()
    path = directory / f"clerks-{workers}-{think}.json"
    path.write_text(json.dumps(spec | {"port": port, "think": think}), encoding="utf-8")
    env = {"DATABASE_URL": url}
    with started("app.main:app", port, env, workers=workers, wait=180) as (_, server):
        time.sleep(1.0 if workers > 1 else 0.2)  # every worker up
        clerks = subprocess.Popen(
            [sys.executable, "-m", "bench.clerks", str(path)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert clerks.stdin is not None
        assert clerks.stdout is not None
        assert clerks.stdout.readline().strip() == "ready"  # connected and warmed up
        before = cpu_seconds(server.pid)
        out, _ = clerks.communicate("go\n")
        cpu = cpu_seconds(server.pid) - before
        assert clerks.returncode == 0, out
    result = json.loads(out)
    return summary(result["latencies"], result["elapsed"], cpu) | {
        "client_cpu_ms": result["client_cpu"] / max(1, len(result["latencies"])) * 1000
    }


def anchor_run(path: Path, units: list[str], think: float) -> dict[str, Any]:
    """CLERKS threads inserting the same rows with sqlite3, under the same load."""
    results: list[list[float]] = [[] for _ in range(CLERKS)]
    start = threading.Barrier(CLERKS)

    def run(index: int) -> None:
        rng = random.Random(index)
        connection = sqlite3.connect(path, timeout=30, isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        unit = units[index % len(units)]
        pause: Callable[[], None] = (
            (lambda: time.sleep(rng.expovariate(1 / think))) if think else (lambda: None)
        )
        start.wait()
        stop = time.monotonic() + DURATION
        while True:
            pause()
            if time.monotonic() >= stop:
                break
            began = time.perf_counter()
            connection.execute("BEGIN IMMEDIATE")
            cursor = connection.execute(
                "INSERT INTO disclosure_requests (received_on, applicant_type, summary, "
                "unit_code, channel, state, clock_start, due_on, extended_days, late_notice, "
                "received_year, revision, created_at, updated_at) VALUES ('2020-09-25', "
                "'natural', ?, ?, '网络', 'open', '2020-09-25', '2020-10-29', 0, 0, 2020, 1, "
                "datetime('now'), datetime('now'))",
                ("申请公开某地块征收补偿方案", unit),
            )
            connection.execute("COMMIT")
            middle = time.perf_counter()
            pause()
            event_began = time.perf_counter()
            connection.execute("BEGIN IMMEDIATE")
            connection.execute(
                'INSERT INTO disclosure_request_events (kind, "on", outcome, request_id, '
                "created_at) VALUES ('answered', '2020-10-20', 'granted', ?, datetime('now'))",
                (cursor.lastrowid,),
            )
            connection.execute(
                "UPDATE disclosure_requests SET state = 'answered', answered_on = '2020-10-20',"
                " closed_on = '2020-10-20', on_time = 1, outcome = 'granted', closed_year = "
                "2020, report_row = 'granted', revision = revision + 1 WHERE id = ?",
                (cursor.lastrowid,),
            )
            connection.execute("COMMIT")
            end = time.perf_counter()
            results[index] += [(middle - began) * 1000, (end - event_began) * 1000]
        connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(CLERKS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return summary([v for values in results for v in values], DURATION)


LOADS = (("closed loop", 0.0), ("clerk model", THINK))


def writes(directory: Path) -> list[tuple[str, str, dict[str, Any]]]:
    """Rows (load, what, figures): per load, the anchor then the app with 1 and 2 workers."""
    path = directory / "writes.sqlite3"
    url = f"sqlite:///{path}"
    migrate_and_seed(url)
    units = _units(url)
    spec = {
        "host": "127.0.0.1",
        "clerks": CLERKS,
        "seconds": DURATION,
        "units": units,
        "tokens": _tokens(url, units),
    }
    rows = []
    for load, think in LOADS:
        rows.append(
            (load, "anchor: raw INSERTs (sqlite3, 16 threads)", anchor_run(path, units, think))
        )
        for workers in WORKERS:
            label = f"app: uvicorn, {workers} worker{'s' if workers > 1 else ''}"
            rows.append((load, label, app_run(directory, url, spec, workers, think)))
    return rows


def table(rows: list[tuple[str, str, dict[str, Any]]]) -> list[str]:
    anchors = {load: figures["p99"] for load, what, figures in rows if what.startswith("anchor")}
    lines = [
        "| load | what | operations | per second | p50 ms | p99 ms | p99 / anchor p99 "
        "| server CPU ms / op | client CPU ms / op |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for load, what, f in rows:
        ratio = "1" if what.startswith("anchor") else f"**{f['p99'] / anchors[load]:.1f}×**"
        cpu = "–" if f["cpu_ms"] is None else f"{f['cpu_ms']:.2f}"
        client = f"{f['client_cpu_ms']:.2f}" if "client_cpu_ms" in f else "–"
        lines.append(
            f"| {load} | {what} | {f['operations']:,} | {f['per_second']:,.0f} | "
            f"{f['p50']:.2f} | {f['p99']:.2f} | {ratio} | {cpu} | {client} |"
        )
    return lines


GOAL_MS = 20.0


def write_lines(rows: list[tuple[str, str, dict[str, Any]]]) -> list[str]:
    """The writes part of the "Request register" section: the model, the table, the verdict."""
    judged = next(
        f for load, what, f in rows if load == "clerk model" and what.endswith("1 worker")
    )
    closed = next(
        f for load, what, f in rows if load == "closed loop" and what.endswith("1 worker")
    )
    met = judged["p99"] < GOAL_MS
    return [
        f"Writes: {CLERKS} clerks, each registering an application (`POST /units/{{unit}}/"
        "requests`) and then recording its answer (`POST /requests/{id}/events` with If-Match),"
        f" again and again for {DURATION:.0f} s; each operation is one sample. The clerks are"
        " asyncio tasks in a process of their own (`bench/clerks.py`: plain HTTP/1.1 on a "
        "keep-alive connection each), so the load generator never shares the server's "
        "interpreter; each clerk makes one warm-up pair first, not counted. App: uvicorn with "
        "1 and with 2 workers on a temporary SQLite file (WAL). Server CPU: the CPU time of "
        "all the server's processes during the run (from /proc) over the operations served. "
        "Anchor, in the same run and under the same load: 16 threads inserting the same rows "
        "straight into the same database with sqlite3, one transaction per operation.",
        "",
        "Two loads. **Closed loop**: each clerk sends its next operation the moment the last "
        "is answered (no think time), a stress figure: 16 clerks that never pause keep 16 "
        "operations in the server at once, so each waits behind ~15 others and the latency "
        "is about 16 × the server's CPU per operation. **Clerk model**: before each operation"
        f" a clerk pauses for an exponentially distributed time of mean {THINK:g} s, so each"
        f" clerk's operations arrive as a Poisson process of {1 / THINK:g} per second "
        f"({CLERKS / THINK:g} per second in all). A real clerk registers a few applications an"
        " hour (a city's 50 units receive ~50,000 a year, ~4 per unit per working day); this "
        "is thousands of times faster, but the clerks act independently, as 16 clerks do.",
        "",
        *table(rows),
        "",
        f"The goal (p99 < {GOAL_MS:g} ms at 16 concurrent clerks) is judged on the clerk model"
        " with 1 worker (the default `WORKERS`): p99 "
        f"{judged['p99']:.1f} ms, **{'met' if met else 'not met'}** in this run. The closed "
        f"loop's p99 ({closed['p99']:.0f} ms) is reported as a stress figure; it would meet"
        " the goal only if the server's time per operation were below "
        f"{GOAL_MS / CLERKS:.2f} ms ({GOAL_MS:g} ms / {CLERKS} clerks waiting in turn). Where "
        "the machine is shared, the server's CPU per operation is the figure to follow: "
        "the latencies also count every wait for a core.",
        "",
        f"Writes run: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; load average at the end: "
        f"{os.getloadavg()[0]:.1f} (other work shares these 2 cores; the anchor ran in the same"
        " minutes). Command: `python -m bench.request_writes` (the writes alone; `python -m "
        "bench requests --write` runs them with table 三); `BENCH_SECONDS` sets each run's "
        "length (default 10).",
    ]


WRITES_FINDINGS = [
    "What was found and fixed in the write path, second pass (3 December 2026): a profile "
    "of one clerk's create and event pairs driven straight through the ASGI app (py-spy and"
    " yappi, CPU time) put most of the worker threads' time in SQLAlchemy's ORM, not in the"
    " SQL: the unit of work's flush and commit of the row, the event and the history row; "
    "each statement built again with its cache key on every call; the token, the unit and "
    "the request loaded as ORM objects (86 µs for the token, 25 µs as a Core row); the "
    "calendar called its year loader for every day a due date counted (68,000 calls for "
    "2,000 due dates); and the clock replayed twice per write (for the row, then for the "
    "answer). Now the two writes are Core statements built once at import on the session's "
    "connection (the row's INSERT; the row lock's SELECT, the events, the event's INSERT "
    "and the row's UPDATE checking the revision; `history.write` for the history row), the "
    "derived columns still from the one `requests.store`; the token is read with one Core "
    "statement; the calendar reads a year's stamps once; the answer reuses the write's "
    "clock; the checks run in one hop through shared dependencies "
    "(`deps.checked_in_one_hop`, `deps.unit_write`). Same 8.5 statements per operation, "
    "same answers and history rows. CPU per operation, one clerk in-process: 3.8-4.4 ms "
    "before, 2.4-2.6 ms after. Server CPU per operation under the clerk model (1 worker, 10"
    " s, runs alternated with the code before in the same minutes, load 6-9): 5.8, 6.1, 5.9"
    " ms before, 3.9, 3.9, 4.4 ms after; the worker threads' share fell from 4.1-4.2 to "
    "2.0-2.5 ms, the event loop's stayed at 1.4-1.5 ms (uvicorn, the middleware, FastAPI's "
    "routing through some 80 routes and its dependency solving, the two hops' hand-offs), "
    "which is now the larger part of what is left. The latencies of those runs say nothing "
    "(load 6-9); in runs at load 2.3-3.1 while the work was under way, the clerk-model p99 "
    "was 19.2, 19.4 and 37.2 ms with the Core writes (22.0 and 101.4 ms before). On a quiet "
    "machine (load about 1, three runs of the whole bench between 09:26 and 10:01 UTC, the "
    "last one the table above), the clerk-model p99 with 1 worker was 11.9, 15.9 and 10.3 ms "
    "(server CPU 4.5, 4.4 and 4.1 ms per operation): under the goal. The closed loop on 2 "
    "workers keeps a long tail (p99 0.7-1.2 s in those runs): "
    "its two processes contend for SQLite's one write lock through SQLite's busy handler, "
    "which sleeps between retries, where one worker's writers queue in-process on a lock.",
    "",
    "Before that (3 December 2026): a write took 6 to 7 thread-pool hops (each sync "
    "dependency is one, and the response's validation another), holding SQLite's write lock"
    " across most of them, ran 13.5 statements per operation (the calendar read a year at a"
    " time, up to 7 queries to count an old application's days left; the events and the "
    "calendar read again after the write) and the create read its token after taking the "
    "lock. Now the token, the unit scope, the request row and If-Match are read in one hop "
    "in a read-only transaction, and the write (calendar in one query, insert, history, the"
    " answer built from memory) in a second hop that commits and frees the lock before the "
    "answer is serialised: 2 hops, 8.5 statements. CPU per operation, one clerk at a time, "
    "app and client in one process (runs alternated, load 4-9): 10.6-11.5 ms before, "
    "6.0-8.0 ms after. Two races on PostgreSQL, each with a test in "
    "tests/test_requests_concurrency.py: a clerk whose If-Match was current when checked "
    "but who lost the race to another clerk's event got 422 (judged against the winner's "
    "event) instead of 412; two clerks registering one reference at once got a 500 instead "
    "of a 409.",
    "",
    "Found and fixed before (2 December 2026): an application still open whose due date had"
    " passed had its `days_left` counted day by day through chinese-calendar (~50 µs a day,"
    " ~300 ms per response), inside the write transaction; working days are now counted a "
    "year at a time. Writers of one process queue on a lock before `BEGIN IMMEDIATE` "
    "(SQLite's busy handler polled with sleeps up to 100 ms, and 503s appeared).",
    "",
    "Then (3 December, a quiet machine, load about 1): a profile of the server under 4 "
    "clerks put a fifth of its samples under the write's calendar read, mostly the wait for"
    " SQLite's write lock that the write's first query takes, but also the loaded years' "
    "days read again on every write; those are now kept in the worker's memory by (year, "
    "revision, time loaded) and only the years' stamps are read. Server CPU per operation: "
    "9.1 ms in the run before (clerk-model p99 28.0 ms), 8.0 and 9.5 ms in two runs after "
    "(p99 24.6 and 32.8 ms): the gain is within this machine's run-to-run noise and the p99"
    " stays above 20 ms. What is left is spread out: the ORM's flush and commit, FastAPI's "
    "routing and dependencies, the history row (the second pass above took the ORM out of "
    "the writes).",
]


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory(prefix="gkml-bench-writes-") as name:
        found = writes(Path(name))
    print("\n".join([*write_lines(found), "", *WRITES_FINDINGS]))
