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
from sqlalchemy import Engine, text
from sqlmodel import Session, SQLModel

from app.config import ROOT
from app.db import get_session, make_engine
from app.main import app as application
from app.services import publication, record_column, records, timeliness
from seed import load

REFERENCE_TABLES = {"domains", "units", "milestones", "guide_items", "alembic_version"}


def database_url(tmp_dir: Path) -> str:
    return os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_dir / 'test.sqlite3'}"


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
def session(engine: Engine) -> Iterator[Session]:
    with engine.connect() as connection:
        outer = connection.begin()
        with Session(connection, join_transaction_mode="create_savepoint") as session:
            yield session
        outer.rollback()


@pytest.fixture
def client(session: Session) -> Iterator[TestClient]:
    def test_session() -> Iterator[Session]:
        # The app's contract: a request's writes land together or not at all. A savepoint
        # per request stands in for its transaction, inside the test's own.
        request = session.begin_nested()
        try:
            yield session
        except Exception:
            request.rollback()
            raise
        request.commit()

    application.dependency_overrides[get_session] = test_session
    publication.clear_caches()  # versions remembered by id would outlive the rollback
    records.clear_caches()
    record_column.clear_caches()
    timeliness.clear_caches()
    with TestClient(application) as client:
        yield client
    application.dependency_overrides.clear()


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
