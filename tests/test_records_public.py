"""The public column (published tree + records) and record changes in the public feed."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.factories import HULI, SIMING, add_item, publish, token
from tests.test_records import push, record

COLUMN = f"/api/v1/public/units/{HULI}/catalogues/01/records"


@pytest.fixture
def items(client: TestClient, editor: dict[str, str]) -> list[dict[str, Any]]:
    made = [add_item(client, editor), add_item(client, editor)]
    publish(client, editor)
    return made


def test_published_items_carry_their_id_in_every_version(
    client: TestClient, editor: dict[str, str], items: list[dict[str, Any]]
) -> None:
    tree = client.get(f"/api/v1/public/units/{HULI}/catalogues/01").json()
    ids = [i["id"] for first in tree["first_level_items"] for i in first["items"]]
    assert ids == [items[0]["id"], items[1]["id"]]
    publish(client, editor, published_on="2020-11-20")
    again = client.get(f"/api/v1/public/units/{HULI}/catalogues/01").json()
    assert again["version"] == 2
    assert [i["id"] for first in again["first_level_items"] for i in first["items"]] == ids


def test_the_column_shows_each_items_records_newest_first(
    client: TestClient, editor: dict[str, str], items: list[dict[str, Any]]
) -> None:
    first = items[0]["id"]
    push(
        client,
        editor,
        [
            record(first, 1, published_on="2020-10-01"),
            record(first, 2, published_on="2020-10-30"),
            record(first, 3, published_on="2020-10-15"),
        ],
    )
    response = client.get(COLUMN)
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    tree = response.json()
    listed = {i["id"]: i["records"] for group in tree["first_level_items"] for i in group["items"]}
    assert [r["published_on"] for r in listed[first]] == ["2020-10-30", "2020-10-15", "2020-10-01"]
    assert listed[items[1]["id"]] == []
    assert set(listed[first][0]) == {
        "id",
        "title",
        "url",
        "formed_on",
        "published_on",
        "due_on",
        "state",
        "late_days",
    }


def test_the_etag_changes_with_every_record_write_and_delete(
    client: TestClient, editor: dict[str, str], items: list[dict[str, Any]]
) -> None:
    empty = client.get(COLUMN)
    tag = empty.headers["etag"]
    assert client.get(COLUMN, headers={"If-None-Match": tag}).status_code == 304
    saved = push(client, editor, [record(items[0]["id"])]).json()["records"][0]
    written = client.get(COLUMN, headers={"If-None-Match": tag})
    assert written.status_code == 200
    assert written.headers["etag"] != tag
    same = push(client, editor, [record(items[0]["id"], title="新标题")])
    assert same.json()["updated"] == 1
    updated = client.get(COLUMN)
    assert updated.headers["etag"] != written.headers["etag"]
    assert client.delete(f"/api/v1/records/{saved['id']}", headers=editor).status_code == 204
    deleted = client.get(COLUMN, headers={"If-None-Match": updated.headers["etag"]})
    assert deleted.status_code == 200
    assert deleted.headers["etag"] not in (tag, written.headers["etag"], updated.headers["etag"])


def test_a_pull_never_shows_another_units_records(
    client: TestClient, session: Session, editor: dict[str, str], items: list[dict[str, Any]]
) -> None:
    other = token(session, "editor", SIMING)
    theirs = add_item(client, other, unit=SIMING)
    publish(client, other, unit=SIMING)
    push(
        client, other, [record(theirs["id"], 9, url="http://www.siming.gov.cn/a.html")], unit=SIMING
    )
    push(client, editor, [record(items[0]["id"], 1)])
    body = client.get(COLUMN).text
    assert "siming.gov.cn" not in body
    assert "huli.gov.cn/xxgk" in body
    assert (
        "siming.gov.cn" in client.get(f"/api/v1/public/units/{SIMING}/catalogues/01/records").text
    )


def test_html_lists_each_item_with_its_records_as_links(
    client: TestClient, editor: dict[str, str], items: list[dict[str, Any]]
) -> None:
    push(client, editor, [record(items[0]["id"], 1, title="<b>批复</b>")])
    page = client.get(COLUMN, params={"format": "html"})
    assert page.headers["content-type"].startswith("text/html")
    assert '<a href="http://www.huli.gov.cn/xxgk/' in page.text
    assert "&lt;b&gt;批复&lt;/b&gt;" in page.text
    assert items[1]["name"] in page.text
    fragment = client.get(COLUMN, params={"format": "fragment"}).text
    assert "<html" not in fragment
    assert "<head" not in fragment
    assert "<script" not in fragment


def test_an_unpublished_catalogue_has_no_column(client: TestClient, editor: dict[str, str]) -> None:
    add_item(client, editor, domain="02")
    response = client.get(f"/api/v1/public/units/{HULI}/catalogues/02/records")
    assert response.status_code == 404


def test_the_feed_lists_record_changes_after_the_publish_and_resumes(
    client: TestClient, editor: dict[str, str], items: list[dict[str, Any]]
) -> None:
    start = client.get("/api/v1/public/changes").json()
    assert [c["kind"] for c in start["changes"]] == ["catalogue"]
    saved = push(client, editor, [record(items[0]["id"], 1), record(items[0]["id"], 2)]).json()
    page = client.get("/api/v1/public/changes", params={"since": start["next"]}).json()
    assert [(c["kind"], c["record_id"], c["deleted"]) for c in page["changes"]] == [
        ("record", r["id"], False) for r in saved["records"]
    ]
    assert page["changes"][0]["href"].endswith(f"/units/{HULI}/catalogues/01/records")
    client.delete(f"/api/v1/records/{saved['records'][0]['id']}", headers=editor)
    after = client.get("/api/v1/public/changes", params={"since": page["next"]}).json()
    assert [(c["record_id"], c["deleted"]) for c in after["changes"]] == [
        (saved["records"][0]["id"], True)
    ]
    # paging one at a time sees the same sequence, nothing skipped or repeated
    seen: list[tuple[str, Any]] = []
    cursor = None
    for _ in range(10):
        params: dict[str, Any] = {"limit": 1} | ({"since": cursor} if cursor else {})
        step = client.get("/api/v1/public/changes", params=params).json()
        seen += [(c["kind"], c.get("record_id", c.get("version"))) for c in step["changes"]]
        cursor = step["next"]
        if not step["has_more"]:
            break
    assert seen == [
        ("catalogue", 1),
        ("record", saved["records"][1]["id"]),
        ("record", saved["records"][0]["id"]),
    ]
