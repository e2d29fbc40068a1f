"""Two offices' first writes to a catalogue that does not exist yet, at the same moment:
both succeed (before, on PostgreSQL, the loser answered 500 on the unique key
uq_catalogues_unit_code: 19 of 28 such requests failed in one run)."""

import threading
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from app.main import app
from app.models.catalogue import Catalogue
from tests.factories import HULI, item_body, token

WRITERS = 6


def together(work: Callable[[TestClient, int], int]) -> list[int]:
    """Each writer with a client of its own, all released at once."""
    barrier = threading.Barrier(WRITERS)
    results = [0] * WRITERS

    def run(index: int) -> None:
        with TestClient(app) as client:
            barrier.wait()
            results[index] = work(client, index)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.mark.parametrize("domain", ["07", "08"])
def test_concurrent_first_writes_on_a_new_catalogue_all_succeed(live: Engine, domain: str) -> None:
    with Session(live) as session:
        editor = token(session, "editor", HULI)
        session.commit()
    base = f"/api/v1/units/{HULI}/catalogues/{domain}"

    def write(client: TestClient, index: int) -> int:
        if index % 2:
            response = client.put(
                f"{base}/applicability", json={"applicable": True}, headers=editor
            )
        else:
            response = client.post(f"{base}/items", json=item_body(), headers=editor)
        status: int = response.status_code
        return status

    statuses = together(write)
    assert sorted(statuses) == sorted([201, 200] * (WRITERS // 2)), statuses
    with Session(live) as session:
        rows = session.exec(
            select(Catalogue).where(Catalogue.unit_code == HULI, Catalogue.domain_code == domain)
        ).all()
        assert len(rows) == 1
        assert rows[0].item_count == WRITERS // 2
