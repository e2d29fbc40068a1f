"""Across workers: when any process commits a publish, every process forgets its
remembered "latest version" answers at once, so a reader never goes back in time.

Each worker remembers which version is the latest (app/services/publication.py). Before,
a publish in one worker reached the others only when their answer expired (1 s), so a
client whose requests landed on different workers could see version n+1, then n again.

- PostgreSQL: the publishing transaction sends `NOTIFY gkml_published` (delivered when it
  commits); every process listens on a connection of its own, in a daemon thread, and
  forgets on arrival: milliseconds. After (re)connecting it forgets everything, since a
  notification may have been missed meanwhile.
- SQLite: `PRAGMA data_version`, read on a connection of its own before a remembered
  answer is trusted, changes whenever another connection has committed (any write, not
  only a publish: the answers are asked again, which costs a query).
- The TTL (`published_lookup_ttl`) stays as the fallback, e.g. while the listener is
  reconnecting.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable

from sqlalchemy import make_url, text
from sqlmodel import Session

CHANNEL = "gkml_published"
Forget = Callable[[str | None], None]
"""Called with the publish's payload ("unit domain number"), or None for "everything"."""

log = logging.getLogger("uvicorn.error")


def announce(session: Session, payload: str) -> None:
    """In the publishing transaction: tell every process once it commits (PostgreSQL)."""
    if session.get_bind().dialect.name == "postgresql":
        notify = text("SELECT pg_notify(:channel, :payload)")
        session.execute(notify, {"channel": CHANNEL, "payload": payload})


class DataVersion:
    """SQLite's commit counter as seen from outside: changed() when anyone committed."""

    def __init__(self, path: str) -> None:
        # Read-only: watching must never create a database file that is not there.
        self._connection = sqlite3.connect(
            f"file:{path}?mode=ro", uri=True, check_same_thread=False, isolation_level=None
        )
        self._lock = threading.Lock()
        self._last = self._read()

    def _read(self) -> int:
        value: int = self._connection.execute("PRAGMA data_version").fetchone()[0]
        return value

    def changed(self) -> bool:
        with self._lock:
            value = self._read()
            if value == self._last:
                return False
            self._last = value
            return True

    def close(self) -> None:
        self._connection.close()


class Listener(threading.Thread):
    """LISTEN on PostgreSQL in a daemon thread; forget() on each notification."""

    def __init__(self, url: str, forget: Forget) -> None:
        super().__init__(name="gkml-listener", daemon=True)
        self.conninfo = (
            make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        )
        self.forget = forget
        self.listening = threading.Event()
        self._stop = threading.Event()

    def run(self) -> None:
        import psycopg

        while not self._stop.is_set():
            try:
                with psycopg.connect(self.conninfo, autocommit=True) as connection:
                    connection.execute(f"LISTEN {CHANNEL}")
                    self.forget(None)  # whatever was missed while not listening
                    self.listening.set()
                    while not self._stop.is_set():
                        for notify in connection.notifies(timeout=0.5):
                            self.forget(notify.payload)
            except Exception as exc:  # reconnect; the TTL covers the gap
                self.listening.clear()
                log.warning("publish listener: %s; reconnecting", str(exc).splitlines()[0])
                self._stop.wait(1.0)

    def stop(self) -> None:
        self._stop.set()
        self.join(timeout=2)


class Watch:
    """The one watch a process keeps: start() in the lifespan, check() before trusting a
    remembered answer, stop() at shutdown."""

    def __init__(self) -> None:
        self._sqlite: DataVersion | None = None
        self._listener: Listener | None = None

    def start(self, url: str, forget: Forget) -> None:
        self.stop()
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            try:
                self._sqlite = DataVersion(parsed.database)
            except sqlite3.Error as exc:  # no database yet: only the TTL applies
                log.warning("cannot watch %s for commits: %s", parsed.database, exc)
        elif parsed.get_backend_name() == "postgresql":
            self._listener = Listener(url, forget)
            self._listener.start()

    def changed(self) -> bool:
        """SQLite: has anyone committed since the last call? (PostgreSQL is pushed.)"""
        return self._sqlite is not None and self._sqlite.changed()

    def stop(self) -> None:
        if self._sqlite is not None:
            self._sqlite.close()
            self._sqlite = None
        if self._listener is not None:
            self._listener.stop()
            self._listener = None


watch = Watch()
