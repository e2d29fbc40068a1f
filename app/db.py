"""The engine, the per-request session and the one place a request's transaction commits."""

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from functools import lru_cache
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from app.config import get_settings

READING: ContextVar[bool] = ContextVar("reading", default=False)
"""True while a GET or HEAD request is served (app/serving.py, `Reads`): its SQLite
transactions begin DEFERRED, as readers that take no lock, instead of IMMEDIATE."""


def make_engine(url: str, *, echo: bool = False) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(
            url, echo=echo, connect_args={"check_same_thread": False, "timeout": 30}
        )
        _sqlite_recipe(engine)
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _sqlite_recipe(engine: Engine) -> None:
    """pysqlite's own transaction handling breaks SAVEPOINTs; let SQLAlchemy emit BEGIN.

    This is SQLAlchemy's documented recipe ("Serializable isolation / Savepoints /
    Transactional DDL"); BEGIN IMMEDIATE takes the write lock up front, so two writers
    queue on busy_timeout instead of failing with "database is locked" mid-transaction.
    A GET or HEAD request reads (READING): its transactions begin DEFERRED and take no
    lock, so a public pull's look-up never queues behind an audit or an edit.
    """

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN" if READING.get() else "BEGIN IMMEDIATE")


@lru_cache
def get_engine() -> Engine:
    settings = get_settings()
    return make_engine(settings.database_url, echo=settings.sql_echo)


def get_session() -> Iterator[Session]:
    with Session(get_engine()) as session:
        yield session  # an exception from the route skips the commit; closing rolls back
        session.commit()  # runs before the response is sent (scope="function")


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


SessionFactory = Callable[[], AbstractContextManager[Session]]


async def get_session_factory(request: Request) -> SessionFactory:
    """A session opened only when needed, for async routes that mostly answer from memory.

    SessionDep would cost every request two thread-pool hops even when no query runs. This
    opens the same session as get_session (the same commit rule, and any override of it
    that tests install) only when the caller enters it, typically in a worker thread.
    """
    provider = request.app.dependency_overrides.get(get_session, get_session)
    return contextmanager(provider)


SessionFactoryDep = Annotated[SessionFactory, Depends(get_session_factory)]
