"""How a serving process shares itself between public pulls and heavy reads (app/serving.py):
SQLite reads take no write lock, heavy requests take turns, threads hand over often."""

import sqlite3
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event
from sqlmodel import Session

from app import auth
from app.db import get_session, make_engine
from app.main import app
from app.models.common import Role
from app.serving import SWITCH_INTERVAL
from seed import load
from tests.conftest import alembic_config, database_url


@pytest.fixture
def own_database(tmp_path: Path) -> Iterator[tuple[Engine, Path]]:
    """A migrated, seeded SQLite file of its own, each request in its own session, as served."""
    if database_url(tmp_path).startswith("postgresql"):
        pytest.skip("SQLite's locking")
    path = tmp_path / "own.sqlite3"
    url = f"sqlite:///{path}"
    command.upgrade(alembic_config(url), "head")
    engine = make_engine(url)
    with Session(engine) as session:
        load(session)
        session.commit()

    def own_session() -> Iterator[Session]:
        with Session(engine) as session:
            yield session
            session.commit()

    app.dependency_overrides[get_session] = own_session
    try:
        yield engine, path
    finally:
        app.dependency_overrides.clear()
        engine.dispose()


def auditor(engine: Engine) -> dict[str, str]:
    with Session(engine) as session:
        _, secret = auth.create_token(session, role=Role.auditor)
        session.commit()
    return {"Authorization": f"Bearer {secret}"}


def test_a_get_reads_while_another_connection_holds_the_write_lock(
    own_database: tuple[Engine, Path],
) -> None:
    engine, path = own_database
    headers = auditor(engine)
    answers: list[int] = []
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # an edit or an import in progress
    try:
        with TestClient(app) as client:

            def audit() -> None:
                response = client.get("/api/v1/audit/statistics", headers=headers)
                answers.append(response.status_code)

            reader = threading.Thread(target=audit)
            reader.start()
            reader.join(timeout=10)  # BEGIN IMMEDIATE would wait for the lock (30 s)
            finished = not reader.is_alive()
    finally:
        writer.execute("ROLLBACK")
        writer.close()
        reader.join()
    assert finished
    assert answers == [200]


def test_gets_begin_deferred_and_writes_immediate(own_database: tuple[Engine, Path]) -> None:
    engine, _ = own_database
    headers = auditor(engine)
    begun: list[str] = []

    def record(_c: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.startswith("BEGIN"):
            begun.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        with TestClient(app) as client:
            assert client.get("/api/v1/audit/statistics", headers=headers).status_code == 200
            reading = list(begun)
            begun.clear()
            created = client.post(
                "/api/v1/milestones",
                headers=headers,
                json={
                    "code": "x",
                    "title": "x",
                    "due_on": "2030-01-01",
                    "event": "compiled",
                    "unit_kinds": ["district"],
                },
            )
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert reading
    assert set(reading) == {"BEGIN"}
    assert created.status_code == 201, created.text
    # the token is read in a read-only transaction of its own, ended before the write's own
    # work, which begins as a writer (the lock is not held while the request waits its turn)
    assert begun == ["BEGIN", "BEGIN IMMEDIATE"]


def test_the_served_app_hands_the_interpreter_over_every_millisecond(
    client: TestClient,
) -> None:
    with TestClient(app):  # the lifespan runs
        assert sys.getswitchinterval() == pytest.approx(SWITCH_INTERVAL)
