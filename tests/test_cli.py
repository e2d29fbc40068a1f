"""`python -m app …` as an operator runs it: migrate, seed, tokens create/list/revoke."""

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.config import ROOT
from app.db import get_session, make_engine
from app.main import app


def cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    path = tmp_path_factory.mktemp("cli") / "cli.sqlite3"
    url = f"sqlite:///{path}"
    assert cli(url, "migrate").returncode == 0
    first = cli(url, "seed")
    assert first.returncode == 0, first.stderr
    assert "units: 45 (45 added or changed)" in first.stdout
    return url, path


@pytest.fixture
def client_on(database: tuple[str, Path]) -> Iterator[TestClient]:
    engine = make_engine(database[0])

    def session_on_file() -> Iterator[Session]:
        with Session(engine) as session:
            yield session
            session.commit()

    app.dependency_overrides[get_session] = session_on_file
    with TestClient(app) as client:
        yield client
    app.dependency_overrides.clear()
    engine.dispose()


def test_seed_again_changes_nothing_and_says_what_is_there(database: tuple[str, Path]) -> None:
    again = cli(database[0], "seed").stdout.strip()
    assert again.startswith("domains: 26 (0 added or changed), units: 45 (0 added or changed), ")
    assert "milestones: 4 (0 added or changed), guide_items: " in again
    assert again.endswith(" (0 added or changed)")


def test_token_is_printed_alone_on_the_last_line_and_stored_hashed(
    database: tuple[str, Path], client_on: TestClient
) -> None:
    url, path = database
    made = cli(url, "tokens", "create", "--role", "editor", "--unit", "350206")
    assert made.returncode == 0, made.stderr
    secret = made.stdout.strip().splitlines()[-1]
    assert " " not in secret
    assert secret.encode() not in path.read_bytes()
    with sqlite3.connect(path) as connection:
        stored = [row[0] for row in connection.execute("SELECT token_hash FROM api_tokens")]
    assert secret not in stored
    listing = cli(url, "tokens", "list").stdout
    assert secret not in listing
    assert secret[:10] in listing  # the prefix tells tokens apart
    response = client_on.get(
        "/api/v1/units/350206/catalogues", headers={"Authorization": f"Bearer {secret}"}
    )
    assert response.status_code == 200


def test_revoked_token_is_refused(database: tuple[str, Path], client_on: TestClient) -> None:
    url, _ = database
    made = cli(url, "tokens", "create", "--role", "auditor", "--label", "city office")
    secret = made.stdout.strip().splitlines()[-1]
    rows = [json.loads(line) for line in cli(url, "tokens", "list").stdout.splitlines()]
    token_id = next(r["id"] for r in rows if r["label"] == "city office")
    assert cli(url, "tokens", "revoke", str(token_id)).returncode == 0
    response = client_on.get(
        "/api/v1/units/350206/catalogues", headers={"Authorization": f"Bearer {secret}"}
    )
    assert response.status_code == 401
    assert "吊销" in response.json()["detail"]


def test_editor_token_needs_a_known_unit(database: tuple[str, Path]) -> None:
    assert cli(database[0], "tokens", "create", "--role", "editor").returncode == 2
    unknown = cli(database[0], "tokens", "create", "--role", "editor", "--unit", "999")
    assert unknown.returncode == 2
    assert "unknown unit" in unknown.stderr


def test_expired_token_is_refused(session: Session, client: TestClient) -> None:
    from datetime import timedelta

    from app import auth
    from app.models.common import Role

    _token, secret = auth.create_token(session, role=Role.auditor, expires_in=timedelta(seconds=-1))
    response = client.get(
        "/api/v1/units/350206/catalogues", headers={"Authorization": f"Bearer {secret}"}
    )
    assert response.status_code == 401
    assert "过期" in response.json()["detail"]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--role", "editor", "--unit", "350206", "--expires-days", "0"], "--expires-days"),
        (["--role", "editor", "--unit", "350206", "--expires-days", "-1"], "--expires-days"),
        (["--role", "auditor", "--unit", "350206"], "only editor tokens"),
        (["--role", "admin", "--unit", "350206"], "only editor tokens"),
    ],
)
def test_token_create_refuses_what_it_would_misread(
    database: tuple[str, Path], args: list[str], says: str
) -> None:
    made = cli(database[0], "tokens", "create", *args)
    assert made.returncode == 2
    assert says in made.stderr
    assert made.stdout == ""


def test_missing_database_is_one_line_and_exit_1(tmp_path: Path) -> None:
    gone = cli("postgresql+psycopg://postgres@127.0.0.1:5432/gkml_no_such_database", "migrate")
    unmigrated = cli(f"sqlite:///{tmp_path / 'empty.sqlite3'}", "seed")
    for result in (gone, unmigrated):
        assert result.returncode == 1
        assert result.stderr.startswith("error: database ")
        assert "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    assert "migrate" in unmigrated.stderr


def test_busy_port_is_one_line_and_exit_1(database: tuple[str, Path]) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**os.environ, "DATABASE_URL": database[0], "PORT": str(port)}
        result = subprocess.run(
            [sys.executable, "-m", "app", "serve"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"error: cannot listen on 127.0.0.1:{port} (Address already in use); "
        "set PORT (or HOST) to a free address"
    )
