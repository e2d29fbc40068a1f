"""The timeliness audit through HTTP: counts, blank and stale items on the 2020/2021
calendar, the website-check flag, scope, and the files."""

import io
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlmodel import Session

from app.services import timeliness
from tests.factories import HULI, HULI_STREET, SIMING, add_item, publish, token
from tests.test_records import TWENTY_DAYS, push, record

URL = "/api/v1/audit/timeliness"


@pytest.fixture
def catalogue(client: TestClient, editor: dict[str, str]) -> dict[str, dict[str, Any]]:
    """HULI 01 published 2020-11-05 with one item of each kind, and their records."""
    items = {
        "answered": add_item(client, editor, time_limit=TWENTY_DAYS),
        "blank": add_item(client, editor, time_limit=TWENTY_DAYS),
        "on_request": add_item(client, editor, method="依申请"),
        "quarterly": add_item(client, editor, time_limit="每季度更新"),
        "yearly": add_item(client, editor, time_limit="每年3月底前公开上一年度报告"),
    }
    publish(client, editor, compiled_on="2020-10-20", published_on="2020-11-05")
    response = push(
        client,
        editor,
        [
            record(items["answered"]["id"], 1, published_on="2020-10-30"),  # on time
            record(items["answered"]["id"], 2, published_on="2020-11-05"),  # 3 days late
            record(items["answered"]["id"], 3, formed_on="2020-12-20", published_on="2021-02-01"),
            record(items["quarterly"]["id"], 4, formed_on="2020-08-15", published_on="2020-08-20"),
            record(items["yearly"]["id"], 5, formed_on="2020-03-01", published_on="2020-03-20"),
        ],
    )
    assert response.status_code == 200, response.text
    return items


def rows_of(client: TestClient, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    response = client.get(URL, params=params, headers=headers)
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()["rows"]
    return rows


def test_counts_records_published_by_as_of_against_the_latest_version(
    client: TestClient, auditor: dict[str, str], catalogue: dict[str, dict[str, Any]]
) -> None:
    (row,) = rows_of(client, auditor, as_of="2021-01-10", district=HULI, domain="01")
    assert (row["unit_code"], row["domain_code"], row["version"]) == (HULI, "01", 1)
    assert row["items"] == 5
    assert (row["records"], row["on_time"], row["late"], row["unknown"]) == (4, 3, 1, 0)
    assert [r["late_days"] for r in row["late_records"]] == [3]
    assert [i["id"] for i in row["blank_items"]] == [catalogue["blank"]["id"]]
    # Q4 2020 ended 12-31 before as_of; the quarterly item's last record was formed in Q3.
    (stale,) = row["stale_items"]
    assert stale["id"] == catalogue["quarterly"]["id"]
    assert (stale["period_start"], stale["period_end"]) == ("2020-10-01", "2020-12-31")
    # The yearly item's last due period (2019) ended before the catalogue was published.
    assert (row["blank"], row["stale"]) == (1, 1)


def test_a_yearly_item_goes_stale_after_its_deadline_without_a_record_for_last_year(
    client: TestClient, auditor: dict[str, str], catalogue: dict[str, dict[str, Any]]
) -> None:
    (before,) = rows_of(client, auditor, as_of="2021-03-31", domain="01", district=HULI)
    assert catalogue["yearly"]["id"] not in [i["id"] for i in before["stale_items"]]
    (after,) = rows_of(client, auditor, as_of="2021-04-01", domain="01", district=HULI)
    stale = {i["id"]: i for i in after["stale_items"]}
    # 2020's report was formed 2020-03-01, inside 2020: not stale…
    assert catalogue["yearly"]["id"] not in stale
    # …but a year later, with nothing formed in 2021, it is.
    (later,) = rows_of(client, auditor, as_of="2022-04-01", domain="01", district=HULI)
    assert catalogue["yearly"]["id"] in [i["id"] for i in later["stale_items"]]


def test_a_record_counts_only_from_its_published_day(
    client: TestClient, auditor: dict[str, str], catalogue: dict[str, dict[str, Any]]
) -> None:
    (early,) = rows_of(client, auditor, as_of="2020-11-05", district=HULI, domain="01")
    assert early["records"] == 4  # the quarterly, the yearly, the two answered; not 2021's
    assert early["late"] == 1
    assert {i["id"] for i in early["blank_items"]} == {catalogue["blank"]["id"]}


def test_deleted_items_leave_the_counts(
    client: TestClient,
    auditor: dict[str, str],
    editor: dict[str, str],
    catalogue: dict[str, dict[str, Any]],
) -> None:
    gone = catalogue["answered"]
    response = client.delete(
        f"/api/v1/items/{gone['id']}", headers=editor | {"If-Match": gone["etag"]}
    )
    assert response.status_code == 204
    (row,) = rows_of(client, auditor, as_of="2021-01-10", district=HULI, domain="01")
    assert (row["items"], row["records"], row["late"], row["late_records"]) == (4, 2, 0, [])


def test_a_unit_with_five_blank_or_stale_items_is_flagged(
    client: TestClient, auditor: dict[str, str], editor: dict[str, str]
) -> None:
    for _ in range(4):
        add_item(client, editor)
    publish(client, editor)
    report = client.get(URL, params={"as_of": "2020-12-01", "district": HULI}, headers=auditor)
    (unit,) = [u for u in report.json()["units"] if u["unit_code"] == HULI]
    assert (unit["blank"], unit["flagged"]) == (4, False)
    add_item(client, editor)
    publish(client, editor, published_on="2020-11-06")
    report = client.get(URL, params={"as_of": "2020-12-01", "district": HULI}, headers=auditor)
    (unit,) = [u for u in report.json()["units"] if u["unit_code"] == HULI]
    assert (unit["blank"], unit["blank_or_stale"], unit["flagged"]) == (5, 5, True)


def test_a_district_editor_sees_its_district_only(
    client: TestClient, session: Session, editor: dict[str, str]
) -> None:
    street = token(session, "editor", HULI_STREET)
    add_item(client, editor, unit=HULI_STREET)
    publish(client, editor, unit=HULI_STREET)
    simng = token(session, "editor", SIMING)
    add_item(client, simng, unit=SIMING)
    publish(client, simng, unit=SIMING)
    own = client.get(URL, params={"as_of": "2020-12-01"}, headers=editor)
    assert own.status_code == 200
    assert {r["unit_code"] for r in own.json()["rows"]} == {HULI_STREET}
    assert client.get(URL, params={"district": SIMING}, headers=editor).status_code == 403
    assert client.get(URL, headers=street).status_code == 403
    assert client.get(URL).status_code == 401
    everyone = rows_of(client, token(session, "auditor"), as_of="2020-12-01")
    assert {HULI_STREET, SIMING} <= {r["unit_code"] for r in everyone}


def test_csv_and_xlsx_carry_the_same_rows(
    client: TestClient, auditor: dict[str, str], catalogue: dict[str, dict[str, Any]]
) -> None:
    params = {"as_of": "2021-01-10", "district": HULI, "domain": "01"}
    csv = client.get(URL, params=params | {"format": "csv"}, headers=auditor)
    assert csv.status_code == 200
    assert csv.headers["content-type"].startswith("text/csv")
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("单位代码,单位名称,领域代码")
    assert lines[1].split(",")[4:11] == ["5", "4", "3", "1", "0", "1", "1"]
    xlsx = client.get(URL, params=params | {"format": "xlsx"}, headers=auditor)
    book = load_workbook(io.BytesIO(xlsx.content))
    assert book.sheetnames == ["时效明细", "空白与不更新栏目", "逾期记录"]
    problems = [row[5] for row in book["空白与不更新栏目"].iter_rows(min_row=2, values_only=True)]
    assert sorted(problems) == ["不更新栏目", "空白栏目"]
    assert book["逾期记录"].max_row == 2


@pytest.mark.parametrize("as_of", ["2020-11-04", "2020-11-05", "2021-01-10", "2022-04-01"])
def test_the_completeness_score_reads_the_timeliness_audits_figures(
    client: TestClient,
    auditor: dict[str, str],
    editor: dict[str, str],
    catalogue: dict[str, dict[str, Any]],
    as_of: str,
) -> None:
    add_item(client, editor, domain="02")  # a second catalogue, published: all blank
    publish(client, editor, domain="02", compiled_on="2020-10-20", published_on="2020-11-05")
    timely = client.get(URL, params={"as_of": as_of, "district": HULI}, headers=auditor).json()
    response = client.get(
        "/api/v1/audit/completeness", params={"as_of": as_of, "district": HULI}, headers=auditor
    )
    assert response.status_code == 200, response.text
    report = response.json()
    by_row = {(r["unit_code"], r["domain_code"]): r for r in timely["rows"]}
    shown = {
        (r["unit_code"], r["domain_code"]): r["timeliness"]
        for r in report["rows"]
        if r["timeliness"]
    }
    assert set(shown) == set(by_row)
    for key, figures in shown.items():
        for name, value in figures.items():
            assert by_row[key][name] == value, (key, name)
    for unit in report["units"]:
        rows = [r for k, r in by_row.items() if k[0] == unit["unit_code"]]
        parts = {c["name"]: c for c in unit["components"]}
        items = sum(r["items"] for r in rows)
        assert parts["blank"]["denominator"] == parts["stale"]["denominator"] == items
        assert parts["blank"]["numerator"] == items - sum(r["blank"] for r in rows)
        assert parts["stale"]["numerator"] == items - sum(r["stale"] for r in rows)
        judged = sum(r["on_time"] + r["late"] for r in rows)
        assert parts["late"]["denominator"] == judged
        assert parts["late"]["numerator"] == sum(r["on_time"] for r in rows)
        if not items:  # nothing published: no points for blank, stale nor late
            assert parts["blank"]["ratio"] == parts["stale"]["ratio"] == 0
            assert parts["late"]["ratio"] == 0
            assert "没有已发布的事项" in parts["blank"]["reason"]
            assert "没有已发布的事项" in parts["late"]["reason"]
        elif not judged:  # published, no record to judge: nothing was late
            assert parts["late"]["ratio"] == 1
            assert parts["late"]["reason"] is not None
    huli = next(u for u in report["units"] if u["unit_code"] == HULI)
    if as_of == "2021-01-10":
        parts = {c["name"]: c for c in huli["components"]}
        assert (parts["blank"]["numerator"], parts["blank"]["denominator"]) == (4, 6)
        assert (parts["late"]["numerator"], parts["late"]["denominator"]) == (3, 4)
        assert any("空白栏目" in reason and "01(1)" in reason for reason in huli["reasons"])
        assert any("逾期" in reason and "01(1)" in reason for reason in huli["reasons"])


def _street_published(client: TestClient, editor: dict[str, str]) -> int:
    """A street of HULI with one published catalogue (all blank): a second unit to rank.
    Its item's id."""
    item = add_item(client, editor, unit=HULI_STREET, time_limit=TWENTY_DAYS)
    publish(client, editor, unit=HULI_STREET, compiled_on="2020-10-20", published_on="2020-11-05")
    return int(item["id"])


@pytest.mark.parametrize("as_of", ["2021-01-10", "2021-03-01", "2022-04-01"])
def test_units_off_the_completeness_page_are_scored_from_the_same_figures(
    client: TestClient,
    auditor: dict[str, str],
    editor: dict[str, str],
    catalogue: dict[str, dict[str, Any]],
    as_of: str,
) -> None:
    # Off the page, a unit's timeliness figures are computed without their lists (on
    # PostgreSQL aggregated in SQL, unless a record was published after as_of, as on
    # 2021-01-10); the ranking and the district's means must not tell the difference.
    _street_published(client, editor)
    params = {"as_of": as_of, "district": HULI}

    def report(limit: int, offset: int = 0) -> dict[str, Any]:
        timeliness.clear_caches()
        response = client.get(
            "/api/v1/audit/completeness",
            params={**params, "limit": str(limit), "offset": str(offset)},
            headers=auditor,
        )
        assert response.status_code == 200, response.text
        return dict(response.json())

    whole = report(1000)
    assert len(whole["units"]) >= 2
    for offset, unit in enumerate(whole["units"]):
        one = report(1, offset)
        assert one["districts"] == whole["districts"]
        assert one["units"] == [unit]


def test_a_national_completeness_audit_does_not_compute_timeliness_again_each_request(
    client: TestClient,
    auditor: dict[str, str],
    editor: dict[str, str],
    catalogue: dict[str, dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A nation has more catalogues than the rows (with lists) kept in memory: the units off
    # the page keep figures only, so a second request computes no catalogue again (before,
    # every request computed every catalogue's row again: 44 s for the nation).
    _street_published(client, editor)
    monkeypatch.setattr(timeliness, "MAX_ROWS", 1)
    computed: list[int] = []
    real = timeliness._compute

    def compute(*args: Any, **kwargs: Any) -> Any:
        computed.extend(version.catalogue_id for version in args[1])
        return real(*args, **kwargs)

    monkeypatch.setattr(timeliness, "_compute", compute)
    params = {"as_of": "2021-01-10", "district": HULI, "limit": "1"}
    for attempt in range(2):
        computed.clear()
        response = client.get("/api/v1/audit/completeness", params=params, headers=auditor)
        assert response.status_code == 200, response.text
        assert (len(computed) > 0) == (attempt == 0)


def test_a_record_pushed_to_a_unit_off_the_page_moves_the_ranking_at_once(
    client: TestClient,
    auditor: dict[str, str],
    editor: dict[str, str],
    catalogue: dict[str, dict[str, Any]],
) -> None:
    # The figures of units off the page (and on PostgreSQL their sums, kept by a fingerprint
    # of the versions, revisions and record stamps in scope) follow every write.
    item_id = _street_published(client, editor)
    params = {"as_of": "2021-03-01", "district": HULI, "limit": "1"}

    def blank_mean() -> float:
        response = client.get("/api/v1/audit/completeness", params=params, headers=auditor)
        assert response.status_code == 200, response.text
        (district,) = response.json()["districts"]
        return float(district["components"]["blank"])

    before = blank_mean()
    assert blank_mean() == before
    pushed = push(client, editor, [record(item_id, 9)], unit=HULI_STREET)
    assert pushed.status_code == 200, pushed.text
    assert blank_mean() > before
