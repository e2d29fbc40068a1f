"""Catalogues through HTTP: first use, applicability, compile, publish."""

import re
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, event
from sqlmodel import Session

from tests.factories import HULI, add_item, token

BASE = f"/api/v1/units/{HULI}/catalogues"


def test_a_catalogue_exists_on_first_use(client: TestClient, editor: dict[str, str]) -> None:
    fresh = client.get(f"{BASE}/05", headers=editor)
    assert fresh.status_code == 200
    assert fresh.json() | {"items": []} == fresh.json()
    assert fresh.json()["status"] == "draft"
    assert fresh.json()["version"] == 0
    add_item(client, editor, domain="05")
    assert len(client.get(f"{BASE}/05", headers=editor).json()["items"]) == 1


def test_list_has_one_row_per_domain(client: TestClient, editor: dict[str, str]) -> None:
    add_item(client, editor, domain="03")
    add_item(client, editor, domain="03", basis=None)
    rows = client.get(BASE, headers=editor).json()
    assert [r["domain_code"] for r in rows] == [f"{n:02d}" for n in range(1, 27)]
    row = rows[2]
    assert (row["item_count"], row["lacking_count"], row["status"], row["applicable"]) == (
        2,
        1,
        "draft",
        True,
    )


def test_not_applicable_needs_a_reason(client: TestClient, editor: dict[str, str]) -> None:
    url = f"{BASE}/07/applicability"
    response = client.put(url, json={"applicable": False}, headers=editor)
    assert response.status_code == 422
    assert "reason" in response.json()["detail"][0]["msg"]
    response = client.put(
        url, json={"applicable": False, "reason": "辖区无农村集体土地"}, headers=editor
    )
    assert response.status_code == 200
    assert response.json()["applicable"] is False
    assert response.json()["not_applicable_reason"] == "辖区无农村集体土地"
    back = client.put(url, json={"applicable": True}, headers=editor)
    assert back.json()["not_applicable_reason"] is None


def test_compile_refuses_listing_every_lacking_item(
    client: TestClient, editor: dict[str, str]
) -> None:
    add_item(client, editor)
    bad = add_item(client, editor, basis=None, audience=None)
    response = client.post(f"{BASE}/01/compile", json={"compiled_on": "2020-10-20"}, headers=editor)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert [(d["loc"][1], d["loc"][2]) for d in detail] == [
        (bad["id"], "basis"),
        (bad["id"], "audience"),
    ]
    assert [(d["item_id"], d["position"]) for d in detail] == [(bad["id"], 2), (bad["id"], 2)]
    assert detail[0]["msg"].startswith(
        f"第 2 项“{bad['name']}”（事项ID {bad['id']}）缺少公开依据 /"
    )
    assert "缺少公开对象" in detail[1]["msg"]
    assert "audience" in detail[1]["msg"].split(" / ")[1]
    catalogue = client.get(f"{BASE}/01", headers=editor).json()
    assert catalogue["status"] == "draft"
    assert catalogue["compiled_on"] is None


def test_publishing_an_uncompiled_incomplete_catalogue_lists_what_is_missing(
    client: TestClient, editor: dict[str, str]
) -> None:
    bad = add_item(client, editor, method=None)
    body = {"published_on": "2020-11-05", "url": "http://www.huli.gov.cn/"}
    response = client.post(f"{BASE}/01/publish", json=body, headers=editor)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert [(d["loc"], d["item_id"], d["position"]) for d in detail] == [
        (["items", bad["id"], "method"], bad["id"], 1)
    ]
    assert "缺少公开方式" in detail[0]["msg"]
    etag = client.get(f"/api/v1/items/{bad['id']}", headers=editor).headers["ETag"]
    client.patch(
        f"/api/v1/items/{bad['id']}", json={"method": "主动"}, headers=editor | {"If-Match": etag}
    )
    complete = client.post(f"{BASE}/01/publish", json=body, headers=editor)
    assert complete.status_code == 409  # complete, but never compiled


def test_compile_then_publish_records_dates_url_and_version(
    client: TestClient, editor: dict[str, str]
) -> None:
    add_item(client, editor)
    assert (
        client.post(
            f"{BASE}/01/publish",
            json={"published_on": "2020-11-05", "url": "http://a.b/c"},
            headers=editor,
        ).status_code
        == 409
    )
    compiled = client.post(f"{BASE}/01/compile", json={"compiled_on": "2020-10-20"}, headers=editor)
    assert compiled.json()["status"] == "compiled"
    assert compiled.json()["compiled_on"] == "2020-10-20"
    bad_url = client.post(
        f"{BASE}/01/publish",
        json={"published_on": "2020-11-05", "url": "javascript:x"},
        headers=editor,
    )
    assert bad_url.status_code == 422
    published = client.post(
        f"{BASE}/01/publish",
        json={"published_on": "2020-11-05", "url": "http://www.huli.gov.cn/zwgk/01"},
        headers=editor,
    )
    assert published.status_code == 200
    assert published.json()["version"] == 1
    catalogue = client.get(f"{BASE}/01", headers=editor).json()
    assert (catalogue["status"], catalogue["published_on"], catalogue["published_url"]) == (
        "published",
        "2020-11-05",
        "http://www.huli.gov.cn/zwgk/01",
    )


def test_an_edit_after_publish_reopens_the_draft(
    client: TestClient, editor: dict[str, str]
) -> None:
    item = add_item(client, editor)
    client.post(f"{BASE}/01/compile", json={"compiled_on": "2020-10-20"}, headers=editor)
    client.post(
        f"{BASE}/01/publish",
        json={"published_on": "2020-11-05", "url": "http://x.cn/a"},
        headers=editor,
    )
    client.patch(
        f"/api/v1/items/{item['id']}",
        json={"content": "新内容"},
        headers=editor | {"If-Match": item["etag"]},
    )
    catalogue = client.get(f"{BASE}/01", headers=editor).json()
    assert (catalogue["status"], catalogue["version"], catalogue["first_published_on"]) == (
        "draft",
        1,
        "2020-11-05",
    )


def test_dates_in_the_future_are_refused(client: TestClient, editor: dict[str, str]) -> None:
    add_item(client, editor)
    response = client.post(f"{BASE}/01/compile", json={"compiled_on": "2999-01-01"}, headers=editor)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "compiled_on"]


def test_not_applicable_catalogue_cannot_be_compiled(
    client: TestClient, editor: dict[str, str]
) -> None:
    add_item(client, editor)
    client.put(
        f"{BASE}/01/applicability", json={"applicable": False, "reason": "无"}, headers=editor
    )
    assert (
        client.post(
            f"{BASE}/01/compile", json={"compiled_on": "2020-10-20"}, headers=editor
        ).status_code
        == 409
    )


def test_catalogue_if_match_when_sent_must_be_current(
    client: TestClient, editor: dict[str, str]
) -> None:
    add_item(client, editor)
    etag = client.get(f"{BASE}/01", headers=editor).headers["ETag"]
    add_item(client, editor)
    response = client.put(
        f"{BASE}/01/applicability", json={"applicable": True}, headers=editor | {"If-Match": etag}
    )
    assert response.status_code == 412


def test_a_revised_catalogue_is_republished_without_another_compile(
    client: TestClient, editor: dict[str, str]
) -> None:
    item = add_item(client, editor)
    client.post(f"{BASE}/01/compile", json={"compiled_on": "2020-10-20"}, headers=editor)
    publish = {"published_on": "2020-11-05", "url": "http://x.cn/a"}
    assert client.post(f"{BASE}/01/publish", json=publish, headers=editor).json()["version"] == 1
    client.patch(
        f"/api/v1/items/{item['id']}",
        json={"basis": None},
        headers=editor | {"If-Match": item["etag"]},
    )
    refused = client.post(f"{BASE}/01/publish", json=publish, headers=editor)
    assert refused.status_code == 422  # still checked: nothing may lack
    add_item(client, editor)
    fixed = client.get(f"{BASE}/01", headers=editor).json()["items"][0]
    etag = client.get(f"/api/v1/items/{fixed['id']}", headers=editor).headers["ETag"]
    client.patch(
        f"/api/v1/items/{fixed['id']}",
        json={"basis": "《条例》"},
        headers=editor | {"If-Match": etag},
    )
    assert client.post(f"{BASE}/01/publish", json=publish, headers=editor).json()["version"] == 2


def test_listing_reads_the_stored_counts_not_every_item(
    client: TestClient, editor: dict[str, str], engine: Engine
) -> None:
    """It aggregated every item in the database on each call; the counts kept on write
    are what it reads now (one row per domain whatever the number of items)."""
    add_item(client, editor, domain="03")
    statements: list[str] = []

    def seen(*args: Any) -> None:
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", seen)
    try:
        rows = client.get(BASE, headers=editor).json()
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert rows[2]["item_count"] == 1
    assert not [s for s in statements if re.search(r"\bFROM items\b|\bJOIN items\b", s)]


def test_dates_that_cannot_be_true_are_422_naming_the_rule(
    client: TestClient, session: Session
) -> None:
    from tests.factories import opinion_body, publish

    editor = token(session, "editor", HULI)
    base = f"/api/v1/units/{HULI}/catalogues/01"
    add_item(client, editor)
    early = client.post(f"{base}/compile", json={"compiled_on": "0001-01-01"}, headers=editor)
    assert early.status_code == 422
    assert early.json()["detail"][0]["type"] == "date_too_early"
    opinion = client.post(
        "/api/v1/opinions", json=opinion_body(issued_on="0001-01-01"), headers=editor
    )
    assert opinion.status_code == 422
    assert opinion.json()["detail"][0]["type"] == "date_too_early"
    publish(client, editor, published_on="2020-11-05")
    backwards = client.post(
        f"{base}/publish",
        json={"published_on": "2020-11-04", "url": "http://www.huli.gov.cn/a/"},
        headers=editor,
    )
    assert backwards.status_code == 422
    assert backwards.json()["detail"][0]["type"] == "date_order"
    assert "2020-11-05" in backwards.json()["detail"][0]["msg"]
