"""A real server for tests: `python -m app serve` in a subprocess on a free port.

The database is set up with the command line (`cli(env, "migrate")` …). What the server
prints goes to a file, so a test can read its logs or wait for a line it prints; `kill()`
is SIGKILL, for the crash tests.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy import create_engine, make_url, text

from app.config import ROOT

START_SECONDS = 30


@contextmanager
def scratch_database(name: str, directory: Path) -> Iterator[str]:
    """A database of its own for a server under test: a SQLite file in `directory`, or (with
    TEST_DATABASE_URL on PostgreSQL) a scratch database `<name>_<pid>`, dropped afterwards."""
    test_url = os.environ.get("TEST_DATABASE_URL", "")
    if not test_url.startswith("postgresql"):
        yield f"sqlite:///{directory / f'{name}.sqlite3'}"
        return
    scratch = f"{name}_{os.getpid()}"
    admin = create_engine(test_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{scratch}"'))
    try:
        yield make_url(test_url).set(database=scratch).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
        admin.dispose()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def cli(env: Mapping[str, str], *args: str) -> str:
    """`python -m app ARGS` with these settings; its standard output."""
    done = subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=ROOT,
        env=os.environ | dict(env),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout


class Server:
    """`python -m app serve` with env (DATABASE_URL, HOST, PORT …); started by start()."""

    def __init__(self, env: Mapping[str, str], log: Path) -> None:
        self.env = os.environ | dict(env)
        self.base = f"http://{self.env['HOST']}:{self.env['PORT']}"
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None
        self.client = httpx.Client(base_url=self.base, timeout=60)

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "app", "serve"],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + START_SECONDS
        while True:
            try:
                if httpx.get(f"{self.base}/health", timeout=5).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.stop()
                raise RuntimeError(f"the server did not start:\n{self.output()[-2000:]}")
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL: no shutdown, no rollback, no flush; as a power cut to the process."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def output(self) -> str:
        """Everything the server printed (stdout and stderr), in every run so far."""
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""

    def wait_for(self, line: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while line not in self.output():
            if time.monotonic() > deadline:
                raise TimeoutError(f"the server never printed {line!r}")
            if self.process is None or self.process.poll() is not None:
                raise RuntimeError(f"the server stopped:\n{self.output()[-2000:]}")
            time.sleep(0.02)


@contextmanager
def serving(env: Mapping[str, str], log: Path) -> Iterator[Server]:
    server = Server(env, log)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        server.client.close()
