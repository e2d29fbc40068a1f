"""The engine, the per-request session and the one place a request's transaction commits."""

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from functools import lru_cache
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, create_engine
from starlette.types import ASGIApp, Receive, Scope, Send

from app.config import Settings, get_settings


def make_engine(url: str, *, echo: bool = False, settings: Settings | None = None) -> Engine:
    settings = settings or get_settings()
    pool: dict[str, Any] = {
        "pool_size": settings.db_pool_size,
        "max_overflow": settings.db_max_overflow,
        "pool_timeout": settings.db_pool_timeout,
    }
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"check_same_thread": False, "timeout": settings.db_busy_timeout},
            **(pool if ":memory:" not in url else {}),
        )
        _sqlite_recipe(engine, busy_ms=int(settings.db_busy_timeout * 1000))
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True, **pool)


_WRITES: ContextVar[bool] = ContextVar("gkml_writes", default=True)
"""Whether a transaction begun now may write: False for GET/HEAD requests (ReadOnlyRequests)."""


@contextmanager
def reading() -> Iterator[None]:
    """Transactions begun inside read only: on SQLite a plain (deferred) BEGIN, no lock."""
    token = _WRITES.set(False)
    try:
        yield
    finally:
        _WRITES.reset(token)


class ReadOnlyRequests:
    """Pure ASGI: a GET or HEAD request's transactions are deferred, so reading never waits
    for, or takes, SQLite's write lock (WAL readers see the last commit). The flag is a
    context variable, which worker threads inherit."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        with reading():
            await self.app(scope, receive, send)


_HOLDS_LOCK = "gkml_holds_write_lock"
_LOCKED = "database is locked"


def _sqlite_recipe(engine: Engine, *, busy_ms: int) -> None:
    """pysqlite's own transaction handling breaks SAVEPOINTs; let SQLAlchemy emit BEGIN.

    This is SQLAlchemy's documented recipe ("Serializable isolation / Savepoints /
    Transactional DDL"). A transaction that may write opens with BEGIN IMMEDIATE, which
    takes the write lock up front, so two writers queue on busy_timeout instead of failing
    with "database is locked" mid-transaction; a read-only one (reading()) opens with a
    deferred BEGIN and, in WAL mode, neither waits for nor blocks a writer.
    """

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        cursor.close()

    writers = threading.Lock()
    """This process's writers queue here, in the order they come, before BEGIN IMMEDIATE:
    SQLite's own busy handler polls with sleeps growing to 100 ms, so writers of one process
    queued on it overtook each other and a clerk's save could wait seconds (docs/benchmarks.md,
    "Request register"). busy_timeout still arbitrates between processes."""

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        if not _WRITES.get():
            connection.exec_driver_sql("BEGIN")
            return
        if not writers.acquire(timeout=busy_ms / 1000):
            raise OperationalError("BEGIN IMMEDIATE", None, sqlite3.OperationalError(_LOCKED))
        connection.info[_HOLDS_LOCK] = True
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            _release(connection.info)
            raise

    def _release(info: dict[Any, Any]) -> None:
        if info.pop(_HOLDS_LOCK, False):
            writers.release()

    @event.listens_for(engine, "commit")
    def _commit(connection: Any) -> None:
        _release(connection.info)

    @event.listens_for(engine, "rollback")
    def _rollback(connection: Any) -> None:
        _release(connection.info)

    @event.listens_for(engine, "checkin")
    def _checkin(_dbapi_connection: Any, record: Any) -> None:
        _release(record.info)  # a connection given back without commit or rollback


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


def session_factory(request: Request) -> SessionFactory:
    """A session opened only when needed, for async routes that mostly answer from memory.

    SessionDep would cost every request two thread-pool hops even when no query runs. This
    opens the same session as get_session (the same commit rule, and any override of it
    that tests install) only when the caller enters it, typically in a worker thread.
    """
    provider = request.app.dependency_overrides.get(get_session, get_session)
    return contextmanager(provider)


async def get_session_factory(request: Request) -> SessionFactory:
    """session_factory as a dependency."""
    return session_factory(request)


SessionFactoryDep = Annotated[SessionFactory, Depends(get_session_factory)]
