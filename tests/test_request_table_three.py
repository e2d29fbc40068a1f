"""Table 三 from the register: the annual report's codes, each row's definition, the 2019
and 2021 templates, and the balance 一 + 二 = 三(七) + 四 for any register."""

from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session

from app.auth import SYSTEM
from app.models.request import ApplicantType, EventCreate, Outcome, RequestCreate, Template
from app.models.unit import Unit
from app.services import requests
from tests.factories import HULI, HULI_STREET, make_unit, token

ROW_CODES_2019 = [
    "received",
    "carried_in",
    "granted",
    "partial",
    "refused_secret",
    "refused_law",
    "refused_safety",
    "refused_third_party",
    "refused_internal",
    "refused_process",
    "refused_enforcement",
    "refused_inquiry",
    "unable_not_held",
    "unable_needs_making",
    "unable_unclear",
    "ignored_petition",
    "ignored_repeat",
    "ignored_publication",
    "ignored_excessive",
    "ignored_confirm",
    "other",
    "total",
    "carried_out",
]
ROW_CODES_2021 = [
    *ROW_CODES_2019[:20],
    "other_no_correction",
    "other_no_fee",
    "other_misc",
    "total",
    "carried_out",
]
COLUMN_CODES = ["natural", "business", "research", "nonprofit", "legal", "other_org", "total"]


def register(
    session: Session,
    unit: str,
    received_on: date,
    applicant: str = "natural",
    *events: dict[str, Any],
) -> None:
    request = requests.create(
        session,
        session.get(Unit, unit),  # type: ignore[arg-type]
        RequestCreate(
            received_on=received_on,
            channel="网络",
            applicant_type=ApplicantType(applicant),
            summary="摘要",
        ),
        actor=SYSTEM,
    )
    for data in events:
        requests.add_event(session, request, EventCreate.model_validate(data), actor=SYSTEM)


def balanced(table: dict[str, dict[str, int]], template: str) -> None:
    outcomes = requests.OUTCOME_ROWS[template]
    for column in COLUMN_CODES:
        cells = {row: table[row][column] for row in table}
        assert cells["received"] + cells["carried_in"] == cells["total"] + cells["carried_out"]
        assert cells["total"] == sum(cells[row] for row in outcomes)
    for row, cells in table.items():
        assert cells["total"] == sum(cells[c] for c in COLUMN_CODES[:-1]), row


def test_rows_and_columns_are_exactly_the_annual_report_codes(session: Session) -> None:
    for template, rows in (("2019", ROW_CODES_2019), ("2021", ROW_CODES_2021)):
        table = requests.table_three(session, HULI, 2020, template)  # type: ignore[arg-type]
        assert list(table) == rows
        assert all(list(cells) == COLUMN_CODES for cells in table.values())


def test_each_row_counts_what_the_report_defines(session: Session) -> None:
    # carried in: received in 2019, answered in 2020
    register(
        session,
        HULI,
        date(2019, 12, 20),
        "business",
        {"kind": "answered", "on": "2020-01-10", "outcome": "granted"},
    )
    # closed in 2019: in neither year's 2020 table
    register(
        session,
        HULI,
        date(2019, 3, 1),
        "natural",
        {"kind": "answered", "on": "2019-03-05", "outcome": "granted"},
    )
    # received and answered in 2020
    register(
        session,
        HULI,
        date(2020, 3, 2),
        "natural",
        {"kind": "answered", "on": "2020-03-10", "outcome": "refused_process"},
    )
    register(
        session,
        HULI,
        date(2020, 3, 2),
        "legal",
        {"kind": "answered", "on": "2020-03-10", "outcome": "unable_not_held"},
    )
    # received in 2020, still open at year end: carried out
    register(session, HULI, date(2020, 12, 20), "research")
    # no correction: 三(六); withdrawn: 三(六) too
    register(
        session,
        HULI,
        date(2020, 5, 6),
        "natural",
        {"kind": "correction_requested", "on": "2020-05-07"},
        {"kind": "correction_expired", "on": "2020-06-08"},
    )
    register(
        session, HULI, date(2020, 5, 6), "other_org", {"kind": "withdrawn", "on": "2020-05-08"}
    )
    # another unit's: not counted
    register(session, HULI_STREET, date(2020, 3, 2), "natural")

    table = requests.table_three(session, HULI, 2020, "2019")
    assert table["received"] == {
        "natural": 2,
        "business": 0,
        "research": 1,
        "nonprofit": 0,
        "legal": 1,
        "other_org": 1,
        "total": 5,
    }
    assert table["carried_in"]["business"] == 1
    assert table["carried_in"]["total"] == 1
    assert table["granted"]["business"] == 1
    assert table["refused_process"]["natural"] == 1
    assert table["unable_not_held"]["legal"] == 1
    assert table["other"]["natural"] == 1
    assert table["other"]["other_org"] == 1
    assert table["total"]["total"] == 5
    assert table["carried_out"] == {
        "natural": 0,
        "business": 0,
        "research": 1,
        "nonprofit": 0,
        "legal": 0,
        "other_org": 0,
        "total": 1,
    }
    balanced(table, "2019")

    table_2021 = requests.table_three(session, HULI, 2020, "2021")
    assert table_2021["other_no_correction"]["natural"] == 1
    assert table_2021["other_misc"]["other_org"] == 1
    assert "other" not in table_2021
    balanced(table_2021, "2021")

    next_year = requests.table_three(session, HULI, 2021, "2021")
    assert next_year["carried_in"] == table["carried_out"]


def test_the_endpoint_gives_the_function_and_rolls_up_a_district(
    client: TestClient, session: Session
) -> None:
    register(session, HULI, date(2021, 3, 2), "natural")
    register(
        session,
        HULI_STREET,
        date(2021, 4, 1),
        "business",
        {"kind": "answered", "on": "2021-04-02", "outcome": "granted"},
    )
    editor = token(session, "editor", HULI)
    url = f"/api/v1/units/{HULI}/requests/table-three"
    own = client.get(url, params={"year": 2021}, headers=editor).json()
    assert own["template"] == "2021"
    assert own["requests"] == requests.table_three(session, HULI, 2021, "2021")
    rolled = client.get(url, params={"year": 2021, "rollup": True}, headers=editor).json()
    assert HULI_STREET in rolled["units"]
    assert rolled["requests"]["received"]["total"] == 2
    assert rolled["requests"]["granted"]["business"] == 1
    old = client.get(url, params={"year": 2020}, headers=editor).json()
    assert old["template"] == "2019"
    assert "other" in old["requests"]


registers = st.lists(
    st.tuples(
        st.dates(min_value=date(2019, 6, 1), max_value=date(2021, 6, 30)),
        st.sampled_from(COLUMN_CODES[:-1]),
        st.sampled_from(["open", "answered", "withdrawn", "expired", "extended"]),
        st.integers(min_value=0, max_value=200),
        st.sampled_from(["granted", "partial", "ignored_repeat", "other_no_fee", "other"]),
    ),
    max_size=25,
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(registers)
def test_any_register_balances_and_years_chain(
    session: Session, rows: list[tuple[date, str, str, int, str]]
) -> None:
    unit = make_unit(session, kind="street", parent_code=HULI).code
    for received_on, applicant, fate, after, outcome in rows:
        on = (received_on + timedelta(days=after)).isoformat()
        if fate == "answered":
            register(
                session,
                unit,
                received_on,
                applicant,
                {"kind": "answered", "on": on, "outcome": outcome},
            )
        elif fate == "withdrawn":
            register(session, unit, received_on, applicant, {"kind": "withdrawn", "on": on})
        elif fate == "expired":
            register(
                session,
                unit,
                received_on,
                applicant,
                {"kind": "correction_requested", "on": received_on.isoformat()},
                {"kind": "correction_expired", "on": on},
            )
        else:
            register(session, unit, received_on, applicant)
    previous = None
    for year in (2019, 2020, 2021, 2022):
        for template in ("2019", "2021"):
            table = requests.table_three(session, unit, year, template)
            balanced(table, template)
        received = sum(1 for r in rows if r[0].year == year)
        assert table["received"]["total"] == received
        if previous is not None:
            assert table["carried_in"] == previous["carried_out"]
        previous = table


OUTCOMES = [outcome.value for outcome in Outcome]
TEMPLATES: tuple[Template, ...] = ("2019", "2021")
FATES = ["open", "answered", "withdrawn", "expired", "corrected", "consulted", "extended"]
fated_registers = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=1),
        st.dates(min_value=date(2019, 10, 1), max_value=date(2021, 3, 31)),
        st.sampled_from(COLUMN_CODES[:-1]),
        st.sampled_from(FATES),
        st.integers(min_value=1, max_value=120),
        st.sampled_from(OUTCOMES),
    ),
    max_size=30,
)


def _events(fate: str, received_on: date, closed_on: date, outcome: str) -> list[dict[str, Any]]:
    start, end = received_on.isoformat(), closed_on.isoformat()
    answer = {"kind": "answered", "on": end, "outcome": outcome}
    fates: dict[str, list[dict[str, Any]]] = {
        "open": [],
        "answered": [answer],
        "withdrawn": [{"kind": "withdrawn", "on": end}],
        "expired": [
            {"kind": "correction_requested", "on": start},
            {"kind": "correction_expired", "on": end},
        ],
        "corrected": [
            {"kind": "correction_requested", "on": start},
            {"kind": "correction_received", "on": start},
            answer,
        ],
        "consulted": [{"kind": "consultation_started", "on": start, "party": "agency"}, answer],
        "extended": [{"kind": "extended", "on": start, "days": 10, "approved_by": "主任"}, answer],
    }
    return fates[fate]


def _counted(
    units: list[str],
    rows: list[tuple[str, date, str, date | None, str]],
    year: int,
    template: str,
) -> dict[str, dict[str, dict[str, int]]]:
    """Table 三 counted by hand from what was registered, without the stored columns."""
    tables = {
        unit: {r: dict.fromkeys(COLUMN_CODES, 0) for r in requests.ROWS[template]} for unit in units
    }
    for unit, received_on, applicant, closed_on, row in rows:
        table = tables[unit]
        if received_on.year > year or (closed_on is not None and closed_on.year < year):
            continue
        table["received" if received_on.year == year else "carried_in"][applicant] += 1
        if closed_on is not None and closed_on.year == year:
            if template == "2019" and row.startswith("other"):
                row = "other"
            table[row][applicant] += 1
        else:
            table["carried_out"][applicant] += 1
    for table in tables.values():
        for applicant in COLUMN_CODES[:-1]:
            table["total"][applicant] = sum(
                table[r][applicant] for r in requests.OUTCOME_ROWS[template]
            )
        for cells in table.values():
            cells["total"] = sum(cells[c] for c in COLUMN_CODES[:-1])
    return tables


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(fated_registers)
def test_the_stored_columns_give_what_an_independent_count_gives(
    session: Session, rows: list[tuple[int, date, str, str, int, str]]
) -> None:
    """Any register, every fate an application can have: table 三 from the stored columns
    (one grouped read) is the count of each application by its own dates and outcome."""
    units = [make_unit(session, kind="street", parent_code=HULI).code for _ in range(2)]
    registered: list[tuple[str, date, str, date | None, str]] = []
    for which, received_on, applicant, fate, after, outcome in rows:
        closed_on = received_on + timedelta(days=after)
        register(
            session,
            units[which],
            received_on,
            applicant,
            *_events(fate, received_on, closed_on, outcome),
        )
        row = {"withdrawn": "other_misc", "expired": "other_no_correction"}.get(
            fate, "other_misc" if outcome == "other" else outcome
        )
        registered.append(
            (units[which], received_on, applicant, None if fate == "open" else closed_on, row)
        )
    for year in (2019, 2020, 2021, 2022):
        for template in TEMPLATES:
            tables = requests.table_three_many(session, units, year, template)
            assert tables == _counted(units, registered, year, template), (year, template)
            for table in tables.values():
                balanced(table, template)
