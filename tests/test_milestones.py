"""Milestones through HTTP: the data, each state as of a date, who is obliged, the filters."""

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event
from sqlmodel import Session, col, select

from app.models.history import Change
from app.models.milestone import Milestone, MilestoneStatus
from app.services import milestones
from tests.factories import (
    CITY,
    HULI,
    HULI_STREET,
    SIMING,
    add_item,
    add_opinion,
    make_unit,
    publish,
)

HULI_UNITS = {HULI, *(f"{HULI}00{n}" for n in range(1, 6))}


def status(
    client: TestClient, headers: dict[str, str], code: str, **params: Any
) -> dict[tuple[str, str], dict[str, Any]]:
    response = client.get(f"/api/v1/milestones/{code}/status", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return {(row["unit_code"], row["domain_code"]): row for row in response.json()}


def compile_catalogue(
    client: TestClient, headers: dict[str, str], unit: str, domain: str, on: str
) -> None:
    add_item(client, headers, unit=unit, domain=domain)
    response = client.post(
        f"/api/v1/units/{unit}/catalogues/{domain}/compile",
        json={"compiled_on": on},
        headers=headers,
    )
    assert response.status_code == 200, response.text


def state(row: dict[str, Any]) -> tuple[str, int, str | None]:
    return row["state"], row["days"], row["done_on"]


def if_match(client: TestClient, url: str, headers: dict[str, str]) -> dict[str, str]:
    """The headers plus If-Match: the ETag a GET of `url` answers."""
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.text
    return headers | {"If-Match": response.headers["ETag"]}


def patch_milestone(
    client: TestClient, headers: dict[str, str], code: str, change: dict[str, Any]
) -> Any:
    url = f"/api/v1/milestones/{code}"
    return client.patch(url, json=change, headers=if_match(client, url, headers))


def test_the_four_milestones_of_the_notice_are_data(client: TestClient) -> None:
    rows = client.get("/api/v1/milestones").json()
    assert [(m["code"], m["due_on"], m["event"]) for m in rows] == [
        ("opinions", "2020-07-25", "opinion"),
        ("compiled", "2020-10-31", "compiled"),
        ("published", "2020-11-10", "published"),
        ("completed", "2021-12-31", "published"),
    ]
    assert rows[0]["unit_kinds"] == ["city", "district"]
    assert rows[3]["domains"] == "all"


def test_pending_then_overdue_without_an_event(client: TestClient, auditor: dict[str, str]) -> None:
    q = {"district": HULI, "domain": "01"}
    assert state(status(client, auditor, "compiled", as_of="2020-10-01", **q)[HULI, "01"]) == (
        "pending",
        30,
        None,
    )
    assert state(status(client, auditor, "compiled", as_of="2020-10-31", **q)[HULI, "01"]) == (
        "pending",
        0,
        None,
    )
    assert state(status(client, auditor, "compiled", as_of="2020-11-03", **q)[HULI, "01"]) == (
        "overdue",
        3,
        None,
    )


def test_on_time_and_late_by_the_first_event_date(
    client: TestClient, auditor: dict[str, str], editor: dict[str, str]
) -> None:
    compile_catalogue(client, editor, HULI, "01", "2020-10-20")
    compile_catalogue(client, editor, HULI, "02", "2020-11-05")
    rows = status(client, auditor, "compiled", as_of="2020-12-01", district=HULI)
    assert state(rows[HULI, "01"]) == ("on_time", 0, "2020-10-20")
    assert state(rows[HULI, "02"]) == ("late", 5, "2020-11-05")
    # compiling again later does not move the milestone's event
    compile_catalogue(client, editor, HULI, "01", "2020-12-01")
    rows = status(client, auditor, "compiled", as_of="2020-12-01", district=HULI)
    assert state(rows[HULI, "01"]) == ("on_time", 0, "2020-10-20")


def test_an_event_after_as_of_has_not_happened_yet(
    client: TestClient, auditor: dict[str, str], editor: dict[str, str]
) -> None:
    compile_catalogue(client, editor, HULI, "01", "2020-11-05")
    q = {"district": HULI, "domain": "01"}
    assert state(status(client, auditor, "compiled", as_of="2020-10-21", **q)[HULI, "01"]) == (
        "pending",
        10,
        None,
    )
    assert state(status(client, auditor, "compiled", as_of="2020-11-04", **q)[HULI, "01"]) == (
        "overdue",
        4,
        None,
    )
    assert state(status(client, auditor, "compiled", as_of="2020-11-05", **q)[HULI, "01"]) == (
        "late",
        5,
        "2020-11-05",
    )


def test_published_uses_the_first_publish_and_completed_a_publish_from_2021(
    client: TestClient, auditor: dict[str, str], editor: dict[str, str]
) -> None:
    """`completed` (调整完善 by 2021-12-31) counts publishes from its `counts_from`
    (2021-01-01): the 2020 publish of the first round does not meet it (it used to)."""
    add_item(client, editor, unit=HULI_STREET, domain="04")
    publish(client, editor, HULI_STREET, "04", compiled_on="2020-10-30", published_on="2020-11-12")
    q = {"district": HULI, "domain": "04", "as_of": "2021-01-01"}
    assert state(status(client, auditor, "published", **q)[HULI_STREET, "04"]) == (
        "late",
        2,
        "2020-11-12",
    )
    assert state(status(client, auditor, "completed", **q)[HULI_STREET, "04"]) == (
        "pending",
        364,
        None,
    )
    assert state(status(client, auditor, "completed", **q)[HULI, "04"]) == ("pending", 364, None)
    # the revision published in 2021 meets it; the first publish stays the `published` event
    add_item(client, editor, unit=HULI_STREET, domain="04")
    publish(client, editor, HULI_STREET, "04", compiled_on="2021-03-01", published_on="2021-03-05")
    q["as_of"] = "2021-06-01"
    assert state(status(client, auditor, "completed", **q)[HULI_STREET, "04"]) == (
        "on_time",
        0,
        "2021-03-05",
    )
    assert state(status(client, auditor, "published", **q)[HULI_STREET, "04"])[2] == "2020-11-12"
    # as of a day before the revision, it had not happened yet
    q["as_of"] = "2021-03-04"
    assert state(status(client, auditor, "completed", **q)[HULI_STREET, "04"])[0] == "pending"


def test_completed_is_late_when_the_revision_comes_after_its_due_date(
    client: TestClient, auditor: dict[str, str], editor: dict[str, str]
) -> None:
    add_item(client, editor, unit=HULI_STREET, domain="05")
    publish(client, editor, HULI_STREET, "05", compiled_on="2020-10-30", published_on="2020-11-06")
    q = {"district": HULI, "domain": "05", "as_of": "2022-02-01"}
    assert state(status(client, auditor, "completed", **q)[HULI_STREET, "05"]) == (
        "overdue",
        32,
        None,
    )
    add_item(client, editor, unit=HULI_STREET, domain="05")
    publish(client, editor, HULI_STREET, "05", compiled_on="2022-01-10", published_on="2022-01-15")
    assert state(status(client, auditor, "completed", **q)[HULI_STREET, "05"]) == (
        "late",
        15,
        "2022-01-15",
    )


def test_a_departments_opinion_counts_for_its_district(
    client: TestClient, session: Session, auditor: dict[str, str], editor: dict[str, str]
) -> None:
    department = make_unit(session, kind="department", parent_code=HULI)
    add_opinion(
        client, editor, issuer_unit_code=department.code, domain_code="03", issued_on="2020-07-20"
    )
    add_opinion(client, editor, issuer_unit_code=HULI, domain_code="03", issued_on="2020-08-01")
    rows = status(client, auditor, "opinions", as_of="2020-09-01", domain="03")
    assert state(rows[HULI, "03"]) == ("on_time", 0, "2020-07-20")  # the earliest counts
    assert (department.code, "03") not in rows  # departments are not obliged themselves
    assert state(rows[CITY, "03"]) == ("overdue", 38, None)
    assert state(rows[SIMING, "03"]) == ("overdue", 38, None)


def test_the_city_is_obliged_for_opinions_and_late_by_days(
    client: TestClient, session: Session, auditor: dict[str, str]
) -> None:
    city_department = make_unit(session, kind="department", parent_code=CITY)
    add_opinion(
        client,
        auditor,
        issuer_unit_code=city_department.code,
        domain_code="09",
        issued_on="2020-08-04",
    )
    rows = status(client, auditor, "opinions", as_of="2020-09-01", domain="09")
    assert state(rows[CITY, "09"]) == ("late", 10, "2020-08-04")
    assert {unit for unit, _ in rows} == {CITY, *(u for u, _ in rows if u != CITY)}
    assert all(len(unit) == 6 for unit, _ in rows)  # the city and districts, no street


def test_opinions_for_a_district_are_the_district_alone(
    client: TestClient, auditor: dict[str, str]
) -> None:
    rows = status(client, auditor, "opinions", as_of="2020-07-01", district=HULI)
    assert {unit for unit, _ in rows} == {HULI}
    assert len(rows) == 26


def test_a_domain_declared_not_applicable_is_not_obliged(
    client: TestClient, auditor: dict[str, str], editor: dict[str, str]
) -> None:
    response = client.put(
        f"/api/v1/units/{HULI_STREET}/catalogues/07/applicability",
        json={"applicable": False, "reason": "辖区无农村集体土地"},
        headers=editor,
    )
    assert response.status_code == 200
    rows = status(client, auditor, "compiled", as_of="2020-11-01", district=HULI, domain="07")
    assert {unit for unit, _ in rows} == HULI_UNITS - {HULI_STREET}


def test_district_and_domain_filters(client: TestClient, auditor: dict[str, str]) -> None:
    rows = status(client, auditor, "compiled", as_of="2020-11-01", district=HULI)
    assert {unit for unit, _ in rows} == HULI_UNITS
    assert len(rows) == len(HULI_UNITS) * 26
    one = status(client, auditor, "compiled", as_of="2020-11-01", district=HULI, domain="05")
    assert set(one) == {(unit, "05") for unit in HULI_UNITS}
    everyone = status(client, auditor, "compiled", as_of="2020-11-01", domain="05")
    assert CITY not in {unit for unit, _ in everyone}  # the city compiles no catalogue
    assert {unit for unit, _ in everyone} > HULI_UNITS


@pytest.mark.parametrize(
    ("params", "loc"),
    [
        ({"district": "999999"}, "district"),
        ({"district": HULI_STREET}, "district"),
        ({"domain": "99"}, "domain"),
        ({"as_of": "2020-02-30"}, "as_of"),
    ],
)
def test_bad_filters_are_422(
    client: TestClient, auditor: dict[str, str], params: dict[str, str], loc: str
) -> None:
    response = client.get("/api/v1/milestones/compiled/status", params=params, headers=auditor)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", loc]


def test_status_pages_with_a_link(client: TestClient, auditor: dict[str, str]) -> None:
    url = "/api/v1/milestones/compiled/status"
    first = client.get(url, params={"district": HULI, "limit": 100}, headers=auditor)
    assert len(first.json()) == 100
    assert "offset=100" in first.headers["Link"]
    rest = client.get(url, params={"district": HULI, "limit": 100, "offset": 100}, headers=auditor)
    assert len(rest.json()) == len(HULI_UNITS) * 26 - 100
    assert "Link" not in rest.headers
    assert client.get("/api/v1/milestones/nope/status", headers=auditor).status_code == 404


def test_a_domain_added_later_changes_no_existing_milestone(
    client: TestClient, auditor: dict[str, str]
) -> None:
    """Issue 10.11: an auditor adding domain 27 with is_pilot true used to make every unit
    overdue on the 2020 milestones at once. Milestones oblige the domains they were set for."""
    codes = ("opinions", "compiled", "published", "completed")
    q = {"as_of": "2021-06-01"}
    before = {code: status(client, auditor, code, **q) for code in codes}
    response = client.post(
        "/api/v1/domains",
        json={"code": "27", "name": "社会信用体系建设", "is_pilot": True},
        headers=auditor,
    )
    assert response.status_code == 201
    assert {code: status(client, auditor, code, **q) for code in codes} == before
    for milestone in client.get("/api/v1/milestones").json():
        assert "27" not in milestone["domain_codes"]
        assert len(milestone["domain_codes"]) == 26
    # domain 27 gets its own milestone, which obliges it alone
    new = {
        "code": "published-27",
        "title": "社会信用体系建设领域目录公开",
        "due_on": "2022-06-30",
        "event": "published",
        "unit_kinds": ["district", "street", "town"],
        "domain_codes": ["27"],
    }
    created = client.post("/api/v1/milestones", json=new, headers=auditor)
    assert created.status_code == 201, created.text
    assert created.json()["domain_codes"] == ["27"]
    rows = status(client, auditor, "published-27", district=HULI, **q)
    assert set(rows) == {(unit, "27") for unit in HULI_UNITS}
    assert {row["state"] for row in rows.values()} == {"pending"}
    assert {code: status(client, auditor, code, **q) for code in codes} == before
    # the auditor may also add it to an existing milestone, explicitly
    sets = {m["code"]: m["domain_codes"] for m in client.get("/api/v1/milestones").json()}
    moved = patch_milestone(
        client, auditor, "completed", {"domain_codes": [*sets["completed"], "27"]}
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["domain_codes"][-1] == "27"
    assert set(status(client, auditor, "completed", domain="27", district=HULI, **q)) == {
        (unit, "27") for unit in HULI_UNITS
    }


def test_a_milestones_domain_codes_must_exist(client: TestClient, auditor: dict[str, str]) -> None:
    response = patch_milestone(client, auditor, "completed", {"domain_codes": ["01", "99"]})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "domain_codes"]
    assert "99" in response.json()["detail"][0]["msg"]
    assert patch_milestone(client, auditor, "completed", {"domain_codes": []}).status_code == 422


def test_counts_from_is_refused_for_the_compiled_event(
    client: TestClient, auditor: dict[str, str]
) -> None:
    response = patch_milestone(client, auditor, "compiled", {"counts_from": "2021-01-01"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "counts_from"]


def test_an_opinion_milestone_honours_counts_from(
    client: TestClient, auditor: dict[str, str], editor: dict[str, str]
) -> None:
    add_opinion(client, editor, issuer_unit_code=HULI, domain_code="06", issued_on="2020-07-20")
    assert (
        patch_milestone(
            client, auditor, "opinions", {"counts_from": "2021-01-01", "due_on": "2021-06-30"}
        ).status_code
        == 200
    )
    q = {"domain": "06", "district": HULI, "as_of": "2021-03-01"}
    assert state(status(client, auditor, "opinions", **q)[HULI, "06"]) == ("pending", 121, None)
    add_opinion(client, editor, issuer_unit_code=HULI, domain_code="06", issued_on="2021-02-01")
    assert state(status(client, auditor, "opinions", **q)[HULI, "06"]) == (
        "on_time",
        0,
        "2021-02-01",
    )


def test_the_auditor_adds_a_milestone_and_moves_a_date(
    client: TestClient, session: Session, auditor: dict[str, str], editor: dict[str, str]
) -> None:
    new = {
        "code": "compiled-2022",
        "title": "某市2022年编制完成",
        "due_on": "2022-06-30",
        "event": "compiled",
        "unit_kinds": ["street", "town"],
    }
    response = client.post("/api/v1/milestones", json=new, headers=auditor)
    assert response.status_code == 201, response.text
    assert response.json()["domains"] == "pilot"
    assert client.post("/api/v1/milestones", json=new, headers=auditor).status_code == 409
    rows = status(client, auditor, "compiled-2022", as_of="2022-06-01", district=HULI)
    assert {unit for unit, _ in rows} == HULI_UNITS - {HULI}

    compile_catalogue(client, editor, HULI, "01", "2020-11-05")
    moved = patch_milestone(client, auditor, "compiled", {"due_on": "2020-11-30"})
    assert moved.status_code == 200, moved.text
    rows = status(client, auditor, "compiled", as_of="2020-12-01", district=HULI, domain="01")
    assert state(rows[HULI, "01"]) == ("on_time", 0, "2020-11-05")
    change = session.exec(
        select(Change).where(Change.entity == "milestone").order_by(col(Change.id).desc())
    ).first()
    assert change is not None
    assert change.before is not None
    assert change.after is not None
    assert (change.entity_id, change.before["due_on"], change.after["due_on"]) == (
        "compiled",
        "2020-10-31",
        "2020-11-30",
    )


@pytest.mark.parametrize(
    "change",
    [
        {"event": "reviewed"},
        {"unit_kinds": []},
        {"unit_kinds": ["village"]},
        {"domains": "some"},
        {"due_on": None},
        {"code": "x"},
    ],
)
def test_an_invalid_milestone_change_is_422(
    client: TestClient, auditor: dict[str, str], change: dict[str, Any]
) -> None:
    response = patch_milestone(client, auditor, "compiled", change)
    assert response.status_code == 422, response.text


@pytest.fixture
def statements(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    yield seen
    event.remove(engine, "before_cursor_execute", count)


def test_status_takes_the_same_statements_whatever_the_number_of_units(
    client: TestClient,
    session: Session,
    auditor: dict[str, str],
    editor: dict[str, str],
    statements: list[str],
) -> None:
    def measure(code: str) -> int:
        session.expunge_all()  # the test's session outlives requests; start each one cold
        statements.clear()
        status(client, auditor, code, as_of="2021-01-01", district=HULI, domain="01")
        return len(statements)

    small = {code: measure(code) for code in ("opinions", "compiled", "published")}
    for _ in range(20):
        street = make_unit(session, kind="street", parent_code=HULI)
        add_item(client, editor, unit=street.code, domain="01")
        publish(client, editor, street.code, "01")
        department = make_unit(session, kind="department", parent_code=HULI)
        add_opinion(client, editor, issuer_unit_code=department.code)
    large = {code: measure(code) for code in ("opinions", "compiled", "published")}
    assert large == small, (small, large)
    assert all(n <= 6 for n in small.values()), small
    rows = status(client, auditor, "published", as_of="2021-01-01", district=HULI, domain="01")
    assert len(rows) == len(HULI_UNITS) + 20


def test_states_for_gives_every_milestone_in_two_statements(
    client: TestClient,
    session: Session,
    auditor: dict[str, str],
    editor: dict[str, str],
    statements: list[str],
) -> None:
    compile_catalogue(client, editor, HULI, "01", "2020-11-05")
    add_opinion(client, editor, issuer_unit_code=HULI, domain_code="01", issued_on="2020-07-20")
    statements.clear()
    states = milestones.states_for(session, as_of=date(2020, 12, 1), district=HULI)
    assert len(statements) == 2
    assert states["opinions", HULI, "01"].state == "on_time"
    assert states["compiled", HULI, "01"].days == 5
    assert states["compiled", HULI, "01"].done_on == date(2020, 11, 5)
    assert states["published", HULI_STREET, "01"].state == "overdue"
    assert ("opinions", HULI_STREET, "01") not in states
    # the same answer as the status of each milestone
    for milestone in session.exec(select(Milestone)):
        for found in milestones.status_dicts(
            session, milestone, as_of=date(2020, 12, 1), district=HULI
        ):
            row = MilestoneStatus.model_validate(found)
            assert states[milestone.code, row.unit_code, row.domain_code] == row


def test_the_auditor_corrects_a_recorded_date(
    client: TestClient, session: Session, auditor: dict[str, str], editor: dict[str, str]
) -> None:
    compile_catalogue(client, editor, HULI, "01", "2020-11-03")
    url = f"/api/v1/units/{HULI}/catalogues/01/dates"
    q = {"district": HULI, "domain": "01", "as_of": "2020-12-01"}
    assert state(status(client, auditor, "compiled", **q)[HULI, "01"])[0] == "late"

    assert (
        client.patch(url, json={"first_compiled_on": "2020-10-30"}, headers=editor).status_code
        == 403
    )
    assert (
        client.patch(url, json={"first_compiled_on": "2020-10-30"}, headers=auditor).status_code
        == 428
    )
    catalogue = f"/api/v1/units/{HULI}/catalogues/01"
    stale = auditor | {"If-Match": '"c1.999"'}
    assert (
        client.patch(url, json={"first_compiled_on": "2020-10-30"}, headers=stale).status_code
        == 412
    )
    fresh = if_match(client, catalogue, auditor)
    response = client.patch(url, json={"first_compiled_on": "2020-10-30"}, headers=fresh)
    assert response.status_code == 200, response.text
    assert response.headers["ETag"] != fresh["If-Match"]
    assert (response.json()["first_compiled_on"], response.json()["compiled_on"]) == (
        "2020-10-30",
        "2020-10-30",
    )
    assert state(status(client, auditor, "compiled", **q)[HULI, "01"]) == (
        "on_time",
        0,
        "2020-10-30",
    )
    history = client.get(f"/api/v1/units/{HULI}/catalogues/01/history", headers=auditor).json()
    latest = history["items"][0]
    assert latest["action"] == "correct_dates"
    assert (latest["before"]["first_compiled_on"], latest["after"]["first_compiled_on"]) == (
        "2020-11-03",
        "2020-10-30",
    )


def test_a_date_never_recorded_cannot_be_corrected(
    client: TestClient, auditor: dict[str, str], editor: dict[str, str]
) -> None:
    compile_catalogue(client, editor, HULI, "02", "2020-10-20")
    url = f"/api/v1/units/{HULI}/catalogues/02/dates"
    auditor = if_match(client, f"/api/v1/units/{HULI}/catalogues/02", auditor)
    never = client.patch(url, json={"first_published_on": "2020-11-01"}, headers=auditor)
    assert never.status_code == 409
    future = client.patch(url, json={"first_compiled_on": "2999-01-01"}, headers=auditor)
    assert future.status_code == 422
    assert client.patch(url, json={}, headers=auditor).status_code == 422


def test_seeding_again_keeps_the_auditors_dates(
    client: TestClient, session: Session, auditor: dict[str, str]
) -> None:
    from seed import load

    moved = patch_milestone(client, auditor, "published", {"due_on": "2020-11-20"})
    assert moved.status_code == 200
    assert load(session)["milestones"] == 0
    rows = {m["code"]: m["due_on"] for m in client.get("/api/v1/milestones").json()}
    assert rows["published"] == "2020-11-20"


def test_a_milestone_change_needs_if_match(
    client: TestClient, session: Session, auditor: dict[str, str]
) -> None:
    """Issue 19.2: two auditors moving the same date must not overwrite each other."""
    url = "/api/v1/milestones/compiled"
    read = client.get(url)
    assert read.status_code == 200
    etag = read.headers["ETag"]
    assert read.json()["etag"] == etag
    assert {m["code"]: m["etag"] for m in client.get("/api/v1/milestones").json()}[
        "compiled"
    ] == etag
    change = {"due_on": "2020-11-15"}
    missing = client.patch(url, json=change, headers=auditor)
    assert missing.status_code == 428
    malformed = client.patch(url, json=change, headers=auditor | {"If-Match": "m-compiled.1"})
    assert malformed.status_code == 400
    first = client.patch(url, json=change, headers=auditor | {"If-Match": etag})
    assert first.status_code == 200, first.text
    assert first.headers["ETag"] != etag
    assert first.json()["etag"] == first.headers["ETag"]
    lost = client.patch(url, json={"due_on": "2020-12-31"}, headers=auditor | {"If-Match": etag})
    assert lost.status_code == 412
    assert client.get(url).json()["due_on"] == "2020-11-15"
    # a change of the domain set alone moves the ETag on too
    fresh = auditor | {"If-Match": first.headers["ETag"]}
    narrowed = client.patch(url, json={"domain_codes": ["01", "02"]}, headers=fresh)
    assert narrowed.status_code == 200, narrowed.text
    assert narrowed.headers["ETag"] != first.headers["ETag"]
    assert client.patch(url, json=change, headers=fresh).status_code == 412
    assert client.get("/api/v1/milestones/nope").status_code == 404


def test_status_filters_by_state_before_paging(
    client: TestClient, auditor: dict[str, str], editor: dict[str, str]
) -> None:
    compile_catalogue(client, editor, HULI, "01", "2020-10-20")
    compile_catalogue(client, editor, HULI, "02", "2020-11-05")
    url = "/api/v1/milestones/compiled/status"
    q: dict[str, Any] = {"district": HULI, "as_of": "2020-12-01"}
    on_time = client.get(url, params=q | {"state": "on_time"}, headers=auditor).json()
    assert [(r["unit_code"], r["domain_code"]) for r in on_time] == [(HULI, "01")]
    late = client.get(url, params=q | {"state": "late"}, headers=auditor).json()
    assert [(r["unit_code"], r["domain_code"], r["days"]) for r in late] == [(HULI, "02", 5)]
    overdue = client.get(url, params=q | {"state": "overdue", "limit": 100}, headers=auditor)
    assert len(overdue.json()) == 100
    assert {r["state"] for r in overdue.json()} == {"overdue"}
    assert "state=overdue" in overdue.headers["Link"]
    rest = client.get(
        url, params=q | {"state": "overdue", "limit": 100, "offset": 100}, headers=auditor
    )
    assert len(rest.json()) == len(HULI_UNITS) * 26 - 2 - 100
    assert "Link" not in rest.headers
    pending = client.get(url, params=q | {"state": "pending"}, headers=auditor).json()
    assert pending == []
    early = client.get(
        url, params={"district": HULI, "as_of": "2020-10-01", "state": "pending"}, headers=auditor
    ).json()
    assert len(early) == len(HULI_UNITS) * 26  # the 2020-10-20 compile had not happened yet
    domain = client.get(url, params=q | {"domain": "02", "state": "late"}, headers=auditor)
    assert [r["unit_code"] for r in domain.json()] == [HULI]
    wrong = client.get(url, params=q | {"state": "done"}, headers=auditor)
    assert wrong.status_code == 422
    message = str(wrong.json()["detail"])
    assert all(name in message for name in ("on_time", "late", "pending", "overdue"))


def test_status_as_csv_and_xlsx(
    client: TestClient, session: Session, auditor: dict[str, str], editor: dict[str, str]
) -> None:
    import io
    from urllib.parse import unquote

    from openpyxl import load_workbook

    make_unit(session, kind="street", parent_code=HULI, name="=HYPERLINK(1)街道")
    compile_catalogue(client, editor, HULI, "01", "2020-11-05")
    url = "/api/v1/milestones/compiled/status"
    q: dict[str, Any] = {"district": HULI, "as_of": "2020-12-01", "domain": "01"}
    response = client.get(url, params=q | {"format": "csv", "limit": 3}, headers=auditor)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "compiled" in unquote(response.headers["content-disposition"])
    assert response.headers["X-Next-Offset"] == "3"
    text = response.content.decode("utf-8-sig")
    lines = text.splitlines()
    assert lines[0].startswith("单位代码,单位,领域代码,领域,状态")
    assert lines[1].split(",")[:7] == [HULI, "湖里区", "01", "城乡规划", "逾期完成", "late", "5"]
    everything = client.get(url, params=q | {"format": "csv"}, headers=auditor)
    assert "X-Next-Offset" not in everything.headers
    assert "'=HYPERLINK(1)街道" in everything.content.decode("utf-8-sig")  # neutralised
    book = client.get(url, params=q | {"format": "xlsx", "state": "late"}, headers=auditor)
    assert book.status_code == 200
    workbook = load_workbook(io.BytesIO(book.content))
    about = {row[0]: row[1] for row in workbook["说明"].iter_rows(values_only=True)}
    assert about["截至日期 as_of"] == "2020-12-01"
    assert "state=late" in about["查询 query"]
    sheet = workbook["compiled"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "单位代码"
    assert [row[:2] for row in rows[1:]] == [(HULI, "湖里区")]
    bad = client.get(url, params=q | {"format": "pdf"}, headers=auditor)
    assert bad.status_code == 422
