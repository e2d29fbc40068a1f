"""What every bench shares: the clock, medians, the app in-process, and uvicorn + wrk.

In-process benches (`in_process`, `bearer`, `median_ms`) measure the app through
TestClient on a database of their own; served benches (`started`, `server`, `wrk`,
`interleaved`) run uvicorn on 127.0.0.1 and load it with wrk against an anchor in the same
run. App modules are imported where they are used, so a served bench's process never
opens the app's database itself.
"""

from __future__ import annotations

import os
import re
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from fastapi.testclient import TestClient
    from sqlalchemy.engine import Engine

ROOT = Path(__file__).resolve().parent.parent
CONNECTIONS = 32
THREADS = 2
DURATION = int(os.environ.get("BENCH_SECONDS", "5"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
WRK = f"wrk -t{THREADS} -c{CONNECTIONS} -d{DURATION}s --latency"
"""How each load runs, as the tables say it."""


# ---- in-process ------------------------------------------------------------------------


def bench_clock(default: str) -> Callable[[], float]:
    """BENCH_CLOCK=cpu: the process's CPU time (every thread, SQLite included), which a
    machine others load does not inflate; BENCH_CLOCK=wall: wall time. `default` when unset."""
    cpu = os.environ.get("BENCH_CLOCK", default) == "cpu"
    return time.process_time if cpu else time.perf_counter


def median_ms(run: Callable[[], object], runs: int, *, clock: Callable[[], float]) -> float:
    """The median of `runs` timed calls, in milliseconds, after one warm-up call."""
    run()  # warm: caches, plans, pages
    times = []
    for _ in range(runs):
        started = clock()
        run()
        times.append((clock() - started) * 1000)
    return statistics.median(times)


def in_process(engine: Engine) -> TestClient:
    """A client of the app on `engine`, each request in a session that commits, as served.

    The app's own get_session is made to open its sessions on `engine` (get_engine's cache
    holds it), not replaced by a dependency override: while any override is installed,
    FastAPI rebuilds every dependency of a route on each request (get_dependant, pydantic
    adapters), about 4 ms of an audit request that a served app never pays.

    Not entered: enter it (`with`) where the app's lifespan (start-up) must run."""
    from unittest import mock

    from fastapi.testclient import TestClient

    from app import db
    from app.main import app

    app.dependency_overrides.pop(db.get_session, None)
    db.get_engine.cache_clear()
    with mock.patch.object(db, "make_engine", return_value=engine):
        assert db.get_engine() is engine
    return TestClient(app)


def bearer(
    engine: Engine, role: str, *, unit_code: str | None = None, label: str = "bench"
) -> dict[str, str]:
    """The Authorization header of a new token (committed) for `role` (in `unit_code`)."""
    from sqlmodel import Session

    from app import auth
    from app.models.common import Role

    with Session(engine) as session:
        _, secret = auth.create_token(session, role=Role(role), unit_code=unit_code, label=label)
        session.commit()
    return {"Authorization": f"Bearer {secret}"}


# ---- served: uvicorn and wrk -------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    rps: float
    p50_ms: float
    p99_ms: float
    bad: int


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def migrate_and_seed(url: str) -> None:
    env = os.environ | {"DATABASE_URL": url}
    for command in ("migrate", "seed"):
        subprocess.run([sys.executable, "-m", "app", command], cwd=ROOT, env=env, check=True)


@contextmanager
def started(
    app: str, port: int, env: dict[str, str], workers: int = 1, wait: float = 30
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """uvicorn serving app on 127.0.0.1:port (1 worker: the process is the server; more: it
    supervises that many worker processes); `wait` seconds at most for it to answer."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            app,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=os.environ | env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                httpx.get(f"{base}/docs", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"{app} did not start") from None
                time.sleep(0.1)
        yield base, process
    finally:
        process.terminate()
        process.wait(timeout=10)


@contextmanager
def server(app: str, port: int, env: dict[str, str]) -> Iterator[str]:
    with started(app, port, env) as (base, _process):
        yield base


_LATENCY = re.compile(r"^\s*(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.M)
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(url: str, header: str | None = None) -> Result:
    command = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{DURATION}s", "--latency", url]
    if header:
        command[1:1] = ["-H", header]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    latency = {p: float(v) * _UNITS[u] for p, v, u in _LATENCY.findall(out)}
    bad_match = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    if errors:
        print(f"  {url}: {errors.group(0)}", file=sys.stderr)
    return Result(rps, latency["50"], latency["99"], int(bad_match.group(1)) if bad_match else 0)


def median(results: list[Result]) -> Result:
    """The run with the median throughput (its own latencies, not a mix of runs)."""
    return sorted(results, key=lambda r: r.rps)[len(results) // 2]


def interleaved(cases: list[tuple[str, str, str | None]]) -> dict[str, Result]:
    """wrk on each (name, url, header) in turn, ROUNDS times, so drifting load hits every
    side alike; each name's median round."""
    runs: dict[str, list[Result]] = {}
    for _ in range(ROUNDS):
        for name, target, header in cases:
            runs.setdefault(name, []).append(wrk(target, header))
    return {name: median(results) for name, results in runs.items()}


def row(what: str, endpoint: str, result: Result, anchor: Result | None) -> str:
    ratio = f"**{result.rps / anchor.rps:.2f}×**" if anchor else "1 (anchor)"
    bad = f" ({result.bad} non-2xx/3xx)" if result.bad else ""
    return (
        f"| {what} | `{endpoint}` | {result.rps:,.0f}{bad} | {result.p50_ms:.2f} | "
        f"{result.p99_ms:.2f} | {ratio} |"
    )


TABLE_HEAD = [
    "| what | endpoint | requests/s | p50 ms | p99 ms | app / anchor |",
    "| --- | --- | ---: | ---: | ---: | ---: |",
]
"""The head of a served bench's table; `row` makes its rows."""


def load_note() -> str:
    return (
        f"Load average at the end: {os.getloadavg()[0]:.1f} (other work shares this machine, "
        "so compare the ratios, not the absolute figures)."
    )
