"""A published version shows the names its unit and domain had when it was published.

The app has no rename route for units or domains, so the rename is an UPDATE in the test's
database (what an operator's SQL or a later rename route would do).
"""

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session

from app.services import published_cache, record_column
from tests.factories import HULI, add_item, publish, token
from tests.test_records import push, record

PUBLIC = "/api/v1/public"
ONE = f"{PUBLIC}/units/{HULI}/catalogues/01"
OLD_UNIT, OLD_DOMAIN = "湖里区", "城乡规划"
NEW_UNIT, NEW_DOMAIN = "湖里区（新名）", "城乡规划（新名）"


def snapshot(client: TestClient, version: int) -> dict[str, Any]:
    """Every rendering of one pinned version: bytes and ETag per format."""
    out: dict[str, Any] = {}
    for fmt in ("json", "html", "csv", "xlsx"):
        response = client.get(ONE, params={"version": version, "format": fmt})
        assert response.status_code == 200, response.text
        out[fmt] = (response.content, response.headers["ETag"])
    return out


def rename(session: Session) -> None:
    session.exec(text("UPDATE units SET name = :n WHERE code = :c").bindparams(n=NEW_UNIT, c=HULI))  # type: ignore[call-overload]
    session.exec(text("UPDATE domains SET name = :n WHERE code = '01'").bindparams(n=NEW_DOMAIN))  # type: ignore[call-overload]
    session.flush()
    # Forget what this process made, so every answer below is made again from the database.
    published_cache.clear_caches()
    record_column.clear_caches()


def test_a_rename_changes_no_published_version_but_shows_in_the_next(
    client: TestClient, session: Session
) -> None:
    editor = token(session, "editor", HULI)
    item = add_item(client, editor)
    assert publish(client, editor) == 1
    assert push(client, editor, [record(item["id"])]).status_code == 200
    shown = client.get(ONE).json()
    assert (shown["unit_name"], shown["domain_name"]) == (OLD_UNIT, OLD_DOMAIN)
    before = snapshot(client, 1)
    column = client.get(f"{ONE}/records")
    column_html = client.get(f"{ONE}/records", params={"format": "html"})
    listing = client.get(f"{PUBLIC}/units/{HULI}/catalogues").json()
    assert listing["catalogues"][0]["unit_name"] == OLD_UNIT

    rename(session)

    assert snapshot(client, 1) == before
    for fmt in ("csv", "xlsx"):  # the download's name is the version's too
        disposition = client.get(ONE, params={"version": 1, "format": fmt}).headers[
            "content-disposition"
        ]
        assert "%E6%96%B0%E5%90%8D" not in disposition  # 新名
    again = client.get(f"{ONE}/records")
    assert (again.content, again.headers["ETag"]) == (column.content, column.headers["ETag"])
    again_html = client.get(f"{ONE}/records", params={"format": "html"})
    assert again_html.content == column_html.content
    entries = client.get(f"{PUBLIC}/units/{HULI}/catalogues")
    # The listing is the unit as it is now; each version inside it keeps its own names.
    assert entries.json()["unit_name"] == NEW_UNIT
    assert entries.json()["catalogues"] == listing["catalogues"]

    assert publish(client, editor, published_on="2020-11-20") == 2
    latest = client.get(ONE).json()
    assert (latest["version"], latest["unit_name"], latest["domain_name"]) == (
        2,
        NEW_UNIT,
        NEW_DOMAIN,
    )
    assert NEW_UNIT.encode() in client.get(ONE, params={"format": "html"}).content
    download = client.get(ONE, params={"format": "csv"}).headers["content-disposition"]
    assert "%E6%96%B0%E5%90%8D" in download  # 新名
    assert client.get(f"{ONE}/records").json()["unit_name"] == NEW_UNIT
    assert snapshot(client, 1) == before  # and version 1 still as it was


def test_the_listing_etag_follows_the_units_name(client: TestClient, session: Session) -> None:
    editor = token(session, "editor", HULI)
    add_item(client, editor)
    publish(client, editor)
    first = client.get(f"{PUBLIC}/units/{HULI}/catalogues")
    rename(session)
    second = client.get(f"{PUBLIC}/units/{HULI}/catalogues")
    assert second.json()["unit_name"] == NEW_UNIT
    assert second.headers["ETag"] != first.headers["ETag"]
    assert second.json()["catalogues"] == first.json()["catalogues"]
