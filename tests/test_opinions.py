"""落实意见 through HTTP: who may record one, validation, listing in scope, corrections."""

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.models.common import today_in_beijing
from app.models.history import Change
from tests.factories import (
    CITY,
    HULI,
    HULI_STREET,
    SIMING,
    add_opinion,
    make_unit,
    opinion_body,
    token,
)

URL = "/api/v1/opinions"


def test_an_editor_records_its_own_units_opinion(
    client: TestClient, editor: dict[str, str]
) -> None:
    response = client.post(URL, json=opinion_body(issued_on="2020-07-20"), headers=editor)
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["issuer_unit_code"], body["issued_on"]) == (HULI, "2020-07-20")
    assert response.headers["Location"] == f"{URL}/{body['id']}"
    read = client.get(f"{URL}/{body['id']}", headers=editor)
    assert read.json() == body
    assert read.headers["ETag"] == response.headers["ETag"]


def test_a_department_under_the_editors_unit_may_issue(
    client: TestClient, session: Session
) -> None:
    city_department = make_unit(session, kind="department", parent_code=CITY)
    city_editor = token(session, "editor", CITY)
    add_opinion(client, city_editor, issuer_unit_code=city_department.code)
    refused = client.post(URL, json=opinion_body(issuer_unit_code=HULI), headers=city_editor)
    assert refused.status_code == 403


def test_an_editor_cannot_record_for_another_district(client: TestClient, session: Session) -> None:
    siming = token(session, "editor", SIMING)
    response = client.post(URL, json=opinion_body(issuer_unit_code=HULI), headers=siming)
    assert response.status_code == 403


def test_an_auditor_records_for_any_unit(client: TestClient, session: Session) -> None:
    add_opinion(client, token(session, "auditor"), issuer_unit_code=SIMING)


@pytest.mark.parametrize(
    ("field", "value", "kind"),
    [
        ("domain_code", "99", "unknown_domain"),
        ("issuer_unit_code", "999999", "unknown_unit"),
        ("issuer_unit_code", HULI_STREET, "issuer_kind"),
        ("issued_on", "tomorrow", "date_in_future"),
        ("url", "www.huli.gov.cn/opinion", "value_error"),
        ("url", "ftp://huli.gov.cn/opinion", "value_error"),
        ("title", "  ", "too_short"),
    ],
)
def test_an_invalid_opinion_is_422_naming_the_field(
    client: TestClient, session: Session, field: str, value: str, kind: str
) -> None:
    if value == "tomorrow":  # Beijing's tomorrow when the test runs, not when it was collected
        value = (today_in_beijing() + timedelta(days=1)).isoformat()
    response = client.post(
        URL, json=opinion_body(**{field: value}), headers=token(session, "auditor")
    )
    assert response.status_code == 422, response.text
    error = response.json()["detail"][0]
    assert (error["loc"], error["type"]) == (["body", field], kind)
    assert " / " in error["msg"]  # Chinese / English


def test_an_editor_lists_only_its_scope(client: TestClient, session: Session) -> None:
    auditor = token(session, "auditor")
    mine = add_opinion(client, auditor, issuer_unit_code=HULI, domain_code="05")
    add_opinion(client, auditor, issuer_unit_code=SIMING, domain_code="05")
    huli = client.get(URL, params={"domain_code": "05"}, headers=token(session, "editor", HULI))
    assert [o["id"] for o in huli.json()] == [mine["id"]]
    everyone = client.get(URL, params={"domain_code": "05"}, headers=auditor).json()
    assert {o["issuer_unit_code"] for o in everyone} == {HULI, SIMING}
    by_issuer = client.get(URL, params={"issuer_unit_code": SIMING}, headers=auditor).json()
    assert {o["issuer_unit_code"] for o in by_issuer} == {SIMING}


def test_the_list_pages_with_a_link(client: TestClient, session: Session) -> None:
    auditor = token(session, "auditor")
    for _ in range(3):
        add_opinion(client, auditor, domain_code="06")
    first = client.get(URL, params={"domain_code": "06", "limit": 2}, headers=auditor)
    assert len(first.json()) == 2
    assert 'rel="next"' in first.headers["Link"]
    assert "offset=2" in first.headers["Link"]
    rest = client.get(URL, params={"domain_code": "06", "limit": 2, "offset": 2}, headers=auditor)
    assert len(rest.json()) == 1
    assert "Link" not in rest.headers


def test_another_districts_editor_cannot_read_an_opinion(
    client: TestClient, session: Session, editor: dict[str, str]
) -> None:
    opinion = add_opinion(client, editor)
    other = client.get(f"{URL}/{opinion['id']}", headers=token(session, "editor", SIMING))
    assert other.status_code == 403
    assert client.get(f"{URL}/999999", headers=editor).status_code == 404


def test_a_correction_needs_if_match_and_goes_to_the_history(
    client: TestClient, session: Session, editor: dict[str, str]
) -> None:
    opinion = add_opinion(client, editor, issued_on="2020-07-28")
    url = f"{URL}/{opinion['id']}"
    fix = {"issued_on": "2020-07-24"}
    assert client.patch(url, json=fix, headers=editor).status_code == 428
    stale = client.patch(url, json=fix, headers=editor | {"If-Match": '"o0.0"'})
    assert stale.status_code == 412
    done = client.patch(url, json=fix, headers=editor | {"If-Match": opinion["etag"]})
    assert done.status_code == 200, done.text
    assert done.json()["issued_on"] == "2020-07-24"
    assert done.headers["ETag"] != opinion["etag"]
    again = client.patch(url, json=fix, headers=editor | {"If-Match": opinion["etag"]})
    assert again.status_code == 412
    change = session.exec(
        select(Change).where(Change.entity == "opinion").order_by(col(Change.id).desc())
    ).first()
    assert change is not None
    assert change.before is not None
    assert change.after is not None
    assert (change.action, change.entity_id) == ("correct", str(opinion["id"]))
    assert (change.before["issued_on"], change.after["issued_on"]) == ("2020-07-28", "2020-07-24")
    assert (change.actor_role, change.actor_unit) == ("editor", HULI)


def test_a_correction_cannot_move_into_the_future(
    client: TestClient, editor: dict[str, str]
) -> None:
    opinion = add_opinion(client, editor)
    tomorrow = (today_in_beijing() + timedelta(days=1)).isoformat()
    response = client.patch(
        f"{URL}/{opinion['id']}",
        json={"issued_on": tomorrow},
        headers=editor | {"If-Match": opinion["etag"]},
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "date_in_future"
    response = client.patch(
        f"{URL}/{opinion['id']}",
        json={"title": None},
        headers=editor | {"If-Match": opinion["etag"]},
    )
    assert response.status_code == 422


def test_a_street_editor_sees_the_opinions_that_apply_to_it(
    client: TestClient, session: Session
) -> None:
    auditor = token(session, "auditor")
    city = add_opinion(client, auditor, issuer_unit_code=CITY, domain_code="07")
    district = add_opinion(client, auditor, issuer_unit_code=HULI, domain_code="07")
    add_opinion(client, auditor, issuer_unit_code=SIMING, domain_code="07")
    street = token(session, "editor", HULI_STREET)
    seen = client.get(URL, params={"domain_code": "07"}, headers=street).json()
    assert {o["id"] for o in seen} == {city["id"], district["id"]}
    assert client.get(f"{URL}/{district['id']}", headers=street).status_code == 200
    edit = client.patch(
        f"{URL}/{district['id']}",
        json={"title": "改"},
        headers=street | {"If-Match": district["etag"]},
    )
    assert edit.status_code == 403


def test_an_opinion_dated_today_in_beijing_is_accepted(
    client: TestClient, session: Session
) -> None:
    """Beijing's today is never "in the future", even while the server's UTC date is still
    yesterday (00:00 to 08:00 in Xiamen)."""
    today = today_in_beijing().isoformat()
    response = client.post(
        URL, json=opinion_body(issued_on=today), headers=token(session, "auditor")
    )
    assert response.status_code == 201, response.text
    assert response.json()["issued_on"] == today
