"""Record pushes in real concurrent transactions: the same new URL from two CMS at once."""

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from app.main import app
from app.models.record import Record
from tests.factories import HULI, add_item, token
from tests.test_concurrency import run_together


def test_racing_pushes_of_one_new_url_store_it_once(live: Engine) -> None:
    with Session(live) as session:
        headers = token(session, "editor", HULI)
        session.commit()
    with TestClient(app) as client:
        item = add_item(client, headers)
    body: dict[str, Any] = {
        "item_id": item["id"],
        "title": "同一条信息",
        "url": "http://www.huli.gov.cn/race.html",
        "formed_on": "2020-09-28",
        "published_on": "2020-10-30",
    }

    def push(index: int) -> int:
        with TestClient(app) as client:
            response = client.post(
                f"/api/v1/units/{HULI}/records",
                json={"records": [body | {"title": f"写入者{index}"}]},
                headers=headers,
            )
            assert response.status_code == 200, response.text
            created: int = response.json()["created"]
            return created

    assert sorted(run_together(4, push)) == [0, 0, 0, 1]
    with Session(live) as session:
        count = session.exec(select(func.count()).where(col(Record.url) == body["url"])).one()
    assert count == 1
