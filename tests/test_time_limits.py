"""GET /time-limits/evaluate: due dates on the official calendar across the 2020-2021 holidays."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.factories import token

URL = "/api/v1/time-limits/evaluate"


def evaluate(client: TestClient, text: str, start: str) -> dict[str, Any]:
    response = client.get(URL, params={"text": text, "start": start})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize(
    ("text", "start", "due_on"),
    [
        # National Day + Mid-Autumn 2020: 10-01..10-08 off, Saturday 10-10 worked
        ("信息形成或变更之日起20个工作日内", "2020-09-28", "2020-11-02"),
        # natural days ending in the holiday end on the next working day
        ("批准后10日内", "2020-09-21", "2020-10-09"),
        # Spring Festival 2021: 02-11..02-17 off, Saturday 02-20 worked
        ("7个工作日内", "2021-02-09", "2021-02-24"),
        ("批复后20日内", "2021-01-25", "2021-02-18"),
        # May Day 2021: 05-01..05-05 off, Sunday 04-25 and Saturday 05-08 worked
        ("5个工作日内", "2021-04-23", "2021-04-29"),
        ("批准后10日内", "2021-04-21", "2021-05-06"),
        ("实时公开", "2021-05-03", "2021-05-03"),
    ],
)
def test_due_dates_follow_the_official_calendar(
    client: TestClient, text: str, start: str, due_on: str
) -> None:
    assert evaluate(client, text, start)["due_on"] == due_on


def test_the_rule_is_returned_with_its_kind(client: TestClient) -> None:
    body = evaluate(client, "信息形成或变更之日起20个工作日内", "2020-09-28")
    assert body["rule"]["kind"] == "working_days"
    assert body["rule"]["days"] == 20
    assert "2020-09-28" in body["note"]


@pytest.mark.parametrize(
    ("text", "kind"),
    [("及时公开", "timely"), ("法定时限内", "statutory"), ("同上", "unparsed"), ("", "unparsed")],
)
def test_texts_without_a_date_answer_null_with_a_reason(
    client: TestClient, text: str, kind: str
) -> None:
    body = evaluate(client, text, "2020-09-28")
    assert (body["rule"]["kind"], body["due_on"]) == (kind, None)
    assert body["note"]


@pytest.mark.parametrize(
    ("text", "start"),
    [
        ("99999999999个工作日内", "2020-01-01"),
        ("3000个工作日内", "2020-01-01"),
        ("7个工作日前", "0001-01-03"),
        ("批准后20日内", "9999-12-30"),
        ("\x00\x1f《》（（（；；；", "2020-01-01"),
        ("每季度结束后15个工作日内", "2026-12-01"),
        ("x" * 2000, "2020-01-01"),
    ],
)
def test_no_text_and_no_date_gives_a_500(client: TestClient, text: str, start: str) -> None:
    response = client.get(URL, params={"text": text, "start": start})
    assert response.status_code == 200, response.text


def test_bad_start_is_422(client: TestClient) -> None:
    response = client.get(URL, params={"text": "7个工作日内", "start": "2020-13-01"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "start"]


def test_a_year_the_package_lacks_is_named_not_guessed(client: TestClient) -> None:
    body = evaluate(client, "20个工作日内", "2026-12-20")  # runs into 2027
    assert body["due_on"] is None
    assert body["unknown_years"] == [2027]
    assert "2027" in body["note"]


def test_a_loaded_year_is_used_for_due_dates(client: TestClient, session: Session) -> None:
    before = evaluate(client, "5个工作日内", "2031-09-29")
    assert (before["due_on"], before["unknown_years"]) == (None, [2031])
    assert "2031" in before["note"]

    arrangement = {
        "source": "国务院办公厅关于2031年部分节假日安排的通知（测试）",
        "holidays": [f"2031-10-0{d}" for d in range(1, 8)],
        "workdays": ["2031-09-28", "2031-10-11"],
    }
    loaded = client.put(
        "/api/v1/calendar/2031", json=arrangement, headers=token(session, "auditor")
    )
    assert loaded.status_code == 200, loaded.text

    # 09-30 (1), 10-01..07 off, 10-08 (2), 10-09 (3), 10-10 (4), Saturday 10-11 worked (5)
    after = evaluate(client, "5个工作日内", "2031-09-29")
    assert (after["due_on"], after["unknown_years"]) == ("2031-10-11", [])


def test_a_loaded_year_takes_precedence_over_the_package(
    client: TestClient, session: Session
) -> None:
    assert evaluate(client, "1个工作日内", "2021-06-01")["due_on"] == "2021-06-02"
    arrangement = {"source": "更正（测试）", "holidays": ["2021-06-02"], "workdays": []}
    response = client.put(
        "/api/v1/calendar/2021", json=arrangement, headers=token(session, "auditor")
    )
    assert response.status_code == 200, response.text
    assert evaluate(client, "1个工作日内", "2021-06-01")["due_on"] == "2021-06-03"
