"""The request register through HTTP: the 条例's clock on the 2020 calendar, the sequences
it refuses, If-Match, scope, the list's filters, privacy."""

import logging
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.models.history import Change
from tests.factories import HULI, HULI_STREET, SIMING, token
from tests.factories import add_request as create
from tests.factories import request_body as body

BASE = f"/api/v1/units/{HULI}/requests"


def post_event(
    client: TestClient, headers: dict[str, str], request: dict[str, Any], **event: Any
) -> Any:
    response = client.post(
        f"/api/v1/requests/{request['id']}/events",
        json=event,
        headers=headers | {"If-Match": request["etag"]},
    )
    if response.status_code == 200:
        request.update(response.json())
        request["etag"] = response.headers["ETag"]
    return response


def event(
    client: TestClient, headers: dict[str, str], request: dict[str, Any], **data: Any
) -> dict[str, Any]:
    response = post_event(client, headers, request, **data)
    assert response.status_code == 200, response.text
    return request


def refused(
    client: TestClient, headers: dict[str, str], request: dict[str, Any], rule: str, **data: Any
) -> dict[str, Any]:
    response = post_event(client, headers, request, **data)
    assert response.status_code == 422, response.text
    error: dict[str, Any] = response.json()["detail"][0]
    assert error["type"] == rule, error
    assert "/" in error["msg"]  # Chinese / English
    return error


def test_due_on_is_the_20th_working_day_after_receipt_across_national_day(
    client: TestClient, editor: dict[str, str]
) -> None:
    # 2020-09-25 (Fri): day 1 is Sunday 09-27 (调休 working day), 10-01..08 are off, 10-10
    # (Saturday) works: the 20th working day is 10-29.
    request = create(client, editor)
    assert request["due_on"] == "2020-10-29"
    assert request["state"] == "open"
    assert request["events"] == []
    assert request["on_time"] is None
    assert request["extended_days"] == 0


def test_days_left_counts_working_days_and_goes_negative_when_overdue(
    client: TestClient, editor: dict[str, str]
) -> None:
    request = create(client, editor)
    url = f"/api/v1/requests/{request['id']}"
    assert client.get(url, params={"as_of": "2020-10-29"}, headers=editor).json()["days_left"] == 0
    assert client.get(url, params={"as_of": "2020-10-09"}, headers=editor).json()["days_left"] == 15
    assert client.get(url, params={"as_of": "2020-11-02"}, headers=editor).json()["days_left"] == -2


def test_an_answer_on_the_due_date_is_on_time_the_day_after_is_late(
    client: TestClient, editor: dict[str, str]
) -> None:
    on_time = event(
        client, editor, create(client, editor), kind="answered", on="2020-10-29", outcome="granted"
    )
    assert (on_time["state"], on_time["on_time"], on_time["outcome"]) == (
        "answered",
        True,
        "granted",
    )
    assert on_time["days_left"] is None
    late = event(
        client, editor, create(client, editor), kind="answered", on="2020-10-30", outcome="partial"
    )
    assert late["on_time"] is False
    assert late["answered_on"] == "2020-10-30"


def test_an_extension_adds_its_working_days_once(
    client: TestClient, editor: dict[str, str]
) -> None:
    request = create(client, editor)
    event(
        client,
        editor,
        request,
        kind="extended",
        on="2020-10-20",
        days=20,
        approved_by="政府信息公开工作机构负责人",
    )
    assert request["due_on"] == "2020-11-26"
    assert request["extended_days"] == 20
    refused(
        client,
        editor,
        request,
        "second_extension",
        kind="extended",
        on="2020-10-21",
        days=1,
        approved_by="负责人",
    )


def test_an_extension_of_21_days_or_without_approval_is_refused(
    client: TestClient, editor: dict[str, str]
) -> None:
    request = create(client, editor)
    error = refused(
        client,
        editor,
        request,
        "extension_days",
        kind="extended",
        on="2020-10-20",
        days=21,
        approved_by="负责人",
    )
    assert error["loc"] == ["body", "days"]
    assert "第33条" in error["msg"]
    refused(client, editor, request, "missing", kind="extended", on="2020-10-20", days=5)


def test_an_extension_after_the_period_ran_out_is_refused(
    client: TestClient, editor: dict[str, str]
) -> None:
    request = create(client, editor)
    refused(
        client,
        editor,
        request,
        "extension_after_due",
        kind="extended",
        on="2020-10-30",
        days=5,
        approved_by="负责人",
    )


def test_a_correction_restarts_the_20_days_from_the_corrected_application(
    client: TestClient, editor: dict[str, str]
) -> None:
    request = create(client, editor)
    event(client, editor, request, kind="correction_requested", on="2020-09-28")
    assert request["state"] == "awaiting_correction"
    assert request["due_on"] is None
    assert request["late_notice"] is False
    event(client, editor, request, kind="correction_received", on="2020-10-12")
    # 20 working days from Monday 10-12: 10-13 is day 1, 11-09 day 20.
    assert request["due_on"] == "2020-11-09"
    assert request["clock_start"] == "2020-10-12"
    assert request["state"] == "open"


def test_a_correction_notice_after_7_working_days_is_flagged_late(
    client: TestClient, editor: dict[str, str]
) -> None:
    # After 09-25: 09-27 (make-up Sunday), 28, 29, 30, 10-09, 10-10 (make-up Saturday), 12.
    timely = event(
        client, editor, create(client, editor), kind="correction_requested", on="2020-10-12"
    )
    assert timely["late_notice"] is False
    late = event(
        client, editor, create(client, editor), kind="correction_requested", on="2020-10-13"
    )
    assert late["late_notice"] is True


def test_no_correction_closes_as_other_processing(
    client: TestClient, editor: dict[str, str]
) -> None:
    request = create(client, editor)
    event(client, editor, request, kind="correction_requested", on="2020-09-28")
    event(client, editor, request, kind="correction_expired", on="2020-10-30")
    assert request["state"] == "answered"
    assert request["outcome"] == "other_no_correction"
    refused(client, editor, request, "closed", kind="withdrawn", on="2020-10-31")


@pytest.mark.parametrize(
    ("events", "rule"),
    [
        ([{"kind": "answered", "on": "2020-09-24", "outcome": "granted"}], "before_receipt"),
        ([{"kind": "correction_received", "on": "2020-09-28"}], "correction_not_requested"),
        ([{"kind": "correction_expired", "on": "2020-09-28"}], "correction_not_requested"),
        (
            [
                {"kind": "correction_requested", "on": "2020-09-29"},
                {"kind": "correction_received", "on": "2020-09-28"},
            ],
            "correction_before_request",
        ),
        (
            [
                {"kind": "correction_requested", "on": "2020-09-28"},
                {"kind": "correction_received", "on": "2020-09-29"},
                {"kind": "correction_requested", "on": "2020-09-30"},
            ],
            "second_correction",
        ),
        (
            [
                {"kind": "correction_requested", "on": "2020-09-28"},
                {"kind": "answered", "on": "2020-09-30", "outcome": "granted"},
            ],
            "awaiting_correction",
        ),
        (
            [
                {"kind": "answered", "on": "2020-09-28", "outcome": "granted"},
                {"kind": "answered", "on": "2020-09-29", "outcome": "granted"},
            ],
            "closed",
        ),
        (
            [
                {"kind": "withdrawn", "on": "2020-09-28"},
                {"kind": "consultation_started", "on": "2020-09-29", "party": "agency"},
            ],
            "closed",
        ),
        (
            [
                {"kind": "consultation_started", "on": "2020-09-29", "party": "agency"},
                {"kind": "consultation_started", "on": "2020-09-30", "party": "third_party"},
            ],
            "already_paused",
        ),
        ([{"kind": "consultation_ended", "on": "2020-09-29"}], "no_consultation"),
        (
            [
                {"kind": "consultation_started", "on": "2020-09-28", "party": "third_party"},
                {"kind": "consultation_ended", "on": "2020-10-27"},
            ],
            "consultation_lapsed",
        ),
        (
            [
                {"kind": "answered", "on": "2020-10-01", "outcome": "granted", "days": 3},
            ],
            "field_not_allowed",
        ),
        ([{"kind": "answered", "on": "2020-10-01"}], "missing"),
        ([{"kind": "consultation_started", "on": "2020-10-01"}], "missing"),
        (
            [
                {"kind": "extended", "on": "2020-10-09", "days": 3, "approved_by": "负责人"},
                {"kind": "withdrawn", "on": "2020-10-01"},
            ],
            "out_of_order",
        ),
    ],
)
def test_impossible_sequences_are_refused_naming_the_rule(
    client: TestClient, editor: dict[str, str], events: list[dict[str, Any]], rule: str
) -> None:
    request = create(client, editor)
    *before, last = events
    for data in before:
        event(client, editor, request, **data)
    refused(client, editor, request, rule, **last)
    after = client.get(f"/api/v1/requests/{request['id']}", headers=editor).json()
    assert len(after["events"]) == len(before)  # nothing stored


def test_a_consultation_does_not_count_and_a_third_party_one_ends_after_15_days(
    client: TestClient, editor: dict[str, str]
) -> None:
    request = create(client, editor)
    event(
        client, editor, request, kind="consultation_started", on="2020-09-28", party="third_party"
    )
    # 09-28 was day 2; the 15th working day after it is 10-26; 18 days are left after it.
    url = f"/api/v1/requests/{request['id']}"
    paused = client.get(url, params={"as_of": "2020-10-20"}, headers=editor).json()
    assert (paused["state"], paused["paused_until"], paused["days_left"]) == (
        "paused",
        "2020-10-26",
        18,
    )
    assert paused["due_on"] == "2020-11-19"
    lapsed = client.get(url, params={"as_of": "2020-10-27"}, headers=editor).json()
    assert (lapsed["state"], lapsed["days_left"]) == ("open", 17)


def test_a_consultation_that_ends_early_gives_back_only_the_paused_days(
    client: TestClient, editor: dict[str, str]
) -> None:
    request = create(client, editor)
    event(client, editor, request, kind="consultation_started", on="2020-09-28", party="agency")
    event(client, editor, request, kind="consultation_ended", on="2020-10-10")
    # Paused: 09-29, 09-30, 10-09, 10-10 (4 working days) → 10-29 + 4 = 11-04.
    assert request["due_on"] == "2020-11-04"
    assert request["state"] == "open"


def test_withdrawn_closes_the_request(client: TestClient, editor: dict[str, str]) -> None:
    request = event(client, editor, create(client, editor), kind="withdrawn", on="2020-10-09")
    assert request["state"] == "withdrawn"
    assert request["on_time"] is None
    assert request["days_left"] is None


def test_events_need_if_match(client: TestClient, editor: dict[str, str]) -> None:
    request = create(client, editor)
    url = f"/api/v1/requests/{request['id']}/events"
    data = {"kind": "withdrawn", "on": "2020-10-09"}
    assert client.post(url, json=data, headers=editor).status_code == 428
    stale = editor | {"If-Match": '"r0.0"'}
    assert client.post(url, json=data, headers=stale).status_code == 412
    fresh = editor | {"If-Match": request["etag"]}
    response = client.post(url, json=data, headers=fresh)
    assert response.status_code == 200
    assert response.headers["ETag"] != request["etag"]
    assert client.post(url, json=data, headers=fresh).status_code == 412


def test_a_year_missing_from_the_calendar_gives_no_due_date_and_a_note(
    client: TestClient, editor: dict[str, str]
) -> None:
    request = create(client, editor, received_on="2099-03-02")
    assert request["due_on"] is None
    assert request["days_left"] is None
    assert "2099" in request["note"]


def test_a_loaded_year_is_used(
    client: TestClient, editor: dict[str, str], session: Session
) -> None:
    auditor = token(session, "auditor")
    loaded = {"source": "test", "holidays": ["2099-03-03"], "workdays": []}
    assert client.put("/api/v1/calendar/2099", json=loaded, headers=auditor).status_code == 200
    request = create(client, editor, received_on="2099-03-02")
    # 2099-03-02 is a Monday; 03-03 is off: 20 working days end on Tuesday 03-31.
    assert request["due_on"] == "2099-03-31"


def test_channel_and_applicant_type_are_vocabularies(
    client: TestClient, editor: dict[str, str]
) -> None:
    for field, value in (("channel", "微信"), ("applicant_type", "person")):
        response = client.post(BASE, json=body(**{field: value}), headers=editor)
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", field]


def test_no_names_or_contacts_are_accepted(client: TestClient, editor: dict[str, str]) -> None:
    response = client.post(
        BASE, json=body(applicant_name="张三", phone="13800000000"), headers=editor
    )
    assert response.status_code == 422
    assert {tuple(e["loc"]) for e in response.json()["detail"]} == {
        ("body", "applicant_name"),
        ("body", "phone"),
    }


def test_a_reference_is_unique_within_the_unit(client: TestClient, editor: dict[str, str]) -> None:
    create(client, editor, reference="湖政公开〔2020〕1号")
    again = client.post(BASE, json=body(reference="湖政公开〔2020〕1号"), headers=editor)
    assert again.status_code == 409


def test_the_register_is_never_public(client: TestClient, editor: dict[str, str]) -> None:
    request = create(client, editor)
    assert client.get(BASE).status_code == 401
    assert client.get(f"/api/v1/requests/{request['id']}").status_code == 401
    spec = client.get("/openapi.json").json()
    assert not any("request" in path for path in spec["paths"] if "/public/" in path)


def test_scope_editor_other_unit_forbidden_district_editor_may_write_its_streets(
    client: TestClient, session: Session, editor: dict[str, str]
) -> None:
    other = token(session, "editor", SIMING)
    request = create(client, editor)
    assert client.get(f"/api/v1/requests/{request['id']}", headers=other).status_code == 403
    assert client.post(BASE, json=body(), headers=other).status_code == 403
    street = create(client, editor, unit=HULI_STREET)
    street_editor = token(session, "editor", HULI_STREET)
    assert client.get(f"/api/v1/requests/{street['id']}", headers=street_editor).status_code == 200
    assert client.get(f"/api/v1/requests/{request['id']}", headers=street_editor).status_code == 403
    auditor = token(session, "auditor")
    assert client.get(f"/api/v1/requests/{request['id']}", headers=auditor).status_code == 200
    post = client.post(BASE, json=body(), headers=auditor)
    assert post.status_code == 403


def test_every_write_is_in_the_history_with_the_summary_masked(
    client: TestClient, session: Session, editor: dict[str, str]
) -> None:
    request = create(client, editor)
    event(client, editor, request, kind="answered", on="2020-10-09", outcome="granted")
    changes = session.exec(
        select(Change)
        .where(Change.entity == "request", Change.entity_id == str(request["id"]))
        .order_by(col(Change.id))
    ).all()
    assert [c.action for c in changes] == ["create", "answered"]
    before, after = changes[1].before, changes[1].after
    assert before is not None
    assert after is not None
    assert before["state"] == "open"
    assert after["state"] == "answered"
    assert all("征收补偿" not in str(c.after) for c in changes)


def test_summaries_are_masked_in_logs(
    client: TestClient, editor: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="app.requests"):
        create(client, editor, summary="申请公开张三家的拆迁补偿")
    assert caplog.records, "the registration is logged"
    assert all("张三" not in record.getMessage() for record in caplog.records)


def test_list_filters_state_year_overdue_and_pages(
    client: TestClient, editor: dict[str, str]
) -> None:
    first = create(client, editor, received_on="2020-09-25")
    second = create(client, editor, received_on="2020-12-01")
    create(client, editor, received_on="2019-12-30")
    event(client, editor, second, kind="answered", on="2020-12-02", outcome="granted")

    def ids(**params: Any) -> list[int]:
        response = client.get(BASE, params=params, headers=editor)
        assert response.status_code == 200, response.text
        return [r["id"] for r in response.json()]

    assert ids(year=2020) == [first["id"], second["id"]]
    assert ids(state="answered") == [second["id"]]
    assert ids(year=2020, overdue=True, as_of="2020-10-30") == [first["id"]]
    assert ids(year=2020, overdue=True, as_of="2020-10-29") == []
    assert ids(year=2020, overdue=False, as_of="2020-10-30") == [second["id"]]
    page = client.get(BASE, params={"limit": 1}, headers=editor)
    assert len(page.json()) == 1
    assert "offset=1" in page.headers["Link"]
    rest = client.get(BASE, params={"limit": 5, "offset": 1}, headers=editor)
    assert len(rest.json()) == 2
    assert "Link" not in rest.headers


def test_list_state_open_includes_a_lapsed_consultation(
    client: TestClient, editor: dict[str, str]
) -> None:
    request = create(client, editor)
    event(
        client, editor, request, kind="consultation_started", on="2020-09-28", party="third_party"
    )
    during = {"state": "paused", "as_of": "2020-10-26"}
    assert [r["id"] for r in client.get(BASE, params=during, headers=editor).json()] == [
        request["id"]
    ]
    after = {"state": "open", "as_of": "2020-10-27"}
    listed = client.get(BASE, params=after, headers=editor).json()
    assert [(r["id"], r["state"]) for r in listed] == [(request["id"], "open")]


def test_control_characters_in_the_summary_are_refused(
    client: TestClient, editor: dict[str, str]
) -> None:
    response = client.post(BASE, json=body(summary="摘要\x00"), headers=editor)
    assert response.status_code == 422
    assert "控制字符" in response.json()["detail"][0]["msg"]


def test_a_calendar_loaded_or_corrected_moves_the_next_due_date_at_once(
    client: TestClient, editor: dict[str, str], session: Session
) -> None:
    # The loaded years' days are kept in memory by (year, revision, loaded_at): a load, and a
    # correction of it, must be seen by the very next write of the same process.
    auditor = token(session, "auditor")
    package = client.get("/api/v1/calendar/2020").json()
    arrangement = {k: package[k] for k in ("holidays", "workdays")}
    extra = arrangement | {
        "source": "测试：10月12日放假",
        "holidays": [*package["holidays"], "2020-10-12"],
    }
    assert create(client, editor)["due_on"] == "2020-10-29"
    loaded = client.put("/api/v1/calendar/2020", json=extra, headers=auditor)
    assert loaded.status_code == 200, loaded.text
    assert create(client, editor)["due_on"] == "2020-10-30"
    corrected = client.put(
        "/api/v1/calendar/2020",
        json=arrangement | {"source": "更正"},
        headers=auditor | {"If-Match": loaded.headers["ETag"]},
    )
    assert corrected.status_code == 200, corrected.text
    assert create(client, editor)["due_on"] == "2020-10-29"
