"""Publishing: pulls of a published 1,000-item catalogue and 304s, against bare FastAPI.

One run on 127.0.0.1: the app (1 uvicorn worker, uvloop + httptools) on a temporary
SQLite database holding a published 1,000-item catalogue, and bench/anchor.py under the
same uvicorn settings returning the same bytes and a tiny JSON. wrk loads each endpoint in
turn at 32 connections; the ratios compare the two within this run, because absolute
figures move ±10-25 % from run to run (../shared/PERF.md).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from sqlmodel import Session

    from app.models.item import ItemCreate

ROOT = Path(__file__).resolve().parent.parent
CONNECTIONS = 32
THREADS = 2
DURATION = int(os.environ.get("BENCH_SECONDS", "5"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
ITEMS = 1000
UNIT, DOMAIN = "350206", "01"
CATALOGUE = f"/api/v1/public/units/{UNIT}/catalogues/{DOMAIN}"


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


def sample_item(n: int) -> ItemCreate:
    """The n-th (0-based) of a catalogue's items: about 600 bytes of JSON, complete."""
    from app.models.item import ItemCreate

    return ItemCreate(
        first_level=f"一级事项{n // 10 + 1:03d}",
        name=f"二级事项{n + 1:04d}：建设项目选址意见书核发",
        content="申请材料清单、办理流程、办理时限、收费标准、审批结果及相关图件",
        basis="《中华人民共和国城乡规划法》《中华人民共和国政府信息公开条例》",
        time_limit="信息形成或变更之日起20个工作日内",
        responsible_body="湖里区自然资源局",
        method="主动",
        channels=["政府网站", "政务服务中心", "两微一端"],
        audience="全社会",
        levels=["县级", "乡级"],
    )


def fill(session: Session, unit_code: str, domain_code: str, n: int, *, publish: bool) -> None:
    """Give a catalogue n sample items in one change; compile and publish it if asked."""
    from app.auth import SYSTEM
    from app.models.domain import Domain
    from app.models.unit import Unit
    from app.services import catalogues, imports, lifecycle

    unit, domain = session.get(Unit, unit_code), session.get(Domain, domain_code)
    assert unit is not None
    assert domain is not None
    catalogue = catalogues.get_or_new(session, unit, domain)
    imports.replace(
        session,
        catalogue,
        [sample_item(i) for i in range(n)],
        action="import",
        note=f"bench: {n} items",
        detail={},
        actor=SYSTEM,
    )
    if publish:
        lifecycle.compile(session, catalogue, on=date(2020, 10, 20), actor=SYSTEM)
        lifecycle.publish(
            session, catalogue, on=date(2020, 11, 5), url="http://www.huli.gov.cn/", actor=SYSTEM
        )


def build_database(url: str) -> None:
    """Migrate, seed and publish one catalogue of ITEMS items of about 600 bytes of JSON."""
    from sqlmodel import Session

    from app.db import make_engine

    migrate_and_seed(url)
    engine = make_engine(url)
    with Session(engine) as session:
        fill(session, UNIT, DOMAIN, ITEMS, publish=True)
        session.commit()
    engine.dispose()


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


def row(what: str, endpoint: str, result: Result, anchor: Result | None) -> str:
    ratio = f"**{result.rps / anchor.rps:.2f}×**" if anchor else "1 (anchor)"
    bad = f" ({result.bad} non-2xx/3xx)" if result.bad else ""
    return (
        f"| {what} | `{endpoint}` | {result.rps:,.0f}{bad} | {result.p50_ms:.2f} | "
        f"{result.p99_ms:.2f} | {ratio} |"
    )


def main() -> str:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    with tempfile.TemporaryDirectory(prefix="gkml-bench-") as directory:
        url = f"sqlite:///{Path(directory) / 'bench.sqlite3'}"
        build_database(url)
        body_file = Path(directory) / "body.json"
        with server("app.main:app", free_port(), {"DATABASE_URL": url}) as app_base:
            first = httpx.get(app_base + CATALOGUE, timeout=60)
            first.raise_for_status()
            body_file.write_bytes(first.content)
            etag = first.headers["ETag"]
            check = httpx.get(app_base + CATALOGUE, headers={"If-None-Match": etag})
            assert check.status_code == 304, check.status_code
            with server("bench.anchor:app", free_port(), {"BENCH_BODY": str(body_file)}) as bare:
                assert httpx.get(f"{bare}/bytes").content == first.content
                runs: dict[str, list[Result]] = {}
                for _ in range(ROUNDS):  # interleaved, so drifting load hits both sides
                    for name, target, header in (
                        ("anchor_bytes", f"{bare}/bytes", None),
                        ("app_bytes", app_base + CATALOGUE, None),
                        ("anchor_tiny", f"{bare}/tiny", None),
                        ("app_304", app_base + CATALOGUE, f"If-None-Match: {etag}"),
                    ):
                        runs.setdefault(name, []).append(wrk(target, header))
    anchor_bytes, app_bytes, anchor_tiny, app_304 = (
        median(runs[name]) for name in ("anchor_bytes", "app_bytes", "anchor_tiny", "app_304")
    )
    size = len(first.content)
    lines = [
        "## Publishing",
        "",
        f"The latest version of a published {ITEMS:,}-item catalogue ({size / 1000:,.0f} KB of "
        "JSON) and its 304, against bare FastAPI endpoints returning the same bytes and a tiny "
        f"JSON. One run on 127.0.0.1: uvicorn, 1 worker, uvloop + httptools, SQLite; "
        f"`wrk -t{THREADS} -c{CONNECTIONS} -d{DURATION}s --latency`, the load generator on the "
        f"same {os.cpu_count()} cores; {ROUNDS} interleaved rounds, each row the round with the "
        "median requests/s. Goal: both ratios ≥ 0.8.",
        "",
        "| what | endpoint | requests/s | p50 ms | p99 ms | app / anchor |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
        row("anchor: precomputed bytes", "/bytes", anchor_bytes, None),
        row("published catalogue, JSON", CATALOGUE, app_bytes, anchor_bytes),
        row("anchor: tiny JSON", "/tiny", anchor_tiny, None),
        row("If-None-Match → 304", CATALOGUE, app_304, anchor_tiny),
        "",
        f"Load average at the end: {os.getloadavg()[0]:.1f} (other work shares this machine, "
        "so compare the ratios, not the absolute figures).",
        "",
        "How: the bytes of each version × format are made on the first request and kept in "
        'the process; the "latest version" answer is trusted for 1 s (a publish in the same '
        "process forgets it at once), so the run includes a database lookup about once a "
        "second. A pure-ASGI edge (`app/api/public.py`, `PublicEdge`) answers what the process "
        "already holds, before FastAPI's routing and dependency solving; everything else goes "
        "to the routes. Through the FastAPI route alone (same caches) an earlier run measured "
        "0.75× for the pull and 0.46× for the 304: routing over ~40 routes and solving the "
        "parameters cost more than the rest of such a request.",
        "",
        "Command: `python -m bench publish --write` (needs `wrk`: `apt-get install wrk`; "
        "`BENCH_SECONDS` and `BENCH_ROUNDS` set the length of each load and the rounds, "
        "default 5 and 3).",
    ]
    return "\n".join(lines)
