"""GET /audit/requests: per unit open, due within 5 working days, overdue (listed), answered
late in the year; as of a day; auditors everywhere, a district's editors in their district."""

import csv
import io
from datetime import date
from typing import Any

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlmodel import Session

from app.auth import SYSTEM
from app.models.request import ApplicantType, EventCreate, RequestCreate
from app.models.unit import Unit
from app.services import requests
from tests.factories import HULI, HULI_STREET, SIMING, token

URL = "/api/v1/audit/requests"


def register(session: Session, unit: str, received_on: date, *events: dict[str, Any]) -> int:
    request = requests.create(
        session,
        session.get(Unit, unit),  # type: ignore[arg-type]
        RequestCreate(
            received_on=received_on,
            channel="邮寄",
            applicant_type=ApplicantType.natural,
            summary="摘要",
            reference=None,
        ),
        actor=SYSTEM,
    )
    for data in events:
        requests.add_event(session, request, EventCreate.model_validate(data), actor=SYSTEM)
    assert request.id is not None
    return request.id


def rows(client: TestClient, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    response = client.get(URL, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return {row["unit_code"]: row for row in response.json()["units"]}


def test_open_due_soon_overdue_and_answered_late_as_of_a_day(
    client: TestClient, session: Session
) -> None:
    overdue = register(session, HULI, date(2020, 9, 25))  # due 10-29
    register(session, HULI, date(2020, 10, 9))  # due 11-06: 5 working days left on 10-30
    register(session, HULI, date(2020, 10, 28))  # due 11-25
    register(
        session,
        HULI,
        date(2020, 3, 2),
        {"kind": "answered", "on": "2020-04-30", "outcome": "granted"},
    )  # late (due 03-30)
    register(
        session,
        HULI,
        date(2019, 3, 1),
        {"kind": "answered", "on": "2019-06-28", "outcome": "granted"},
    )  # late, but last year
    register(
        session,
        HULI,
        date(2020, 9, 25),
        {"kind": "answered", "on": "2020-11-02", "outcome": "granted"},
    )  # late after as_of
    auditor = token(session, "auditor")
    row = rows(client, auditor, as_of="2020-10-30")[HULI]
    assert row["open"] == 4
    assert row["due_within_5"] == 1
    assert row["overdue"] == 2
    assert row["answered_late"] == 1
    listed = {r["id"]: r for r in row["overdue_requests"]}
    assert listed[overdue]["due_on"] == "2020-10-29"
    assert listed[overdue]["days_overdue"] == 1


def test_a_pause_recorded_later_does_not_change_the_past(
    client: TestClient, session: Session
) -> None:
    register(
        session,
        HULI,
        date(2020, 9, 25),
        {"kind": "extended", "on": "2020-10-28", "days": 10, "approved_by": "负责人"},
    )
    auditor = token(session, "auditor")
    before = rows(client, auditor, as_of="2020-10-27")[HULI]
    assert (before["overdue"], before["due_within_5"]) == (0, 1)
    after = rows(client, auditor, as_of="2020-10-30")[HULI]
    assert after["overdue"] == 0


def test_district_editors_see_their_district_only(client: TestClient, session: Session) -> None:
    register(session, HULI_STREET, date(2020, 9, 25))
    register(session, SIMING, date(2020, 9, 25))
    huli = token(session, "editor", HULI)
    assert set(rows(client, huli, as_of="2020-10-30")) == {HULI_STREET}
    assert client.get(URL, params={"district": SIMING}, headers=huli).status_code == 403
    street = token(session, "editor", HULI_STREET)
    assert client.get(URL, headers=street).status_code == 403
    auditor = token(session, "auditor")
    everywhere = rows(client, auditor, as_of="2020-10-30")
    assert {HULI_STREET, SIMING} <= set(everywhere)
    assert set(rows(client, auditor, as_of="2020-10-30", district=SIMING)) == {SIMING}
    assert client.get(URL, params={"district": HULI_STREET}, headers=auditor).status_code == 422


def test_csv_and_xlsx_carry_the_same_rows(client: TestClient, session: Session) -> None:
    register(session, HULI, date(2020, 9, 25))
    auditor = token(session, "auditor")
    params = {"as_of": "2020-10-30", "district": HULI}
    response = client.get(URL, params=params | {"format": "csv"}, headers=auditor)
    assert response.headers["content-type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert lines[0][:3] == ["单位代码", "单位名称", "未办结"]
    assert lines[1][0] == HULI
    assert lines[1][4] == "1"
    response = client.get(URL, params=params | {"format": "xlsx"}, headers=auditor)
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["单位汇总", "逾期申请"]
    late = list(workbook["逾期申请"].iter_rows(values_only=True))
    assert late[1][0] == HULI
    assert late[1][6] == 1
