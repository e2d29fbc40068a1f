"""Crash safety: SIGKILL the server in the middle of a large import and of a publish, start
it again, and find the database exactly as it was before; then the same operation succeeds.

The server is `python -m app serve` in a subprocess, on a database of this run's kind: a
temporary SQLite file, or (TEST_DATABASE_URL on PostgreSQL) a scratch database created
and dropped here. To be sure the kill lands inside the transaction, after its writes and
before its commit, the server runs with the fault-injection point of app/faults.py and
the test kills it once it says it is paused there (and, from outside, the transaction is
seen open: SQLite's write lock held, a PostgreSQL backend holding a transaction id).
"""

import sqlite3
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, make_url, select, text
from sqlmodel import SQLModel

import app.models  # noqa: F401  (every table in the metadata)
from app.faults import PAUSED
from app.render.table import CatalogueItem, CatalogueView, render_csv
from tests.factories import HULI, item_body
from tests.servers import Server, cli, free_port, scratch_database

IMPORT_ROWS = 2_000  # seconds of work on a server; the flush alone writes megabytes
FILLED = (("02", 30), ("03", 200))
Dump = dict[str, list[tuple[Any, ...]]]


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with scratch_database("crash", tmp_path_factory.mktemp("crash")) as url:
        yield url


@pytest.fixture(scope="module")
def env(database_url: str) -> dict[str, str]:
    settings = {"DATABASE_URL": database_url, "HOST": "127.0.0.1"}
    cli(settings, "migrate")
    cli(settings, "seed")
    return settings


@pytest.fixture(scope="module")
def editor(env: dict[str, str]) -> dict[str, str]:
    secret = cli(env, "tokens", "create", "--role", "editor", "--unit", HULI).splitlines()[-1]
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture(scope="module")
def catalogues(
    env: dict[str, str], editor: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, str]:
    """Two revised drafts, published once: 02 for the import, 03 for the publish."""
    server = start(env, tmp_path_factory.mktemp("setup") / "server.log")
    try:
        return {domain: make_catalogue(server, editor, domain, n) for domain, n in FILLED}
    finally:
        server.stop()


def start(env: Mapping[str, str], log: Path, *, pause: str | None = None) -> Server:
    settings = dict(env) | {"PORT": str(free_port())}
    if pause:
        settings["GKML_TEST_PAUSE_AFTER_FLUSH"] = pause
    server = Server(settings, log)
    server.start()
    return server


def dump(url: str) -> Dump:
    """Every table's rows, ordered by primary key: the database's state, canonically."""
    engine = create_engine(url)  # plain: no BEGIN IMMEDIATE, a read takes no write lock
    try:
        with engine.connect() as connection:
            return {
                table.name: [
                    tuple(row)
                    for row in connection.execute(
                        select(table).order_by(*table.primary_key.columns)
                    )
                ]
                for table in SQLModel.metadata.sorted_tables
            }
    finally:
        engine.dispose()


def assert_transaction_open(url: str) -> None:
    """From outside: the server holds an open transaction that has written."""
    if url.startswith("sqlite"):
        probe = sqlite3.connect(make_url(url).database or "", timeout=0, isolation_level=None)
        try:
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                probe.execute("BEGIN IMMEDIATE")
        finally:
            probe.close()
        return
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            writers = connection.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND state = 'idle in transaction' AND backend_xid IS NOT NULL"
                )
            ).scalar_one()
    finally:
        engine.dispose()
    assert writers == 1


def assert_recovered(url: str) -> None:
    if url.startswith("sqlite"):
        with sqlite3.connect(make_url(url).database or "") as connection:
            assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def make_catalogue(server: Server, editor: dict[str, str], domain: str, n: int) -> str:
    """A catalogue of n complete items, published once and then edited: a revised draft."""
    base = f"/api/v1/units/{HULI}/catalogues/{domain}"
    client = server.client
    etag = ""
    for _ in range(n):
        created = client.post(f"{base}/items", json=item_body(), headers=editor)
        assert created.status_code == 201, created.text
        item_id, etag = created.json()["id"], created.headers["ETag"]
    steps = (
        (f"{base}/compile", {"compiled_on": "2020-10-20"}),
        (f"{base}/publish", {"published_on": "2020-11-05", "url": "http://www.huli.gov.cn/"}),
    )
    for path, body in steps:
        assert client.post(path, json=body, headers=editor).status_code == 200
    edited = client.patch(
        f"/api/v1/items/{item_id}",
        json={"content": "修订后的公开内容"},
        headers=editor | {"If-Match": etag},
    )
    assert edited.status_code == 200, edited.text
    return base


def large_csv(rows: int) -> bytes:
    items: list[CatalogueItem] = []
    for n in range(rows):
        body = item_body(first_level=f"一级事项{n // 20 + 1:03d}", name=f"二级事项{n + 1:05d}")
        items.append({**body, "position": n + 1})  # type: ignore[typeddict-item]
    view: CatalogueView = {
        "unit_code": HULI,
        "unit_name": "湖里区",
        "domain_code": "02",
        "domain_name": "",
        "version": None,
        "published_on": None,
        "published_url": None,
        "items": items,
    }
    return render_csv(view)


def kill_in_flight(server: Server, url: str, operation: str, request: dict[str, Any]) -> None:
    """Send the request, wait until the server is paused before its commit, SIGKILL it."""
    with ThreadPoolExecutor(1) as pool:
        reply = pool.submit(server.client.post, **request)
        server.wait_for(f"{PAUSED} {operation}")
        assert_transaction_open(url)
        server.kill()
        with pytest.raises(httpx.TransportError):
            reply.result(timeout=30)
    if url.startswith("sqlite"):  # the killed process left its write-ahead log behind
        assert Path(f"{make_url(url).database}-wal").exists()


@contextmanager
def killed_and_restarted(
    env: dict[str, str], tmp_path: Path, database_url: str, request: dict[str, Any], operation: str
) -> Iterator[Server]:
    """Kill the server with `operation` half done, start it again on the same database and
    check nothing of the operation is left; yields the restarted server."""
    before = dump(database_url)
    paused = start(env, tmp_path / "paused.log", pause=operation)
    kill_in_flight(paused, database_url, operation, request)
    again = start(env, tmp_path / "again.log")
    try:
        assert again.client.get("/health").status_code == 200
        assert_recovered(database_url)
        assert dump(database_url) == before
        yield again
    finally:
        again.stop()


def test_a_killed_import_changes_nothing(
    env: dict[str, str],
    editor: dict[str, str],
    catalogues: dict[str, str],
    database_url: str,
    tmp_path: Path,
) -> None:
    base = catalogues["02"]
    data = large_csv(IMPORT_ROWS)
    request: dict[str, Any] = {
        "url": f"{base}/import",
        "files": {"file": ("large.csv", data, "text/csv")},
        "headers": editor,
    }
    with killed_and_restarted(env, tmp_path, database_url, request, "import") as again:
        imported = again.client.post(**request)
        assert imported.status_code == 200, imported.text
        assert (imported.json()["items"], imported.json()["replaced"]) == (IMPORT_ROWS, 30)
        listing = again.client.get(f"/api/v1/units/{HULI}/catalogues", headers=editor).json()
        assert next(c for c in listing if c["domain_code"] == "02")["item_count"] == IMPORT_ROWS


def test_a_killed_publish_changes_nothing(
    env: dict[str, str],
    editor: dict[str, str],
    catalogues: dict[str, str],
    database_url: str,
    tmp_path: Path,
) -> None:
    base = catalogues["03"]
    request: dict[str, Any] = {
        "url": f"{base}/publish",
        "json": {"published_on": "2020-12-01", "url": "http://www.huli.gov.cn/v2"},
        "headers": editor,
    }
    with killed_and_restarted(env, tmp_path, database_url, request, "publish") as again:
        public = f"/api/v1/public/units/{HULI}/catalogues/03"
        assert again.client.get(public).json()["version"] == 1
        published = again.client.post(**request)
        assert published.status_code == 200, published.text
        assert published.json()["version"] == 2
        assert again.client.get(public).json()["version"] == 2
