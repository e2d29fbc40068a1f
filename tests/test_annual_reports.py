"""Annual reports through HTTP: keep, check, publish, correct, render, draft, due dates, audit."""

import io
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlmodel import Session

from app.services import annual_reports
from tests.factories import (
    CITY,
    HULI,
    HULI_STREET,
    SEED_REPORTS,
    SIMING,
    add_item,
    add_request,
    make_unit,
    publish,
    report_body,
    seed_report,
    token,
)

BASE = "/api/v1/units/{unit}/annual-reports/{year}"


def url(unit: str, year: int, tail: str = "") -> str:
    return BASE.format(unit=unit, year=year) + tail


def put(
    client: TestClient,
    headers: dict[str, str],
    unit: str,
    year: int,
    body: dict[str, Any],
    etag: str | None = None,
) -> Any:
    extra = {"If-Match": etag} if etag else {}
    return client.put(url(unit, year), json=body, headers=headers | extra)


def publish_report(
    client: TestClient,
    headers: dict[str, str],
    unit: str,
    year: int,
    on: str | None = None,
) -> Any:
    return client.post(
        url(unit, year, "/publish"),
        json={
            "published_on": on or f"{year + 1}-01-20",
            "url": f"http://www.xm.gov.cn/{unit}/{year}",
        },
        headers=headers,
    )


def seed_unit(session: Session, unit: dict[str, Any]) -> str:
    if "code" in unit:
        return str(unit["code"])
    return make_unit(
        session, kind=unit["kind"], parent_code=unit.get("parent_code"), name=unit["name"]
    ).code


@pytest.mark.parametrize("name", SEED_REPORTS)
def test_seed_report_is_kept_ready_then_published_and_public(
    client: TestClient, session: Session, name: str
) -> None:
    seed = seed_report(name)
    code = seed_unit(session, seed["unit"])
    editor = token(session, "editor", code)
    response = put(client, editor, code, seed["year"], seed["body"])
    assert response.status_code == 201, response.text
    report = response.json()
    assert report["status"] == "ready"
    assert report["errors"] == []
    assert report["requests"] == seed["body"]["requests"]
    assert response.headers["ETag"]

    published_on = seed["raw"].get("published_on", "2021-01-20")
    response = publish_report(client, editor, code, seed["year"], published_on)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "published"
    assert response.json()["version"] == 1

    public = client.get(f"/api/v1/public/units/{code}/annual-reports/{seed['year']}")
    assert public.status_code == 200
    assert public.json()["requests"] == seed["body"]["requests"]
    assert public.json()["reviews"] == seed["body"]["reviews"]
    assert public.json()["active"] == seed["body"]["active"]
    assert public.json()["document"] == "国办公开办函〔2019〕60号"


def test_a_report_that_breaks_a_rule_is_kept_as_a_draft_naming_rule_and_cell(
    client: TestClient, session: Session
) -> None:
    editor = token(session, "editor", HULI)
    body = report_body()
    body["requests"]["carried_out"]["natural"] = 2  # 4 + 1 received, 4 + 2 handled
    response = put(client, editor, HULI, 2021, body)
    assert response.status_code == 201
    report = response.json()
    assert report["status"] == "draft"
    assert [(e["rule"], e["loc"]) for e in report["errors"]] == [
        ("column_sum", ["requests", "carried_out", "total"]),
        ("balance", ["requests", "carried_out", "natural"]),
    ]
    assert " / " in report["errors"][1]["msg"]
    again = client.get(url(HULI, 2021), headers=editor)
    assert again.json()["errors"] == report["errors"]
    assert again.json()["requests"]["carried_out"]["natural"] == 2
    assert again.json()["requests"]["refused_secret"]["legal"] == 0  # left out: 0


def test_publish_is_422_while_any_rule_is_broken(client: TestClient, session: Session) -> None:
    editor = token(session, "editor", HULI)
    body = report_body()
    body["reviews"]["litigation_direct"] = {"pending": 2, "total": 1}
    put(client, editor, HULI, 2021, body)
    response = publish_report(client, editor, HULI, 2021)
    assert response.status_code == 422
    assert response.json()["detail"] == [
        {
            "loc": ["body", "reviews", "litigation_direct", "total"],
            "msg": response.json()["detail"][0]["msg"],
            "type": "review_sum",
        }
    ]
    public = client.get(f"/api/v1/public/units/{HULI}/annual-reports/2021")
    assert public.status_code == 404


def test_writing_an_existing_report_needs_a_current_if_match(
    client: TestClient, session: Session
) -> None:
    editor = token(session, "editor", HULI)
    first = put(client, editor, HULI, 2021, report_body())
    assert put(client, editor, HULI, 2021, report_body()).status_code == 428
    assert put(client, editor, HULI, 2021, report_body(), etag='"ar0.9"').status_code == 412
    second = put(client, editor, HULI, 2021, report_body(), etag=first.headers["ETag"])
    assert second.status_code == 200
    assert put(client, editor, SIMING, 2021, report_body(), etag='"ar1.1"').status_code == 403


def test_rows_and_columns_outside_the_template_are_refused(
    client: TestClient, session: Session
) -> None:
    editor = token(session, "editor", HULI)
    body = report_body(template="2021")
    body["requests"]["other"] = {"natural": 1}  # a 2019 row
    response = put(client, editor, HULI, 2021, body)
    assert response.status_code == 422
    assert "other" in response.json()["detail"][0]["msg"]
    body = report_body(template="2021")
    body["active"] = {"licensing": {"last_year": 3}}  # a 2019 column
    assert put(client, editor, HULI, 2021, body).status_code == 422
    body = report_body(template="2021")
    body["requests"]["granted"]["natural"] = 2.5
    assert put(client, editor, HULI, 2021, body).status_code == 422


def test_the_template_must_be_the_years(client: TestClient, session: Session) -> None:
    editor = token(session, "editor", HULI)
    response = put(client, editor, HULI, 2020, report_body(template="2021"))
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "template_year"
    assert put(client, editor, HULI, 2020, report_body(template="2019")).status_code == 201


def test_a_published_report_is_immutable_and_a_correction_is_the_next_version(
    client: TestClient, session: Session
) -> None:
    editor = token(session, "editor", HULI)
    put(client, editor, HULI, 2021, report_body())
    assert publish_report(client, editor, HULI, 2021, "2022-01-10").status_code == 200
    assert publish_report(client, editor, HULI, 2021).status_code == 409  # nothing changed

    etag = client.get(url(HULI, 2021), headers=editor).headers["ETag"]
    corrected = report_body()
    corrected["reviews"] = {"review": {"upheld": 1, "corrected": 1, "total": 2}}
    response = put(client, editor, HULI, 2021, corrected, etag=etag)
    assert response.json()["status"] == "ready"
    assert response.json()["version"] == 1
    public = client.get(f"/api/v1/public/units/{HULI}/annual-reports/2021")
    assert public.json()["reviews"]["review"]["total"] == 1  # v1 is what the public sees

    response = publish_report(client, editor, HULI, 2021, "2022-02-01")
    assert response.json()["version"] == 2
    assert response.json()["first_published_on"] == "2022-01-10"
    public = client.get(f"/api/v1/public/units/{HULI}/annual-reports/2021")
    assert public.json()["version"] == 2
    assert public.json()["reviews"]["review"]["total"] == 2
    old = client.get(f"/api/v1/public/units/{HULI}/annual-reports/2021?version=1")
    assert old.json()["reviews"]["review"]["total"] == 1

    history = client.get(url(HULI, 2021, "/history"), headers=editor).json()["items"]
    assert [h["action"] for h in history] == ["publish", "update", "publish", "create"]
    assert history[1]["before"]["reviews"]["review"]["total"] == 1
    assert history[1]["after"]["reviews"]["review"]["total"] == 2


def test_publish_date_must_follow_the_year(client: TestClient, session: Session) -> None:
    editor = token(session, "editor", HULI)
    put(client, editor, HULI, 2021, report_body())
    response = publish_report(client, editor, HULI, 2021, "2021-12-31")
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "published_in_year"


def test_public_report_has_an_etag_and_answers_304(client: TestClient, session: Session) -> None:
    editor = token(session, "editor", HULI)
    put(client, editor, HULI, 2021, report_body())
    publish_report(client, editor, HULI, 2021)
    path = f"/api/v1/public/units/{HULI}/annual-reports/2021"
    first = client.get(path)
    etag = first.headers["ETag"]
    assert client.get(path, headers={"If-None-Match": etag}).status_code == 304
    html = client.get(path, params={"format": "html"})
    assert html.headers["ETag"] != etag
    assert (
        client.get(path, params={"format": "html"}, headers={"If-None-Match": etag}).status_code
        == 200
    )


def test_html_has_the_official_rows_columns_and_merged_headers(
    client: TestClient, session: Session
) -> None:
    seed = seed_report("000_xiamen_city_2020")
    editor = token(session, "editor", CITY)
    put(client, editor, CITY, 2020, seed["body"])
    publish_report(client, editor, CITY, 2020)
    page = client.get(f"/api/v1/public/units/{CITY}/annual-reports/2020?format=html")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    text = page.text
    assert "厦门市2020年政府信息公开工作年度报告" in text
    assert '<th scope="col" colspan="7">申请人情况</th>' in text
    assert '<th scope="col" colspan="5">法人或其他组织</th>' in text
    assert '<th scope="col" colspan="10">行政诉讼</th>' in text
    assert 'rowspan="20">三、本年度办理结果' in text  # 19 outcome rows + (七)总计
    assert 'rowspan="8">（三）不予公开' in text
    assert "378349191" in text
    assert "@page { size: A4" in text
    assert "<script" not in text


def test_working_copy_html_marks_the_broken_cells(client: TestClient, session: Session) -> None:
    editor = token(session, "editor", HULI)
    body = report_body()
    body["reviews"]["review"]["total"] = 9
    put(client, editor, HULI, 2021, body)
    page = client.get(url(HULI, 2021), params={"format": "html"}, headers=editor)
    assert 'class="figure bad">9<' in page.text
    assert "review_sum" in page.text


def test_xlsx_has_one_sheet_per_table_with_merged_headers_and_numbers(
    client: TestClient, session: Session
) -> None:
    seed = seed_report("001_huli_district_2020")
    editor = token(session, "editor", HULI)
    put(client, editor, HULI, 2020, seed["body"])
    publish_report(client, editor, HULI, 2020, "2021-01-05")
    response = client.get(f"/api/v1/public/units/{HULI}/annual-reports/2020?format=xlsx")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["二 主动公开", "三 依申请公开", "四 复议诉讼"]
    requests = book["三 依申请公开"]
    merged = {str(r) for r in requests.merged_cells.ranges}
    assert "A3:C5" in merged  # the caption over the three label columns
    assert "D3:J3" in merged  # 申请人情况
    assert "E4:I4" in merged  # 法人或其他组织
    assert requests["A6"].value == "一、本年新收政府信息公开申请数量"
    assert requests["D6"].value == 74
    assert requests["J6"].value == 76
    assert requests.column_dimensions["C"].width == 30
    active = book["二 主动公开"]
    amounts = [c.value for row in active.iter_rows() for c in row if isinstance(c.value, float)]
    assert amounts == [24161987.13]
    reviews = book["四 复议诉讼"]
    assert [reviews.cell(row=6, column=c).value for c in range(1, 6)] == [1, 1, 1, 0, 3]


def test_draft_takes_last_years_carried_out_and_the_catalogue_figures(
    client: TestClient, session: Session
) -> None:
    editor = token(session, "editor", HULI)
    last = report_body(template="2019")
    last["active"] = {"licensing": {"last_year": 235, "change": 22, "decisions": 5466}}
    put(client, editor, HULI, 2019, last)
    add_item(client, editor, HULI, "01")
    add_item(client, editor, HULI, "01", first_level="其他")
    publish(client, editor, HULI, "01")
    street_editor = token(session, "editor", HULI_STREET)
    add_item(client, street_editor, HULI_STREET, "02", levels=["乡级"])
    publish(client, street_editor, HULI_STREET, "02")

    response = client.get(url(HULI, 2020, "/draft"), headers=editor)
    assert response.status_code == 200, response.text
    draft = response.json()
    assert draft["template"] == "2019"
    assert draft["requests"]["carried_in"] == last["requests"]["carried_out"] | dict.fromkeys(
        ("business", "research", "nonprofit", "legal", "other_org"), 0
    )
    assert draft["active"]["licensing"]["last_year"] == 257
    assert draft["sources"]["from_last_year"] is True
    levels = {level["level"]: level for level in draft["catalogue"]}
    assert levels["县级"]["domains"] == 1
    assert levels["县级"]["first_level_items"] == 2
    assert levels["县级"]["second_level_items"] == 2
    assert levels["乡级"]["domains"] == 1
    assert levels["乡级"]["second_level_items"] == 1
    assert client.get(url(HULI, 2020), headers=editor).status_code == 404  # nothing stored


def test_carried_in_that_differs_from_last_years_report_is_a_warning(
    client: TestClient, session: Session
) -> None:
    editor = token(session, "editor", HULI)
    put(client, editor, HULI, 2020, report_body(template="2019"))
    body = report_body(template="2021")
    body["requests"]["carried_in"] = {"natural": 2, "total": 2}
    body["requests"]["received"] = {"natural": 3, "business": 1, "total": 4}
    response = put(client, editor, HULI, 2021, body)
    assert response.json()["errors"] == []
    assert [(w["rule"], w["loc"]) for w in response.json()["warnings"]] == [
        ("carried_in_differs", ["requests", "carried_in", "natural"]),
        ("carried_in_differs", ["requests", "carried_in", "total"]),
    ]


def test_a_copied_report_is_a_warning(client: TestClient, session: Session) -> None:
    editor = token(session, "editor", HULI)
    body = report_body(template="2019")
    body["requests"]["carried_in"] = body["requests"]["carried_out"]
    put(client, editor, HULI, 2019, body)
    response = put(client, editor, HULI, 2020, body)
    assert [w["rule"] for w in response.json()["warnings"]] == ["copied_from_last_year"]
    assert response.json()["status"] == "ready"  # a warning does not block


def test_due_dates_default_by_unit_kind_and_the_auditor_changes_them(
    client: TestClient, session: Session
) -> None:
    dates = {d["unit_kind"]: d for d in client.get("/api/v1/annual-reports/due-dates").json()}
    assert dates["district"]["due"] == "03-31"
    assert dates["city"]["due"] == "03-31"
    assert dates["street"]["due"] == "01-31"
    assert dates["department"]["due"] == "01-31"
    auditor = token(session, "auditor")
    path = "/api/v1/annual-reports/due-dates/street"
    etag = client.get(path).headers["ETag"]
    assert client.put(path, json={"due": "02-28"}, headers=auditor).status_code == 428
    stale = auditor | {"If-Match": '"due-street-0101.0"'}
    assert client.put(path, json={"due": "02-28"}, headers=stale).status_code == 412
    bad = client.put(path, json={"due": "02-29"}, headers=auditor | {"If-Match": etag})
    assert bad.status_code == 422
    response = client.put(path, json={"due": "02-28"}, headers=auditor | {"If-Match": etag})
    assert response.status_code == 200
    assert response.json() == {"unit_kind": "street", "due": "02-28", "is_default": False}
    editor = token(session, "editor", HULI)
    assert client.put(path, json={"due": "03-01"}, headers=editor).status_code == 403
    audit = client.get(
        "/api/v1/audit/annual-reports",
        params={"year": 2021, "as_of": "2022-02-01", "district": HULI},
        headers=auditor,
    ).json()
    street = next(u for u in audit["units"] if u["unit_code"] == HULI_STREET)
    assert street["due_on"] == "2022-02-28"
    assert (street["state"], street["days"]) == ("pending", 27)


def audit(client: TestClient, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    response = client.get("/api/v1/audit/annual-reports", params=params, headers=headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def test_audit_gives_each_units_state_against_its_due_date(
    client: TestClient, session: Session
) -> None:
    auditor = token(session, "auditor")
    huli = token(session, "editor", HULI)
    street = token(session, "editor", HULI_STREET)
    put(client, huli, HULI, 2021, report_body())
    publish_report(client, huli, HULI, 2021, "2022-03-15")  # due 03-31: on time
    put(client, street, HULI_STREET, 2021, report_body())
    publish_report(client, street, HULI_STREET, 2021, "2022-02-03")  # due 01-31: 3 days late
    broken = report_body()
    broken["requests"]["received"]["natural"] = 9
    other = make_unit(session, kind="street", parent_code=HULI)
    put(client, token(session, "editor", other.code), other.code, 2021, broken)

    result = audit(client, auditor, year=2021, as_of="2022-04-10", district=HULI)
    rows = {u["unit_code"]: u for u in result["units"]}
    assert (rows[HULI]["state"], rows[HULI]["days"]) == ("on_time", 0)
    assert rows[HULI]["published_on"] == "2022-03-15"
    assert (rows[HULI_STREET]["state"], rows[HULI_STREET]["days"]) == ("late", 3)
    assert (rows[other.code]["state"], rows[other.code]["days"]) == ("overdue", 69)
    assert rows[other.code]["status"] == "draft"
    assert {e["rule"] for e in rows[other.code]["errors"]} == {"balance", "column_sum"}
    assert all(u["unit_code"] == HULI or u["district_code"] == HULI for u in result["units"])
    # the sum over the units listed: two balanced reports and one that is not
    assert result["reports_counted"] == 3
    assert result["requests_total"]["received"]["natural"] == 4 + 4 + 9
    assert result["requests_total"]["received"]["total"] == 15

    early = audit(client, auditor, year=2021, as_of="2022-01-20", district=HULI)
    rows = {u["unit_code"]: u for u in early["units"]}
    assert (rows[HULI]["state"], rows[HULI]["days"]) == ("pending", 70)
    assert rows[HULI]["published_on"] is None  # published after as_of: not yet


def test_audit_sums_table_three_for_the_city_and_exports_files(
    client: TestClient, session: Session
) -> None:
    auditor = token(session, "auditor")
    for name in ("000_xiamen_city_2020", "001_huli_district_2020"):
        seed = seed_report(name)
        code = seed["unit"]["code"]
        editor = token(session, "editor", code)
        put(client, editor, code, 2020, seed["body"])
        publish_report(client, editor, code, 2020, "2021-01-05")
    result = audit(client, auditor, year=2020, as_of="2021-04-01")
    assert result["requests_total"]["received"]["total"] == 1609 + 76
    assert result["requests_total"]["total"]["natural"] == 1532 + 71
    csv = client.get(
        "/api/v1/audit/annual-reports",
        params={"year": 2020, "as_of": "2021-04-01", "format": "csv"},
        headers=auditor,
    )
    assert csv.status_code == 200
    assert csv.headers["content-type"].startswith("text/csv")
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("单位代码,单位名称")
    assert any(line.startswith(f"{HULI},湖里区,区,{HULI},2021-03-31,按时") for line in lines)
    xlsx = client.get(
        "/api/v1/audit/annual-reports",
        params={"year": 2020, "as_of": "2021-04-01", "format": "xlsx"},
        headers=auditor,
    )
    book = load_workbook(io.BytesIO(xlsx.content))
    totals = book["表三合计"]
    first = [c.value for c in next(totals.iter_rows(min_row=2, max_row=2))]
    assert first[0] == "received"
    assert first[-1] == 1609 + 76


def test_audit_pages_say_where_the_next_page_is(client: TestClient, session: Session) -> None:
    auditor = token(session, "auditor")
    first = audit(client, auditor, year=2021, as_of="2022-04-01", limit=5)
    assert len(first["units"]) == 5
    assert first["next_offset"] == 5
    rest = audit(client, auditor, year=2021, as_of="2022-04-01", offset=5, limit=1000)
    assert rest["next_offset"] is None
    assert len(rest["units"]) == first["total_units"] - 5


def test_editor_of_another_unit_cannot_read_or_write(client: TestClient, session: Session) -> None:
    own = token(session, "editor", HULI)
    put(client, own, HULI, 2021, report_body())
    other = token(session, "editor", SIMING)
    assert client.get(url(HULI, 2021), headers=other).status_code == 403
    assert client.get(url(HULI, 2021, "/draft"), headers=other).status_code == 403
    assert publish_report(client, other, HULI, 2021).status_code == 403
    assert client.get(url(HULI, 2021)).status_code == 401


def answer(
    client: TestClient, headers: dict[str, str], request: dict[str, Any], on: str, outcome: str
) -> None:
    response = client.post(
        f"/api/v1/requests/{request['id']}/events",
        json={"kind": "answered", "on": on, "outcome": outcome},
        headers=headers | {"If-Match": request["etag"]},
    )
    assert response.status_code == 200, response.text


def test_draft_fills_table_three_from_the_request_register(
    client: TestClient, session: Session
) -> None:
    editor = token(session, "editor", HULI)
    answer(
        client,
        editor,
        add_request(client, editor, received_on="2020-03-02"),
        "2020-03-20",
        "ignored_repeat",
    )
    answer(
        client,
        editor,
        add_request(client, editor, received_on="2020-09-25"),
        "2020-10-10",
        "granted",
    )
    add_request(client, editor, received_on="2020-12-21", applicant_type="business")  # still open
    add_request(client, editor, received_on="2021-01-04")  # next year's
    draft = client.get(url(HULI, 2020, "/draft"), headers=editor).json()
    requests = draft["requests"]
    assert requests["received"] == requests["received"] | {"natural": 2, "business": 1, "total": 3}
    assert requests["granted"]["natural"] == 1
    assert requests["ignored_repeat"]["natural"] == 1
    assert requests["total"]["total"] == 2
    assert requests["carried_out"]["business"] == 1
    assert requests["carried_out"]["total"] == 1
    assert draft["sources"]["from_register"] is True
    assert draft["errors"] == []
    assert draft["warnings"] == []

    stored = put(client, editor, HULI, 2020, {"template": "2019", "requests": requests})
    assert stored.json()["status"] == "ready"
    assert stored.json()["warnings"] == []
    body = report_body(template="2019")  # says 5 received; the register holds 3
    response = put(client, editor, HULI, 2020, body, etag=stored.headers["ETag"])
    assert [(w["rule"], w["loc"]) for w in response.json()["warnings"]] == [
        ("register_count_differs", ["requests", "received", "total"])
    ]
    result = audit(client, token(session, "auditor"), year=2020, as_of="2021-02-01", district=HULI)
    huli = next(u for u in result["units"] if u["unit_code"] == HULI)
    assert [w["rule"] for w in huli["warnings"]] == ["register_count_differs"]


def test_a_unit_without_register_entries_is_not_warned_against_the_register(
    client: TestClient, session: Session
) -> None:
    editor = token(session, "editor", HULI)
    response = put(client, editor, HULI, 2021, report_body())
    assert response.json()["warnings"] == []
    draft = client.get(url(HULI, 2021, "/draft"), headers=editor).json()
    assert draft["sources"]["from_register"] is False


def test_a_report_created_meanwhile_by_someone_else_is_a_412(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    editor = token(session, "editor", HULI)
    assert put(client, editor, HULI, 2021, report_body()).status_code == 201
    # the second writer read "no report yet" just before the first one committed
    monkeypatch.setattr(annual_reports, "find", lambda *_args: None)
    response = put(client, editor, HULI, 2021, report_body())
    assert response.status_code == 412
    monkeypatch.undo()
    assert client.get(url(HULI, 2021), headers=editor).json()["status"] == "ready"


def test_the_2021_layout_splits_other_into_three_rows(client: TestClient, session: Session) -> None:
    editor = token(session, "editor", HULI)
    put(client, editor, HULI, 2021, report_body(template="2021"))
    text = client.get(url(HULI, 2021), params={"format": "html"}, headers=editor).text
    assert 'rowspan="22">三、本年度办理结果' in text  # 21 outcome rows + (七)总计
    assert 'rowspan="3">（六）其他处理' in text
    assert "本年制发件数" in text
    assert "国办公开办函〔2021〕30号" in text
    assert "采购总金额" not in text


def test_the_citys_draft_quotes_the_catalogue_totals_per_level(
    client: TestClient, session: Session
) -> None:
    editor = token(session, "editor", HULI)
    add_item(client, editor, HULI, "03")
    publish(client, editor, HULI, "03")
    draft = client.get(url(CITY, 2020, "/draft"), headers=token(session, "auditor")).json()
    levels = {level["level"]: level for level in draft["catalogue"]}
    assert levels["县级"]["domains"] == 1
    assert levels["县级"]["second_level_items"] == 1
    assert levels["县级"]["units"] == 6  # the six districts of the city
    assert levels["乡级"]["domains"] == 0
    assert draft["sources"]["catalogue_as_of"] == "2020-12-31"
