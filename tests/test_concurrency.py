"""Real concurrent transactions (committed data, one session per request)."""

import threading
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from app.db import get_session
from app.main import app
from tests.factories import HULI, add_item, token


@pytest.fixture
def live(committed: Engine) -> Iterator[Engine]:
    """The app on the test database with its own per-request sessions and commits."""

    def real_session() -> Iterator[Session]:
        with Session(committed) as session:
            yield session
            session.commit()

    app.dependency_overrides[get_session] = real_session
    yield committed
    app.dependency_overrides.clear()


def run_together(n: int, work: Callable[[int], int]) -> list[int]:
    barrier = threading.Barrier(n)
    results: list[int] = [0] * n

    def worker(index: int) -> None:
        barrier.wait()
        results[index] = work(index)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_racing_writers_on_one_etag_exactly_one_wins(live: Engine) -> None:
    with Session(live) as session:
        headers = token(session, "editor", HULI)
        session.commit()
    with TestClient(app) as client:
        item = add_item(client, headers)

    def patch(index: int) -> int:
        with TestClient(app) as client:
            response = client.patch(
                f"/api/v1/items/{item['id']}",
                json={"content": f"writer {index}"},
                headers=headers | {"If-Match": item["etag"]},
            )
            status: int = response.status_code
            return status

    statuses = run_together(8, patch)
    assert sorted(statuses) == [200] + [412] * 7
    with TestClient(app) as client:
        final = client.get(f"/api/v1/items/{item['id']}", headers=headers).json()
        history = client.get(f"/api/v1/units/{HULI}/catalogues/01/history", headers=headers).json()[
            "items"
        ]
    winner = statuses.index(200)
    assert final["content"] == f"writer {winner}"
    assert [c["action"] for c in history] == ["update", "create"]
