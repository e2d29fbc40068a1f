"""The stored per-item record counts (record_counts) against their definition over random
pushes, updates that move records between items, deletes and revivals; and the timeliness
audit's figures, read from those rows, against the records themselves."""

import random
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session

from app.services import records
from tests.factories import HULI, add_item, publish
from tests.test_records import TWENTY_DAYS, push, record

LIMITS = (TWENTY_DAYS, "每季度更新", "长期公开", "实时公开", "按有关规定办理")


def _listed(client: TestClient, editor: dict[str, str]) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/units/{HULI}/records", params={"limit": 1000}, headers=editor)
    assert response.status_code == 200, response.text
    assert response.json()["next"] is None
    listed: list[dict[str, Any]] = response.json()["items"]
    return listed


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_stored_counts_and_the_audit_match_the_records_over_random_writes(
    client: TestClient,
    session: Session,
    editor: dict[str, str],
    auditor: dict[str, str],
    seed: int,
) -> None:
    rng = random.Random(seed)
    items = [add_item(client, editor, time_limit=rng.choice(LIMITS)) for _ in range(6)]
    ids = [item["id"] for item in items]
    publish(client, editor, compiled_on="2020-01-05", published_on="2020-01-10")
    catalogue_ids = list(
        session.connection()
        .execute(text("SELECT id FROM catalogues WHERE unit_code = :u"), {"u": HULI})
        .scalars()
    )
    written: list[int] = []
    used: set[int] = set()
    fresh = iter(range(100, 10_000))
    for round_ in range(8):
        # even rounds only add new URLs (counts added to), odd ones resend old URLs too, to
        # other items and dates (the items counted again), after deletes (revived)
        old = sorted(used)
        numbers = [next(fresh) for _ in range(rng.randrange(1, 10))]
        used.update(numbers)
        if round_ % 2:
            numbers += rng.sample(old, min(4, len(old)))
        batch = []
        for n in numbers:
            formed = date(2020, 1, 1) + timedelta(days=rng.randrange(330))
            published = formed + timedelta(days=rng.randrange(60))
            body = record(rng.choice(ids), n, formed_on=str(formed), published_on=str(published))
            batch.append(body | {"url": f"http://www.huli.gov.cn/r/{n}.html"})
        response = push(client, editor, batch)
        assert response.status_code == 200, response.text
        written += [r["id"] for r in response.json()["records"]]
        if round_ % 3 == 2:
            for record_id in rng.sample(sorted(set(written)), 2):
                client.delete(f"/api/v1/records/{record_id}", headers=editor)  # 204, or 404
        stored = records.stored_counts(session.connection(), catalogue_ids)
        assert stored == records.defined_counts(session.connection(), catalogue_ids), round_
    assert stored  # the random writes left some records

    listed = _listed(client, editor)
    # as_of after every publication (the stored rows answer) and in the middle of them
    # (the catalogue is aggregated from its records as of that day): the same definition.
    for as_of in ("2021-03-01", "2020-07-01"):
        response = client.get(
            "/api/v1/audit/timeliness",
            params={"as_of": as_of, "district": HULI, "domain": "01"},
            headers=auditor,
        )
        assert response.status_code == 200, response.text
        (row,) = response.json()["rows"]
        mine = [r for r in listed if r["item_id"] in ids and r["published_on"] <= as_of]
        expected = {
            "records": len(mine),
            "on_time": sum(r["state"] == "on_time" for r in mine),
            "late": sum(r["state"] == "late" for r in mine),
            "unknown": sum(r["state"] == "unknown" for r in mine),
        }
        assert {key: row[key] for key in expected} == expected, as_of
        assert sorted(r["id"] for r in row["late_records"]) == sorted(
            r["id"] for r in mine if r["state"] == "late"
        )
        blank = {i for i, item in zip(ids, items, strict=True) if item["method"] == "主动"}
        blank -= {r["item_id"] for r in mine}
        assert {i["id"] for i in row["blank_items"]} == blank
