"""Disclosure records through HTTP: push, states on the 2020 calendar, bad input, scope,
delete, history, the version in force, lists."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.factories import HULI, HULI_STREET, SIMING, add_item, publish, token

TWENTY_DAYS = "信息形成或变更之日起20个工作日内"


def push(
    client: TestClient, headers: dict[str, str], records: list[dict[str, Any]], unit: str = HULI
) -> Any:
    return client.post(f"/api/v1/units/{unit}/records", json={"records": records}, headers=headers)


def record(item_id: int, n: int = 1, **overrides: Any) -> dict[str, Any]:
    body = {
        "item_id": item_id,
        "title": f"关于某项目的批复{n}",
        "url": f"http://www.huli.gov.cn/xxgk/{item_id}/{n}.html",
        "formed_on": "2020-09-28",
        "published_on": "2020-10-30",
    }
    return body | overrides


@pytest.fixture
def item(client: TestClient, editor: dict[str, str]) -> dict[str, Any]:
    made = add_item(client, editor, time_limit=TWENTY_DAYS)
    publish(client, editor)
    return made


def test_a_record_is_due_20_working_days_after_forming_across_national_day(
    client: TestClient, editor: dict[str, str], item: dict[str, Any]
) -> None:
    # 2020-09-28 (Mon) + 20 working days: 10-01..08 off, Saturday 10-10 worked → 11-02.
    response = push(
        client,
        editor,
        [
            record(item["id"], 1, published_on="2020-11-02"),
            record(item["id"], 2, published_on="2020-11-05"),
        ],
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["created"], body["updated"]) == (2, 0)
    on_time, late = body["records"]
    assert on_time["due_on"] == "2020-11-02"
    assert (on_time["state"], on_time["late_days"]) == ("on_time", None)
    assert (late["state"], late["late_days"]) == ("late", 3)
    assert late["unit_code"] == HULI
    assert late["item_gone"] is False


@pytest.mark.parametrize(
    ("time_limit", "formed_on", "published_on", "state", "due_on", "late_days"),
    [
        ("长期公开", "2020-03-01", "2020-05-01", "no_limit", None, None),
        ("实时公开", "2020-05-01", "2020-05-01", "on_time", "2020-05-01", None),
        # 实时 on Labour Day: 05-02..05 are off too, so 05-06 is one working day late.
        ("实时公开", "2020-05-01", "2020-05-06", "late", "2020-05-01", 1),
        ("按有关规定办理", "2020-05-01", "2020-05-06", "unknown", None, None),
        ("信息形成之日起7日内", "2020-04-28", "2020-05-06", "on_time", "2020-05-06", None),
        ("每季度更新", "2020-05-01", "2020-07-01", "late", "2020-06-30", 1),
        (TWENTY_DAYS, "2003-03-03", "2003-03-05", "unknown", None, None),
    ],
)
def test_states_follow_the_items_time_limit(
    client: TestClient,
    editor: dict[str, str],
    time_limit: str,
    formed_on: str,
    published_on: str,
    state: str,
    due_on: str | None,
    late_days: int | None,
) -> None:
    made = add_item(client, editor, time_limit=time_limit)
    response = push(
        client, editor, [record(made["id"], formed_on=formed_on, published_on=published_on)]
    )
    assert response.status_code == 200, response.text
    got = response.json()["records"][0]
    assert (got["state"], got["due_on"], got["late_days"]) == (state, due_on, late_days)
    if state in ("unknown", "no_limit"):
        assert got["note"]
    if formed_on.startswith("2003"):
        assert "2003" in got["note"]


def test_a_push_judges_each_record_on_its_own_dates_and_answers_in_its_order(
    client: TestClient, editor: dict[str, str], item: dict[str, Any]
) -> None:
    # One call, one limit: due dates are evaluated once per formed date and the working
    # days late once per (due date, published date), yet each record gets its own.
    dates = [
        ("2020-09-28", "2020-11-02", "on_time", "2020-11-02", None),
        ("2020-09-28", "2020-11-05", "late", "2020-11-02", 3),
        ("2020-09-28", "2020-11-05", "late", "2020-11-02", 3),
        ("2020-09-29", "2020-11-05", "late", "2020-11-03", 2),
        ("2020-09-28", "2020-11-09", "late", "2020-11-02", 5),
    ]
    sent = [
        record(item["id"], n, formed_on=formed_on, published_on=published_on)
        for n, (formed_on, published_on, *_) in enumerate(dates)
    ]
    response = push(client, editor, sent)
    assert response.status_code == 200, response.text
    got = response.json()["records"]
    assert [r["url"] for r in got] == [r["url"] for r in sent]
    assert [(r["state"], r["due_on"], r["late_days"]) for r in got] == [
        (state, due_on, late) for *_, state, due_on, late in dates
    ]
    ids = [r["id"] for r in got]
    assert ids == sorted(set(ids))
    listed = client.get(f"/api/v1/units/{HULI}/records", headers=editor).json()["items"]
    assert [(r["id"], r["url"]) for r in listed] == [(r["id"], r["url"]) for r in got]


def test_sending_the_same_url_again_updates_the_record(
    client: TestClient, editor: dict[str, str], item: dict[str, Any]
) -> None:
    first = push(client, editor, [record(item["id"])]).json()["records"][0]
    again = push(
        client, editor, [record(item["id"], title="更正后的标题", published_on="2020-11-06")]
    )
    assert again.status_code == 200
    body = again.json()
    assert (body["created"], body["updated"]) == (0, 1)
    assert body["records"][0]["id"] == first["id"]
    assert body["records"][0]["title"] == "更正后的标题"
    assert body["records"][0]["state"] == "late"
    listed = client.get(f"/api/v1/units/{HULI}/records", headers=editor).json()["items"]
    assert [r["id"] for r in listed] == [first["id"]]


def _bad(item_id: int, other_item: int) -> list[tuple[dict[str, Any], str, str]]:
    return [
        (record(item_id, url="ftp://www.huli.gov.cn/a.html"), "url", "value_error"),
        (record(item_id, url="javascript:alert(1)"), "url", "value_error"),
        (
            record(item_id, formed_on="2020-10-02", published_on="2020-10-01"),
            "published_on",
            "published_before_formed",
        ),
        (
            record(item_id, formed_on="2099-01-01", published_on="2099-01-02"),
            "formed_on",
            "future_date",
        ),
        (record(other_item), "item_id", "item_of_another_unit"),
        (record(2_000_000_000), "item_id", "unknown_item"),
    ]


def test_each_bad_record_is_422_naming_index_and_field_and_nothing_is_stored(
    client: TestClient, editor: dict[str, str], item: dict[str, Any], session: Session
) -> None:
    other = add_item(client, token(session, "editor", SIMING), unit=SIMING)
    for bad, field, kind in _bad(item["id"], other["id"]):
        good = record(item["id"], 7)
        response = push(client, editor, [good, bad | {"url": bad["url"]}])
        assert response.status_code == 422, (bad, response.text)
        errors = response.json()["detail"]
        assert any(
            e["loc"] == ["body", "records", 1, field]
            and (kind in e["type"] or kind == "value_error")
            for e in errors
        ), errors
        assert all("/" in e["msg"] for e in errors)  # 中文 / English
    listed = client.get(f"/api/v1/units/{HULI}/records", headers=editor).json()
    assert listed["items"] == []


def test_duplicated_urls_in_one_call_are_422_at_the_second(
    client: TestClient, editor: dict[str, str], item: dict[str, Any]
) -> None:
    response = push(client, editor, [record(item["id"], 1), record(item["id"], 1)])
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "records", 1, "url"]
    assert response.json()["detail"][0]["type"] == "duplicate_url"


def test_1001_records_in_one_call_are_422_and_1000_are_accepted(
    client: TestClient, editor: dict[str, str], item: dict[str, Any]
) -> None:
    many = [record(item["id"], n) for n in range(1001)]
    response = push(client, editor, many)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "records"]
    response = push(client, editor, many[:1000])
    assert response.status_code == 200
    assert response.json()["created"] == 1000


def test_a_district_editor_writes_for_its_streets_and_an_auditor_only_reads(
    client: TestClient, editor: dict[str, str], session: Session
) -> None:
    street_item = add_item(client, editor, unit=HULI_STREET)
    assert push(client, editor, [record(street_item["id"])], unit=HULI_STREET).status_code == 200
    auditor = token(session, "auditor")
    assert (
        push(client, auditor, [record(street_item["id"], 2)], unit=HULI_STREET).status_code == 403
    )
    listed = client.get(f"/api/v1/units/{HULI_STREET}/records", headers=auditor)
    assert listed.status_code == 200
    assert len(listed.json()["items"]) == 1
    other = token(session, "editor", SIMING)
    assert push(client, other, [record(street_item["id"], 3)], unit=HULI_STREET).status_code == 403
    assert client.get(f"/api/v1/units/{HULI_STREET}/records", headers=other).status_code == 403
    street_editor = token(session, "editor", HULI_STREET)
    assert client.get(f"/api/v1/units/{HULI}/records", headers=street_editor).status_code == 403


def test_delete_removes_a_record_and_the_history_says_who_wrote_and_deleted(
    client: TestClient, editor: dict[str, str], item: dict[str, Any], session: Session
) -> None:
    created = push(client, editor, [record(item["id"], 1), record(item["id"], 2)]).json()
    first = created["records"][0]
    assert (
        client.delete(
            f"/api/v1/records/{first['id']}", headers=token(session, "auditor")
        ).status_code
        == 403
    )
    assert (
        client.delete(
            f"/api/v1/records/{first['id']}", headers=editor | {"If-Match": '"r1.0"'}
        ).status_code
        == 412
    )
    assert client.delete(f"/api/v1/records/{first['id']}", headers=editor).status_code == 204
    assert client.delete(f"/api/v1/records/{first['id']}", headers=editor).status_code == 404
    listed = client.get(f"/api/v1/units/{HULI}/records", headers=editor).json()["items"]
    assert [r["id"] for r in listed] == [created["records"][1]["id"]]
    changes = client.get(f"/api/v1/units/{HULI}/catalogues/01/history", headers=editor).json()
    entries = changes if isinstance(changes, list) else changes["items"]
    record_entries = [e for e in entries if e["entity"] in ("records", "record")]
    assert [e["action"] for e in record_entries] == ["delete", "upsert"]
    assert {r["url"] for r in record_entries[1]["after"]} == {r["url"] for r in created["records"]}
    assert record_entries[0]["before"]["id"] == first["id"]


def test_a_deleted_items_records_stay_readable_and_say_it_is_gone(
    client: TestClient, editor: dict[str, str]
) -> None:
    made = add_item(client, editor)
    saved = push(client, editor, [record(made["id"])]).json()["records"][0]
    response = client.delete(
        f"/api/v1/items/{made['id']}", headers=editor | {"If-Match": made["etag"]}
    )
    assert response.status_code == 204
    listed = client.get(f"/api/v1/units/{HULI}/records", headers=editor).json()["items"]
    assert [(r["id"], r["item_gone"]) for r in listed] == [(saved["id"], True)]
    # …and no new record may name it.
    assert push(client, editor, [record(made["id"], 2)]).status_code == 422


def test_records_keep_the_due_date_of_the_version_in_force_when_they_were_formed(
    client: TestClient, editor: dict[str, str]
) -> None:
    made = add_item(client, editor, time_limit=TWENTY_DAYS)
    publish(client, editor, compiled_on="2020-09-01", published_on="2020-09-10")
    response = client.patch(
        f"/api/v1/items/{made['id']}",
        json={"time_limit": "信息形成之日起5个工作日内"},
        headers=editor | {"If-Match": made["etag"]},
    )
    assert response.status_code == 200, response.text
    publish(client, editor, compiled_on="2020-10-20", published_on="2020-11-05")
    body = push(
        client,
        editor,
        [
            # formed under version 1 (20 working days) → due 11-02
            record(made["id"], 1, formed_on="2020-09-28", published_on="2020-10-30"),
            # formed under version 2 (5 working days): 2020-11-09 + 5 → 11-16
            record(made["id"], 2, formed_on="2020-11-09", published_on="2020-11-17"),
        ],
    ).json()["records"]
    assert (body[0]["due_on"], body[0]["state"]) == ("2020-11-02", "on_time")
    assert (body[1]["due_on"], body[1]["state"], body[1]["late_days"]) == (
        "2020-11-16",
        "late",
        1,
    )


def test_the_list_filters_and_pages_with_a_cursor(
    client: TestClient, editor: dict[str, str], item: dict[str, Any]
) -> None:
    other = add_item(client, editor)
    push(
        client,
        editor,
        [
            record(item["id"], 1, published_on="2020-10-30"),
            record(item["id"], 2, published_on="2020-11-05"),
            record(other["id"], 3, formed_on="2020-11-18", published_on="2020-11-20"),
        ],
    )
    url = f"/api/v1/units/{HULI}/records"
    late = client.get(url, params={"state": "late"}, headers=editor).json()["items"]
    assert [r["published_on"] for r in late] == ["2020-11-05"]
    of_item = client.get(url, params={"item_id": item["id"]}, headers=editor).json()["items"]
    assert len(of_item) == 2
    window = client.get(url, params={"from": "2020-11-01", "to": "2020-11-10"}, headers=editor)
    assert [r["published_on"] for r in window.json()["items"]] == ["2020-11-05"]
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = client.get(url, params=params, headers=editor).json()
        seen += [r["id"] for r in page["items"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert len(seen) == 3
    assert seen == sorted(seen)
    assert client.get(url, params={"cursor": "bogus"}, headers=editor).status_code == 422


def test_loading_a_missing_calendar_year_judges_its_records_again(
    client: TestClient, editor: dict[str, str], session: Session, item: dict[str, Any]
) -> None:
    saved = push(
        client, editor, [record(item["id"], formed_on="2003-03-03", published_on="2003-04-30")]
    ).json()["records"][0]
    assert saved["state"] == "unknown"
    arrangement = {"source": "国办发明电〔2002〕17号", "holidays": [], "workdays": []}
    response = client.put(
        "/api/v1/calendar/2003", json=arrangement, headers=token(session, "auditor")
    )
    assert response.status_code == 200, response.text
    (judged,) = client.get(f"/api/v1/units/{HULI}/records", headers=editor).json()["items"]
    # Monday 2003-03-03 + 20 working days (no holiday loaded) = Monday 2003-03-31.
    assert (judged["due_on"], judged["state"], judged["late_days"]) == ("2003-03-31", "late", 22)
