"""GET / PUT /calendar/{year}: what the service knows of a year, and loading an arrangement."""

from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.models.history import Change
from tests.factories import token

ARRANGEMENT: dict[str, Any] = {
    "source": "国务院办公厅关于2031年部分节假日安排的通知（测试）",
    "holidays": ["2031-01-01", "2031-10-01", "2031-10-02", "2031-10-03"],
    "workdays": ["2031-09-28"],
}


def test_a_package_year_lists_its_exceptions_to_the_week(client: TestClient) -> None:
    body = client.get("/api/v1/calendar/2020").json()
    assert (body["known"], body["origin"]) == (True, "package")
    assert body["source"].startswith("chinese-calendar")
    assert {"2020-10-01", "2020-10-02", "2020-10-05", "2020-10-08"} <= set(body["holidays"])
    assert "2020-10-03" not in body["holidays"]  # a Saturday: off anyway, not an exception
    assert {"2020-09-27", "2020-10-10"} <= set(body["workdays"])


def test_an_unknown_year_says_so(client: TestClient) -> None:
    body = client.get("/api/v1/calendar/2031").json()
    assert (body["known"], body["origin"], body["holidays"]) == (False, "unknown", [])
    assert "2031" in body["note"]


def test_loading_a_year_makes_it_known_and_is_logged(
    client: TestClient, session: Session, auditor: dict[str, str]
) -> None:
    response = client.put("/api/v1/calendar/2031", json=ARRANGEMENT, headers=auditor)
    assert response.status_code == 200, response.text
    body = client.get("/api/v1/calendar/2031").json()
    assert (body["known"], body["origin"], body["source"]) == (
        True,
        "loaded",
        ARRANGEMENT["source"],
    )
    assert body["holidays"] == ARRANGEMENT["holidays"]
    assert body["workdays"] == ARRANGEMENT["workdays"]
    change = session.exec(
        select(Change).where(Change.entity == "calendar").order_by(col(Change.id).desc())
    ).first()
    assert change is not None
    assert (change.action, change.entity_id, change.before) == ("load", "2031", None)
    assert change.after is not None
    assert change.after["holidays"] == ARRANGEMENT["holidays"]


def test_loading_again_replaces_the_year(
    client: TestClient, session: Session, auditor: dict[str, str]
) -> None:
    first = client.put("/api/v1/calendar/2031", json=ARRANGEMENT, headers=auditor)
    second = {"source": "更正", "holidays": ["2031-05-01"], "workdays": []}
    fresh = auditor | {"If-Match": first.headers["ETag"]}
    assert client.put("/api/v1/calendar/2031", json=second, headers=fresh).status_code == 200
    body = client.get("/api/v1/calendar/2031").json()
    assert (body["holidays"], body["workdays"], body["source"]) == (["2031-05-01"], [], "更正")
    change = session.exec(
        select(Change).where(Change.entity == "calendar").order_by(col(Change.id).desc())
    ).first()
    assert change is not None
    assert change.before is not None
    assert change.after is not None
    assert change.before["holidays"] == ARRANGEMENT["holidays"]


def test_every_date_must_be_in_the_year(client: TestClient, auditor: dict[str, str]) -> None:
    body = ARRANGEMENT | {"holidays": ["2031-10-01", "2032-01-01"], "workdays": ["2030-12-28"]}
    response = client.put("/api/v1/calendar/2031", json=body, headers=auditor)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert [d["loc"] for d in detail] == [["body", "holidays", 1], ["body", "workdays", 0]]
    assert all("2031" in d["msg"] for d in detail)
    assert client.get("/api/v1/calendar/2031").json()["known"] is False


def test_a_day_cannot_be_both_holiday_and_workday(
    client: TestClient, auditor: dict[str, str]
) -> None:
    body = ARRANGEMENT | {"workdays": ["2031-10-01"]}
    response = client.put("/api/v1/calendar/2031", json=body, headers=auditor)
    assert response.status_code == 422
    assert "2031-10-01" in response.json()["detail"][0]["msg"]


def test_a_source_is_required(client: TestClient, auditor: dict[str, str]) -> None:
    body = {k: v for k, v in ARRANGEMENT.items() if k != "source"}
    response = client.put("/api/v1/calendar/2031", json=body, headers=auditor)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "source"]


def test_an_editor_cannot_load_a_year(client: TestClient, session: Session) -> None:
    editor = token(session, "editor", "350206")
    response = client.put("/api/v1/calendar/2031", json=ARRANGEMENT, headers=editor)
    assert response.status_code == 403


def test_a_weekday_cannot_be_made_a_working_day(
    client: TestClient, auditor: dict[str, str]
) -> None:
    body = ARRANGEMENT | {"workdays": ["2031-09-28", "2031-03-03"]}  # Sunday, Monday
    response = client.put("/api/v1/calendar/2031", json=body, headers=auditor)
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert (error["loc"], error["type"]) == (["body", "workdays", 1], "workday_not_weekend")
    assert "周一" in error["msg"]
    assert "Monday" in error["msg"]
    assert client.get("/api/v1/calendar/2031").json()["known"] is False


def test_unusual_arrangements_are_stored_with_warnings(
    client: TestClient, auditor: dict[str, str]
) -> None:
    body = ARRANGEMENT | {
        "holidays": [*ARRANGEMENT["holidays"], "2031-10-04"],  # a Saturday: off anyway
        "workdays": ["2031-09-28", "2031-06-07"],  # a Saturday far from any holiday
    }
    response = client.put("/api/v1/calendar/2031", json=body, headers=auditor)
    assert response.status_code == 200
    warnings = response.json()["warnings"]
    assert len(warnings) == 2
    assert "2031-10-04" in warnings[0]
    assert "ignored" in warnings[0]
    assert "2031-06-07" in warnings[1]
    stored = client.get("/api/v1/calendar/2031").json()
    assert "2031-10-04" not in stored["holidays"]
    assert stored["workdays"] == ["2031-06-07", "2031-09-28"]
    assert stored["warnings"] == []


def test_a_year_without_holidays_is_warned_about(
    client: TestClient, auditor: dict[str, str]
) -> None:
    body = {"source": "测试", "holidays": [], "workdays": []}
    response = client.put("/api/v1/calendar/2031", json=body, headers=auditor)
    assert response.status_code == 200
    assert "no weekday holiday" in response.json()["warnings"][0]


def test_replacing_a_loaded_year_needs_if_match(
    client: TestClient, auditor: dict[str, str]
) -> None:
    """Issue 19.2: two auditors loading the same year must not overwrite each other."""
    url = "/api/v1/calendar/2031"
    never = client.get(url)
    assert never.headers["ETag"] == never.json()["etag"] == '"y2031.0"'
    # a first load needs none; a stale one is refused even then
    stale = client.put(url, json=ARRANGEMENT, headers=auditor | {"If-Match": '"y2031.7"'})
    assert stale.status_code == 412
    first = client.put(url, json=ARRANGEMENT, headers=auditor)
    assert first.status_code == 200, first.text
    etag = first.headers["ETag"]
    assert client.get(url).headers["ETag"] == etag == first.json()["etag"]
    second = {"source": "更正", "holidays": ["2031-05-01"], "workdays": []}
    assert client.put(url, json=second, headers=auditor).status_code == 428
    assert (
        client.put(url, json=second, headers=auditor | {"If-Match": "y2031.1"}).status_code == 400
    )
    replaced = client.put(url, json=second, headers=auditor | {"If-Match": etag})
    assert replaced.status_code == 200, replaced.text
    assert replaced.headers["ETag"] != etag
    lost = client.put(url, json=ARRANGEMENT, headers=auditor | {"If-Match": etag})
    assert lost.status_code == 412
    assert client.get(url).json()["source"] == "更正"
