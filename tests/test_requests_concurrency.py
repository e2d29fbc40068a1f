"""The request register's writes in real concurrent transactions (one session per request):
on PostgreSQL two clerks really do overlap, on SQLite the write lock queues them."""

from collections import Counter

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from app.main import app
from app.models.request import DisclosureRequest, RequestEvent
from tests.factories import HULI, add_request, request_body, token
from tests.test_concurrency import run_together

ROUNDS = 8


def test_two_clerks_answering_with_one_etag_one_wins_one_is_told_stale(live: Engine) -> None:
    with Session(live) as session:
        headers = token(session, "editor", HULI)
        session.commit()
    with TestClient(app) as client:
        made = [add_request(client, headers) for _ in range(ROUNDS)]
    answers = [
        {"kind": "answered", "on": "2020-10-20", "outcome": "granted"},
        {"kind": "withdrawn", "on": "2020-10-21"},
    ]
    for request in made:

        def post(index: int, request: dict[str, object] = request) -> int:
            with TestClient(app) as client:
                response = client.post(
                    f"/api/v1/requests/{request['id']}/events",
                    json=answers[index],
                    headers=headers | {"If-Match": str(request["etag"])},
                )
                assert response.status_code in (200, 412), response.text
                return int(response.status_code)

        assert sorted(run_together(2, post)) == [200, 412]
        with Session(live) as session:
            stored = session.get(DisclosureRequest, request["id"])
            assert stored is not None
            assert stored.revision == 2
            events = session.exec(
                select(func.count()).where(col(RequestEvent.request_id) == request["id"])
            ).one()
        assert events == 1


def test_racing_creates_with_one_reference_register_it_once(live: Engine) -> None:
    with Session(live) as session:
        headers = token(session, "editor", HULI)
        session.commit()
    for n in range(ROUNDS):
        reference = f"湖政申〔2020〕{n + 1}号"

        def post(_index: int, reference: str = reference) -> int:
            with TestClient(app) as client:
                response = client.post(
                    f"/api/v1/units/{HULI}/requests",
                    json=request_body(reference=reference),
                    headers=headers,
                )
                assert response.status_code in (201, 409), response.text
                return int(response.status_code)

        assert sorted(run_together(3, post)) == [201, 409, 409]
        with Session(live) as session:
            count = session.exec(
                select(func.count()).where(col(DisclosureRequest.reference) == reference)
            ).one()
        assert count == 1


def test_racing_creates_in_one_unit_all_succeed(live: Engine) -> None:
    with Session(live) as session:
        headers = token(session, "editor", HULI)
        session.commit()

    def post(_index: int) -> int:
        with TestClient(app) as client:
            response = client.post(
                f"/api/v1/units/{HULI}/requests", json=request_body(), headers=headers
            )
            assert response.status_code == 201, response.text
            return int(response.status_code)

    assert Counter(run_together(6, post)) == {201: 6}
