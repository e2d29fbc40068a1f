"""What the service lets slip: tokens in logs, drafts in caches, ids across units, and
units in places of the tree where they cannot be."""

import logging

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.auth import RedactTokens
from app.config import Settings
from app.services import published_cache
from tests.factories import CITY, HULI, HULI_STREET, SIMING, add_item, make_unit, token


def logged(message: str, *args: object) -> str:
    record = logging.LogRecord("uvicorn.access", logging.INFO, "", 0, message, args, None)
    RedactTokens().filter(record)
    return record.getMessage()


def test_a_percent_encoded_token_in_a_query_string_is_masked_in_the_log() -> None:
    secret = "gk_" + "S3cretS3cretS3cret"
    for sent in (
        f"/api/v1/domains?t={secret}",
        "/api/v1/domains?t=gk%5FS3cretS3cretS3cret",
        "/api/v1/domains?t=gk%255FS3cretS3cretS3cret",
        "/api/v1/domains?t=%67%6B%5F%53%33cretS3cretS3cret",
    ):
        line = logged('%s - "%s %s HTTP/%s" %d', "127.0.0.1", "GET", sent, "1.1", 200)
        assert "S3cret" not in line, line
        assert "gk_***" in line


def test_a_draft_download_is_never_kept_by_a_shared_cache(
    client: TestClient, session: Session
) -> None:
    editor = token(session, "editor", HULI)
    add_item(client, editor)
    for fmt in ("json", "csv", "xlsx", "html"):
        response = client.get(f"/api/v1/units/{HULI}/catalogues/01?format={fmt}", headers=editor)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "private, no-store", fmt


def test_another_units_item_answers_as_a_missing_one(client: TestClient, session: Session) -> None:
    item = add_item(client, token(session, "editor", HULI))
    other = token(session, "editor", SIMING)
    missing = 2**31 - 1
    for method in ("GET", "PATCH", "DELETE"):
        kwargs = {"json": {"name": "x"}} if method == "PATCH" else {}
        headers = other | {"If-Match": '"1"'}
        theirs = client.request(method, f"/api/v1/items/{item['id']}", headers=headers, **kwargs)
        nothing = client.request(method, f"/api/v1/items/{missing}", headers=headers, **kwargs)
        assert (theirs.status_code, nothing.status_code) == (404, 404), method
        assert theirs.json()["detail"].replace(str(item["id"]), "N") == nothing.json()[
            "detail"
        ].replace(str(missing), "N")


def test_units_fit_the_tree(client: TestClient, session: Session) -> None:
    admin = token(session, "admin")

    def create(code: str, kind: str, parent: str | None) -> int:
        body = {"code": code, "name": f"单位{code}", "kind": kind, "parent_code": parent}
        status: int = client.post("/api/v1/units", json=body, headers=admin).status_code
        return status

    assert create("T9001", "district", HULI_STREET) == 422  # a district under a street
    assert create("T9002", "street", CITY) == 422
    assert create("T9003", "town", HULI_STREET) == 422
    assert create("T9004", "city", HULI) == 422
    assert create("T9005", "department", HULI_STREET) == 422
    assert create("T9006", "district", None) == 422
    assert create("T9007", "street", HULI) == 201
    assert create("T9008", "department", HULI) == 201
    assert create("T9009", "department", CITY) == 201
    assert create("T9010", "district", CITY) == 201


def test_a_district_editor_writes_its_streets_and_towns_not_its_departments(
    client: TestClient, session: Session
) -> None:
    department = make_unit(session, kind="department", parent_code=HULI)
    editor = token(session, "editor", HULI)
    url = "/api/v1/units/{}/catalogues/01/items"
    body = {"first_level": "甲", "name": "乙"}
    assert client.post(url.format(department.code), json=body, headers=editor).status_code == 403
    own = token(session, "editor", department.code)
    assert client.post(url.format(department.code), json=body, headers=own).status_code == 201
    assert client.post(url.format(HULI_STREET), json=body, headers=editor).status_code == 201


def test_remembered_lookups_stay_within_their_byte_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(published_cache, "get_settings", lambda: Settings(published_lookup_mb=1))
    remembered = published_cache._Expiring[str, None]()
    for n in range(20_000):
        remembered.put(f"T{n:031d}", None, 60.0)
    assert 900_000 < remembered.size <= 1_000_000
    assert remembered.get(f"T{19_999:031d}") == (None,)  # the newest stay
    assert remembered.get(f"T{0:031d}") is None  # the oldest went first
    remembered.put("gone", None, -1.0)
    assert remembered.get("gone") is None
