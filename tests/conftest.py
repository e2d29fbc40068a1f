"""One migrated, seeded database per run (SQLite, or PostgreSQL via TEST_DATABASE_URL);
each test runs in a transaction that is rolled back."""

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, make_url, text
from sqlmodel import Session, SQLModel

from app.config import ROOT
from app.db import get_session, make_engine
from app.main import app as application
from app.services import calendar, published_cache, record_column, records, timeliness
from seed import load
from tests.factories import HULI, token

REFERENCE_TABLES = {
    "domains",
    "units",
    "milestones",
    "milestone_domains",  # seeded with the milestones: part of their reference data
    "guide_items",
    "alembic_version",
}


def database_url(tmp_dir: Path, suffix: str = "") -> str:
    """The run's database: SQLite in tmp_dir, or TEST_DATABASE_URL (PostgreSQL).

    Each pytest-xdist worker gets its own database (`test_x_gw0`, …), and a suffix names
    another private one (the migration round trip's), so nothing migrates a database that
    other tests are using."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    name = "_".join(part for part in (worker, suffix) if part)
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp_dir / f'test{name}.sqlite3'}"
    if not name:
        return url
    parsed = make_url(url)
    own = parsed.set(database=f"{parsed.database}_{name}")
    server = make_engine(parsed.set(database="postgres").render_as_string(hide_password=False))
    with server.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        exists = connection.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": own.database}
        ).first()
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{own.database}"'))
    server.dispose()
    return own.render_as_string(hide_password=False)


def alembic_config(url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["url"] = url
    return config


@pytest.fixture(scope="session")
def database_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="gkml-test-") as directory:
        yield Path(directory)


@pytest.fixture(scope="session")
def engine(database_dir: Path) -> Iterator[Engine]:
    url = database_url(database_dir)
    config = alembic_config(url)
    command.downgrade(config, "base")
    if url.startswith("postgresql"):
        with make_engine(url).begin() as connection:  # leftovers of an interrupted run
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    command.upgrade(config, "head")
    engine = make_engine(url)
    with Session(engine) as session:
        load(session)
        session.commit()
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    """The test's transaction: everything in it is rolled back at the end."""
    with engine.connect() as connection:
        outer = connection.begin()
        yield connection
        outer.rollback()


@pytest.fixture
def session(connection: Connection) -> Iterator[Session]:
    """The test's own session (factories, direct checks), inside the test's transaction."""
    with Session(connection, join_transaction_mode="create_savepoint") as session:
        yield session


@pytest.fixture
def client(connection: Connection, session: Session) -> Iterator[TestClient]:
    def test_session() -> Iterator[Session]:
        # The app's contract: a request's writes land together or not at all. Each request
        # gets a fresh session (its own identity map, as in production) in a savepoint of
        # the test's transaction, so it sees what a second request would see: the rows,
        # not objects another request or the test left in memory.
        session.flush()
        with Session(connection, join_transaction_mode="create_savepoint") as request:
            try:
                yield request
            except Exception:
                request.rollback()
                raise
            request.commit()
        session.expire_all()  # the test reads what the request wrote

    application.dependency_overrides[get_session] = test_session
    published_cache.clear_caches()  # versions remembered by id would outlive the rollback
    records.clear_caches()
    record_column.clear_caches()
    timeliness.clear_caches()
    with TestClient(application) as client:
        yield client
    application.dependency_overrides.clear()


@pytest.fixture
def editor(session: Session) -> dict[str, str]:
    """A bearer header of an editor of 湖里区 (the district most tests write in)."""
    return token(session, "editor", HULI)


@pytest.fixture
def auditor(session: Session) -> dict[str, str]:
    """A bearer header of the city office's auditor."""
    return token(session, "auditor")


@pytest.fixture
def committed(engine: Engine) -> Iterator[Engine]:
    """For tests that need real concurrent transactions: data is committed, then wiped."""
    yield engine
    with engine.begin() as connection:
        for table in reversed(SQLModel.metadata.sorted_tables):
            if table.name not in REFERENCE_TABLES:
                connection.execute(table.delete())
        connection.execute(text("DELETE FROM units WHERE code LIKE 'T%'"))
        connection.execute(text("DELETE FROM domains WHERE code > '26'"))


@pytest.fixture
def live(committed: Engine) -> Iterator[Engine]:
    """The app on the test database with its own per-request sessions and commits: real
    concurrent transactions, and the process caches forgotten before and after."""

    def real_session() -> Iterator[Session]:
        with Session(committed) as session:
            yield session
            session.commit()

    application.dependency_overrides[get_session] = real_session
    _forget()
    yield committed
    application.dependency_overrides.clear()
    _forget()


def _forget() -> None:
    """Versions remembered by id would outlive a rolled-back test (SQLite reuses ids): a
    record pushed here was once judged by another test's version of the same id."""
    published_cache.clear_caches()
    calendar.clear_caches()
    records.clear_caches()
    record_column.clear_caches()
    timeliness.clear_caches()
