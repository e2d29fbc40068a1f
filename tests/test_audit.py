"""审计 / the city office's audit through HTTP: completeness, coverage, flags, scores,
ranking, statistics, files, and a constant number of SQL statements."""

import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import Engine, event
from sqlmodel import Session, col, select

import seed
from app.models.common import UnitKind
from app.models.guide import GuideItem
from app.models.unit import Unit
from app.render.table import header_grid
from app.rules import quality
from app.services import audit, stats
from tests.factories import HULI, HULI_STREET, SIMING, add_item, item_body, publish, token

COMPLETENESS = "/api/v1/audit/completeness"
STATISTICS = "/api/v1/audit/statistics"


@pytest.fixture
def huli(session: Session) -> dict[str, str]:
    return token(session, "editor", HULI)


def guide_items(session: Session, domain: str, level: int) -> list[GuideItem]:
    return [
        g
        for g in session.exec(
            select(GuideItem)
            .where(GuideItem.domain_code == domain)
            .order_by(col(GuideItem.position), col(GuideItem.id))
        )
        if g.level_mask & level
    ]


def row(report: dict[str, Any], unit: str, domain: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [
        r for r in report["rows"] if r["unit_code"] == unit and r["domain_code"] == domain
    ]
    assert len(found) == 1
    return found[0]


def unit_score(report: dict[str, Any], unit: str) -> dict[str, Any]:
    return next(u for u in report["units"] if u["unit_code"] == unit)


def get(client: TestClient, headers: dict[str, str], url: str, **params: Any) -> dict[str, Any]:
    response = client.get(url, params=params, headers=headers)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


# ----------------------------------------------------------------- stored audit columns


def test_name_key_ignores_spaces_punctuation_and_width() -> None:
    assert quality.name_key(" 办事 指南（试行）。") == quality.name_key("办事指南(试行)")
    assert quality.name_key("ＡＢＣ１２３") == "abc123"


def test_item_flags_name_vague_time_limits_documentless_basis_and_generic_bodies() -> None:
    good = item_body()
    assert quality.item_flags(good) == 0
    flags = quality.item_flags(
        item_body(time_limit="及时", basis="依法依规", responsible_body="相关部门")
    )
    assert quality.flag_names(flags) == [
        "vague_time_limit",
        "basis_without_document",
        "generic_responsible_body",
    ]
    assert quality.flag_names(quality.item_flags(item_body(time_limit="看情况"))) == [
        "unparsed_time_limit"
    ]
    cited = item_body(basis="国务院令第711号")
    assert quality.item_flags(cited) == 0
    missing = quality.item_flags(item_body(basis=None, channels=[]))
    assert quality.missing_names(missing) == ["basis", "channels"]


def test_guide_levels_apply_to_districts_townships_or_both() -> None:
    assert quality.level_mask([]) == quality.COUNTY | quality.TOWNSHIP
    assert quality.level_mask(["县级"]) == quality.COUNTY
    assert quality.level_mask(["乡级"]) == quality.TOWNSHIP
    assert quality.level_mask(["村级"]) == quality.TOWNSHIP
    assert quality.level_mask(["县级", "乡级", "村级"]) == quality.COUNTY | quality.TOWNSHIP


def stored(session: Session) -> dict[int, tuple[Any, ...]]:
    catalogues = stats.catalogues_t
    query = sa.select(catalogues.c.id, *(catalogues.c[name] for name in stats.COLUMNS))
    return {r[0]: tuple(r) for r in session.connection().execute(query)}


def stored_lists(session: Session) -> dict[int, tuple[Any, ...]]:
    lists, catalogues = stats.lists_t, stats.catalogues_t
    query = sa.select(catalogues.c.id, *(lists.c[name] for name in stats.DETAILS)).outerjoin(
        lists, lists.c.catalogue_id == catalogues.c.id
    )
    return {r[0]: tuple(r[1:]) for r in session.connection().execute(query)}


def recomputed(session: Session) -> dict[int, tuple[Any, ...]]:
    return {r[0]: tuple(r) for r in session.connection().execute(stats.counts())}


def test_stored_counts_follow_every_write(
    client: TestClient,
    session: Session,
    auditor: dict[str, str],
    huli: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The counts stored on catalogues equal their definition (stats.counts over the base
    tables) after each kind of write: items, waivers, publish, import, from-guide, seed."""
    guide = guide_items(session, "01", quality.COUNTY)
    base = f"/api/v1/units/{HULI}/catalogues/01"

    def check() -> dict[int, tuple[Any, ...]]:
        now = stored(session)
        assert now == recomputed(session)
        lists = stored_lists(session)
        for catalogue_id, defined in stats.details(session.connection(), list(lists)).items():
            if lists[catalogue_id][0] is None:  # never written: nothing held, nothing waived
                assert (defined[0], defined[2]) == ("[]", "[]")
            else:
                assert lists[catalogue_id] == defined
        return {k: v for k, v in now.items() if v[1:] != (0,) * 11 + (None,)}

    present = add_item(client, huli, name=guide[0].name)
    vague = add_item(client, huli, basis=None, time_limit="及时")
    check()
    response = client.patch(
        f"/api/v1/items/{vague['id']}",
        json={"basis": "《政府信息公开条例》"},
        headers={**huli, "If-Match": vague["etag"]},
    )
    assert response.status_code == 200, response.text
    for guide_item in guide[1:4]:
        url = f"{base}/waivers/{guide_item.id}"
        assert client.put(url, json={"reason": "无"}, headers=huli).status_code == 200
    waiver = client.get(f"{base}/waivers/{guide[3].id}", headers=huli)
    fresh = huli | {"If-Match": waiver.headers["ETag"]}
    assert client.delete(f"{base}/waivers/{guide[3].id}", headers=fresh).status_code == 204
    check()
    add_item(client, huli, name=guide[2].name)  # waived, then matched: present
    check()
    publish(client, huli, published_on="2020-11-05")
    rows = check()
    assert len(rows) == 1
    (row,) = rows.values()
    township = [bool(g.level_mask & quality.TOWNSHIP) for g in guide]
    # 3 items, none lacking, one flagged (vague); present: guide 0 and 2; waived: guide 1
    assert row[1:8] == (3, 0, 1, 1, 0, 0, 0)
    assert row[8:12] == (2, township[0] + township[2], 1, int(township[1]))
    assert str(row[12]) == "2020-11-05"

    response = client.delete(
        f"/api/v1/items/{present['id']}", headers={**huli, "If-Match": present["etag"]}
    )
    assert response.status_code == 204, response.text
    check()
    response = client.post(f"/api/v1/units/{HULI_STREET}/catalogues/24/from-guide", headers=huli)
    assert response.status_code == 200, response.text
    check()
    grid = [[c or "" for c in head] for head in header_grid(("县级", "乡级"))]
    buffer = io.StringIO()
    csv.writer(buffer).writerows([*grid, ["1", "一级", guide[5].name] + [""] * 11])
    response = client.post(
        f"{base}/import",
        files={"file": ("c.csv", buffer.getvalue().encode("utf-8-sig"), "text/csv")},
        headers=huli,
    )
    assert response.status_code == 200, response.text
    before = check()
    assert len(before) == 2
    catalogue_id = (
        session.connection()
        .execute(
            sa.select(audit.catalogues_t.c.id).where(
                (audit.catalogues_t.c.unit_code == HULI)
                & (audit.catalogues_t.c.domain_code == "01")
            )
        )
        .scalar_one()
    )
    assert before[catalogue_id][8] == 1  # the imported item matches guide[5] only

    # a guide reload: a new guide item named like an item counts as present at once
    guide_rows = seed._read("guide_items.json")
    extra: dict[str, Any] = {**guide_rows[0], "first_level": "新增", "name": guide[5].name}
    extra |= {"domain_code": "01", "levels": []}
    monkeypatch.setattr(seed, "_read", lambda name: [*guide_rows, extra] if "guide" in name else [])
    assert seed.load_guide_items(session) == 1
    assert check()[catalogue_id][8] == 2

    # and the audit's aggregate over them equals the same aggregate over the base tables
    connection = session.connection()
    for scope in (audit.Scope(as_of=date(2021, 1, 1)), audit.Scope(as_of=date(2020, 11, 4))):
        from_items = connection.execute(audit.unit_aggregate_from_items(scope)).all()
        assert sorted(connection.execute(audit.unit_aggregate(scope)).all()) == sorted(from_items)


# ------------------------------------------------------------------------ completeness


def test_one_row_per_unit_and_domain_of_the_district(
    client: TestClient, session: Session, auditor: dict[str, str]
) -> None:
    units = session.exec(select(Unit).where((Unit.code == HULI) | (Unit.parent_code == HULI))).all()
    report = get(client, auditor, COMPLETENESS, district=HULI, as_of="2021-01-01")
    assert report["as_of"] == "2021-01-01"
    assert report["total_units"] == len(units)
    assert len(report["rows"]) == len(units) * 26
    assert {r["unit_code"] for r in report["rows"]} == {u.code for u in units}
    first = report["rows"][0]
    assert first["unit_code"] == HULI  # the district before its streets and towns
    assert first["exists"] is False
    assert first["status"] == "missing"
    assert first["applicable"] is True


def test_row_lists_lacking_items_with_their_attributes_and_flags(
    client: TestClient, auditor: dict[str, str], huli: dict[str, str]
) -> None:
    add_item(client, huli)
    lacking = add_item(client, huli, basis=None, audience=None)
    vague = add_item(client, huli, time_limit="及时", basis="依法", responsible_body="相关部门")
    report = get(client, auditor, COMPLETENESS, district=HULI)
    r = row(report, HULI, "01")
    assert r["exists"] is True
    assert r["status"] == "draft"
    assert r["items"] == 3
    assert r["lacking"] == 1
    assert r["quality"] == {
        "flagged": 1,
        "vague_time_limit": 1,
        "unparsed_time_limit": 0,
        "basis_without_document": 1,
        "generic_responsible_body": 1,
    }
    listed = {i["id"]: i for i in r["lacking_items"]}
    assert listed[lacking["id"]]["missing"] == ["basis", "audience"]
    assert vague["id"] not in listed  # complete: its flags are counted, not listed
    blank = add_item(client, huli, time_limit="及时", content=None)
    r = row(get(client, auditor, COMPLETENESS, district=HULI), HULI, "01")
    listed = {i["id"]: i for i in r["lacking_items"]}
    assert listed[blank["id"]] == {
        "id": blank["id"],
        "name": blank["name"],
        "missing": ["content"],
        "flags": ["vague_time_limit"],
    }


def test_flags_follow_an_item_edit(
    client: TestClient, auditor: dict[str, str], huli: dict[str, str]
) -> None:
    item = add_item(client, huli, time_limit="及时")
    response = client.patch(
        f"/api/v1/items/{item['id']}",
        json={"time_limit": "7个工作日内"},
        headers={**huli, "If-Match": item["etag"]},
    )
    assert response.status_code == 200, response.text
    r = row(get(client, auditor, COMPLETENESS, district=HULI, domain="01"), HULI, "01")
    assert r["quality"]["flagged"] == 0
    assert r["lacking_items"] == []


def test_guide_coverage_matches_normalised_names_and_honours_waivers(
    client: TestClient, session: Session, auditor: dict[str, str], huli: dict[str, str]
) -> None:
    guide = guide_items(session, "01", quality.COUNTY)
    assert len(guide) >= 3
    present, waived, *absent = guide
    # the same name with spaces and full-width punctuation still matches
    add_item(client, huli, name=" ".join(present.name) + "。")
    response = client.put(
        f"/api/v1/units/{HULI}/catalogues/01/waivers/{waived.id}",
        json={"reason": "本区无此类事项"},
        headers=huli,
    )
    assert response.status_code == 200, response.text
    r = row(get(client, auditor, COMPLETENESS, district=HULI, domain="01"), HULI, "01")
    coverage = r["coverage"]
    assert coverage["guide_items"] == len(guide)
    assert coverage["present"] == 1
    assert coverage["waived"] == 1
    assert coverage["absent"] == len(absent)
    assert [g["guide_item_id"] for g in coverage["absent_items"]] == [g.id for g in absent]
    assert coverage["waived_items"] == [
        {"guide_item_id": waived.id, "name": waived.name, "reason": "本区无此类事项"}
    ]


def test_streets_are_held_to_the_township_guide_items(
    client: TestClient, session: Session, auditor: dict[str, str]
) -> None:
    report = get(client, auditor, COMPLETENESS, district=HULI)
    for domain in ("01", "24"):
        assert row(report, HULI, domain)["coverage"]["guide_items"] == len(
            guide_items(session, domain, quality.COUNTY)
        )
        assert row(report, HULI_STREET, domain)["coverage"]["guide_items"] == len(
            guide_items(session, domain, quality.TOWNSHIP)
        )


def test_not_applicable_domains_carry_the_reason_and_leave_the_score(
    client: TestClient, auditor: dict[str, str], huli: dict[str, str]
) -> None:
    response = client.put(
        f"/api/v1/units/{HULI}/catalogues/07/applicability",
        json={"applicable": False, "reason": "本区无农村集体土地"},
        headers=huli,
    )
    assert response.status_code == 200, response.text
    report = get(client, auditor, COMPLETENESS, district=HULI)
    r = row(report, HULI, "07")
    assert r["applicable"] is False
    assert r["not_applicable_reason"] == "本区无农村集体土地"
    score = unit_score(report, HULI)
    assert score["applicable"] == 25
    catalogues = next(c for c in score["components"] if c["name"] == "catalogues")
    assert catalogues["denominator"] == 25


def test_published_is_judged_as_of_the_date(
    client: TestClient, auditor: dict[str, str], huli: dict[str, str]
) -> None:
    add_item(client, huli)
    publish(client, huli, published_on="2020-11-05")
    before = row(get(client, auditor, COMPLETENESS, district=HULI, as_of="2020-11-04"), HULI, "01")
    assert before["published"] is None
    after = row(get(client, auditor, COMPLETENESS, district=HULI, as_of="2020-11-10"), HULI, "01")
    assert after["status"] == "published"
    assert after["published"] == {
        "version": 1,
        "published_on": "2020-11-05",
        "url": f"http://www.xm.gov.cn/{HULI}/01",
        "first_published_on": "2020-11-05",
    }


def test_score_is_the_sum_of_its_components_and_says_why_points_were_lost(
    client: TestClient, auditor: dict[str, str], huli: dict[str, str]
) -> None:
    add_item(client, huli)
    add_item(client, huli, basis=None)
    report = get(client, auditor, COMPLETENESS, district=HULI, as_of="2021-01-01")
    score = unit_score(report, HULI)
    parts = {c["name"]: c for c in score["components"]}
    assert set(parts) == set(report["weights"]) == set(audit.WEIGHTS)
    assert score["score"] == pytest.approx(sum(c["points"] for c in parts.values()), abs=0.02)
    assert parts["catalogues"]["numerator"] == 1
    assert parts["catalogues"]["denominator"] == 26
    assert parts["attributes"]["numerator"] == 1
    assert parts["attributes"]["denominator"] == 2
    assert parts["attributes"]["points"] == audit.WEIGHTS["attributes"] / 2
    assert parts["attributes"]["lost"] == audit.WEIGHTS["attributes"] / 2
    assert parts["attributes"]["reason"] is None
    assert any("缺少目录的领域" in reason and "02" in reason for reason in score["reasons"])
    assert any("缺要素" in reason and "01(1)" in reason for reason in score["reasons"])
    empty = unit_score(report, HULI_STREET)
    assert empty["score"] == pytest.approx(0, abs=0.01) or empty["score"] < score["score"]


def test_districts_are_rolled_up_and_ranked_over_every_unit(
    client: TestClient, auditor: dict[str, str], huli: dict[str, str]
) -> None:
    add_item(client, huli)
    publish(client, huli)
    report = get(client, auditor, COMPLETENESS, as_of="2021-01-01", limit=1)
    assert len(report["units"]) == 1  # one unit on the page …
    assert report["next_offset"] == 1
    districts = {d["district_code"]: d for d in report["districts"]}
    assert len(districts) == 6  # … the ranking still covers every district
    assert districts[HULI]["rank"] == 1
    assert districts[HULI]["score"] > districts[SIMING]["score"]
    assert districts[HULI]["district_score"] is not None
    assert districts[HULI]["units"] > 1
    assert sorted(d["rank"] for d in report["districts"]) == [
        d["rank"] for d in report["districts"]
    ]


def test_pages_of_units_cover_every_row_once(client: TestClient, auditor: dict[str, str]) -> None:
    whole = get(client, auditor, COMPLETENESS, district=HULI, domain="01")
    seen: list[str] = []
    offset: int | None = 0
    while offset is not None:
        page = get(
            client, auditor, COMPLETENESS, district=HULI, domain="01", limit=2, offset=offset
        )
        seen += [r["unit_code"] for r in page["rows"]]
        offset = page["next_offset"]
    assert seen == [r["unit_code"] for r in whole["rows"]]


def test_each_row_carries_every_milestone_state_as_of_the_date(
    client: TestClient, auditor: dict[str, str], huli: dict[str, str]
) -> None:
    add_item(client, huli)
    publish(client, huli, compiled_on="2020-10-20", published_on="2020-11-12")
    report = get(client, auditor, COMPLETENESS, district=HULI, as_of="2020-12-01")
    states = row(report, HULI, "01")["milestones"]
    assert states["compiled"] == {"state": "on_time", "days": 0, "done_on": "2020-10-20"}
    assert states["published"] == {"state": "late", "days": 2, "done_on": "2020-11-12"}
    assert states["opinions"]["state"] == "overdue"
    # 调整完善 counts publishes from 2021-01-01 (docs/deadlines.md): not met by this one
    assert states["completed"] == {"state": "pending", "days": 395, "done_on": None}
    street = row(report, HULI_STREET, "01")["milestones"]
    assert "opinions" not in street  # streets are not obliged to issue opinions
    assert street["compiled"] == {"state": "overdue", "days": 31, "done_on": None}
    response = client.get(
        COMPLETENESS,
        params={"district": HULI, "domain": "01", "format": "csv", "as_of": "2020-12-01"},
        headers=auditor,
    )
    lines = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert lines[0]["节点 published 状态"] == "逾期完成"
    assert lines[0]["节点 published 天数"] == "2"


def test_the_audits_milestone_states_are_the_status_routes(
    client: TestClient, auditor: dict[str, str], huli: dict[str, str]
) -> None:
    """The audit reads the states with its page rows (milestones.row_columns), the status
    route with a statement of its own (states_query): the same rule, the same states."""
    add_item(client, huli)
    publish(client, huli, compiled_on="2020-10-20", published_on="2020-11-12")
    seen: set[str] = set()
    for as_of in ("2020-07-01", "2020-12-01", "2021-06-01"):
        report = get(client, auditor, COMPLETENESS, district=HULI, as_of=as_of)
        from_audit = {
            (code, r["unit_code"], r["domain_code"]): entry
            for r in report["rows"]
            for code, entry in r["milestones"].items()
        }
        from_status = {}
        for code in ("opinions", "compiled", "published", "completed"):
            response = client.get(
                f"/api/v1/milestones/{code}/status",
                params={"district": HULI, "as_of": as_of},
                headers=auditor,
            )
            assert response.status_code == 200
            assert "Link" not in response.headers
            for s in response.json():
                entry = {"state": s["state"], "days": s["days"], "done_on": s["done_on"]}
                from_status[(code, s["unit_code"], s["domain_code"])] = entry
        assert from_audit == from_status
        seen |= {state["state"] for state in from_audit.values()}
    assert seen == {"pending", "overdue", "on_time", "late"}


def test_unknown_or_wrong_scope_is_a_422_naming_the_parameter(
    client: TestClient, auditor: dict[str, str]
) -> None:
    for params, field in (
        ({"district": "999999"}, "district"),
        ({"district": HULI_STREET}, "district"),
        ({"domain": "99"}, "domain"),
    ):
        response = client.get(COMPLETENESS, params=params, headers=auditor)
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["query", field]


# ------------------------------------------------------------------------------ files


def test_csv_has_a_bom_chinese_headers_and_the_same_rows(
    client: TestClient, auditor: dict[str, str], huli: dict[str, str]
) -> None:
    add_item(client, huli, basis=None)
    params = {"district": HULI, "as_of": "2021-01-01"}
    report = get(client, auditor, COMPLETENESS, **params)
    response = client.get(COMPLETENESS, params={**params, "format": "csv"}, headers=auditor)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "filename*=UTF-8''" in response.headers["content-disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert lines[0][:3] == ["单位代码", "单位名称", "单位类型"]
    assert len(lines) - 1 == len(report["rows"])
    first = dict(zip(lines[0], lines[1], strict=True))
    assert first["单位代码"] == HULI
    assert first["缺要素事项数"] == "1"
    assert "公开依据" in first["缺要素的事项（缺少的要素）"]


def test_xlsx_has_rows_scores_and_ranking_sheets(
    client: TestClient, auditor: dict[str, str]
) -> None:
    params = {"district": HULI, "format": "xlsx"}
    report = get(client, auditor, COMPLETENESS, district=HULI)
    response = client.get(COMPLETENESS, params=params, headers=auditor)
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["说明", "目录明细", "单位得分", "区排名"]
    about = {row[0]: row[1] for row in workbook["说明"].iter_rows(values_only=True)}
    assert about["截至日期 as_of"] == report["as_of"]
    assert about["查询 query"] == f"{COMPLETENESS}?district={HULI}&format=xlsx"
    assert workbook["目录明细"].max_row - 1 == len(report["rows"])
    assert workbook["单位得分"]["G1"].value == "得分"
    assert workbook["区排名"].max_row == 2


def test_workbook_columns_are_readable_and_milestones_in_due_date_order(
    client: TestClient, auditor: dict[str, str]
) -> None:
    params = {"district": HULI, "format": "xlsx"}
    sheet = load_workbook(
        io.BytesIO(client.get(COMPLETENESS, params=params, headers=auditor).content)
    )["目录明细"]
    headers = [cell.value for cell in sheet[1]]
    states = [h for h in headers if h.endswith(" 状态")]
    assert states == [
        "出台相应领域基层政务公开标准目录落实意见（2020-07-25） 状态",
        "编制完成本级政务公开事项标准目录（2020-10-31） 状态",
        "标准目录在各区政府网站公开（2020-11-10） 状态",
        "完成本级政务公开事项标准目录调整完善工作（26+N）（2021-12-31） 状态",
    ]
    name_column = headers.index("单位名称") + 1
    from openpyxl.utils import get_column_letter

    assert sheet.column_dimensions[get_column_letter(name_column)].width >= 10
    assert sheet.column_dimensions["A"].width >= 10  # 单位代码, eight characters wide


# ------------------------------------------------------------------------- statistics


def test_statistics_count_what_was_published_by_as_of(
    client: TestClient, auditor: dict[str, str], huli: dict[str, str]
) -> None:
    add_item(client, huli, first_level="规划编制")
    add_item(client, huli, first_level="规划编制")
    add_item(client, huli, first_level="批后管理")
    publish(client, huli, published_on="2020-11-05")
    add_item(client, huli, first_level="新增")  # the working copy is not counted
    add_item(client, huli, unit=HULI_STREET, domain="24")
    publish(client, huli, unit=HULI_STREET, domain="24", published_on="2020-11-06")

    before = get(client, auditor, STATISTICS, district=HULI, as_of="2020-11-04")
    assert all(u["second_level_items"] == 0 for u in before["units"])

    report = get(client, auditor, STATISTICS, district=HULI, as_of="2020-12-31")
    units = {u["unit_code"]: u for u in report["units"]}
    assert units[HULI] | {"level": "县级", "domains": 1} == units[HULI]
    assert (units[HULI]["first_level_items"], units[HULI]["second_level_items"]) == (2, 3)
    assert units[HULI_STREET]["level"] == "乡级"
    assert units[HULI_STREET]["second_level_items"] == 1
    levels = {(lv["district_code"], lv["level"]): lv for lv in report["levels"]}
    assert levels[(HULI, "县级")]["domains"] == 1
    assert levels[(HULI, "乡级")]["second_level_items"] == 1
    assert levels[(HULI, "乡级")]["units_with_catalogues"] == 1
    assert levels[(None, "县级")]["second_level_items"] == 3


def test_statistics_read_the_latest_version_published_by_as_of(
    client: TestClient, auditor: dict[str, str], huli: dict[str, str]
) -> None:
    add_item(client, huli)
    add_item(client, huli)
    publish(client, huli, published_on="2020-11-05")
    add_item(client, huli)
    publish(client, huli, compiled_on="2021-02-01", published_on="2021-03-01")

    def items(as_of: str) -> int:
        report = get(client, auditor, STATISTICS, district=HULI, as_of=as_of)
        count: int = {u["unit_code"]: u for u in report["units"]}[HULI]["second_level_items"]
        return count

    assert [items(d) for d in ("2020-11-04", "2020-12-31", "2021-06-01")] == [0, 2, 3]


def test_statistics_as_csv_and_xlsx(client: TestClient, auditor: dict[str, str]) -> None:
    response = client.get(STATISTICS, params={"format": "csv", "district": HULI}, headers=auditor)
    lines = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert lines[0][-3:] == ["领域数（类）", "一级事项（项）", "二级事项（项）"]
    response = client.get(STATISTICS, params={"format": "xlsx"}, headers=auditor)
    sheets = load_workbook(io.BytesIO(response.content)).sheetnames
    assert sheets == ["说明", "单位统计", "分层级统计"]


def test_the_audit_follows_a_change_of_a_milestones_counts_from_and_domains(
    client: TestClient, auditor: dict[str, str], huli: dict[str, str]
) -> None:
    """The audit prepares the milestone statement once per shape: a moved `counts_from` or a
    changed domain set must not be answered from the statement prepared before."""
    add_item(client, huli)
    publish(client, huli, compiled_on="2020-10-20", published_on="2020-11-05")
    q = {"district": HULI, "as_of": "2020-12-01"}
    assert (
        row(get(client, auditor, COMPLETENESS, **q), HULI, "01")["milestones"]["completed"]["state"]
        == "pending"
    )
    url = "/api/v1/milestones/completed"
    fresh = auditor | {"If-Match": client.get(url).headers["ETag"]}
    moved = client.patch(url, json={"counts_from": "2020-01-01"}, headers=fresh)
    assert moved.status_code == 200, moved.text
    report = get(client, auditor, COMPLETENESS, **q)
    assert row(report, HULI, "01")["milestones"]["completed"] == {
        "state": "on_time",
        "days": 0,
        "done_on": "2020-11-05",
    }
    fresh = auditor | {"If-Match": moved.headers["ETag"]}
    narrowed = client.patch(url, json={"domain_codes": ["02"]}, headers=fresh)
    assert narrowed.status_code == 200, narrowed.text
    report = get(client, auditor, COMPLETENESS, **q)
    assert "completed" not in row(report, HULI, "01")["milestones"]
    assert "completed" in row(report, HULI, "02")["milestones"]


# --------------------------------------------------------------------------- waivers


def test_waivers_are_listed_changed_and_removed_with_history(
    client: TestClient, session: Session, huli: dict[str, str]
) -> None:
    guide = guide_items(session, "01", quality.COUNTY)[0]
    url = f"/api/v1/units/{HULI}/catalogues/01/waivers"
    first = client.put(f"{url}/{guide.id}", json={"reason": "甲"}, headers=huli)
    assert first.status_code == 200
    etag = first.headers["ETag"]
    assert first.json()["etag"] == etag
    # a waiver that exists changes only with If-Match (issue 19.2: no lost updates)
    assert client.put(f"{url}/{guide.id}", json={"reason": "乙"}, headers=huli).status_code == 428
    fresh = huli | {"If-Match": etag}
    second = client.put(f"{url}/{guide.id}", json={"reason": "乙"}, headers=fresh)
    assert second.status_code == 200
    assert second.headers["ETag"] != etag
    assert client.put(f"{url}/{guide.id}", json={"reason": "丙"}, headers=fresh).status_code == 412
    read = client.get(f"{url}/{guide.id}", headers=huli)
    assert (read.json()["reason"], read.headers["ETag"]) == ("乙", second.headers["ETag"])
    listed = client.get(url, headers=huli).json()
    assert [(w["guide_item_id"], w["reason"], w["etag"]) for w in listed] == [
        (guide.id, "乙", second.headers["ETag"])
    ]
    assert client.delete(f"{url}/{guide.id}", headers=huli).status_code == 428
    assert client.delete(f"{url}/{guide.id}", headers=fresh).status_code == 412
    latest = huli | {"If-Match": second.headers["ETag"]}
    assert client.delete(f"{url}/{guide.id}", headers=latest).status_code == 204
    assert client.get(url, headers=huli).json() == []
    assert client.delete(f"{url}/{guide.id}", headers=latest).status_code == 404
    assert client.get(f"{url}/{guide.id}", headers=huli).status_code == 404
    # creating a waiver with an If-Match is a precondition on something that is not there
    assert client.put(f"{url}/{guide.id}", json={"reason": "丁"}, headers=latest).status_code == 412
    history = client.get(f"/api/v1/units/{HULI}/catalogues/01/history", headers=huli).json()
    assert [c["action"] for c in history["items"]] == ["unwaive", "waive", "waive"]


def test_a_waiver_needs_a_reason_and_a_guide_item_of_the_domain(
    client: TestClient, session: Session, huli: dict[str, str]
) -> None:
    other = guide_items(session, "02", quality.COUNTY)[0]
    url = f"/api/v1/units/{HULI}/catalogues/01/waivers"
    response = client.put(f"{url}/{other.id}", json={"reason": "不适用"}, headers=huli)
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "guide_item_domain"
    own = guide_items(session, "01", quality.COUNTY)[0]
    assert client.put(f"{url}/{own.id}", json={"reason": " "}, headers=huli).status_code == 422
    assert client.put(f"{url}/999999", json={"reason": "x"}, headers=huli).status_code == 404


# ----------------------------------------------------------------- statement counting


@contextmanager
def counting(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_statements_per_request_do_not_grow_with_units_or_items(
    client: TestClient, session: Session, engine: Engine, auditor: dict[str, str]
) -> None:
    urls = [
        (COMPLETENESS, {"as_of": "2021-01-01"}),
        (COMPLETENESS, {"district": HULI, "format": "csv"}),
        (STATISTICS, {}),
    ]

    def measure() -> list[int]:
        counts = []
        for url, params in urls:
            with counting(engine) as statements:
                assert client.get(url, params=params, headers=auditor).status_code == 200
            counts.append(len(statements))
        return counts

    # The timeliness figures of a catalogue whose version, items or records changed are
    # computed on the next request (a fixed number of statements per 500 such catalogues),
    # then read from memory: compare requests after that.
    measure()
    small = measure()
    assert min(small) >= 4
    admin = token(session, "admin")
    for n in range(5):
        session.add(
            Unit(
                code=f"T{HULI}{n:03d}", name=f"测试街道{n}", kind=UnitKind.street, parent_code=HULI
            )
        )
    session.flush()
    editor = token(session, "editor", HULI)
    for domain in ("01", "02", "24"):
        for unit in (HULI, HULI_STREET, f"T{HULI}000"):
            for _ in range(3):
                add_item(client, editor, unit=unit, domain=domain, basis=None)
    publish_headers = admin
    add_item(client, publish_headers, unit=SIMING, domain="05")
    publish(client, publish_headers, unit=SIMING, domain="05")
    measure()
    assert measure() == small


def test_weights_are_data_adding_up_to_100(client: TestClient, auditor: dict[str, str]) -> None:
    report = get(client, auditor, COMPLETENESS, district=HULI)
    assert report["weights"] == audit.WEIGHTS
    assert sum(audit.WEIGHTS.values()) == 100
    assert set(audit.WEIGHTS) == set(audit.LABELS)


def test_a_unit_with_no_items_says_why_it_scores_0_on_attributes_and_quality(
    client: TestClient, auditor: dict[str, str], huli: dict[str, str]
) -> None:
    add_item(client, huli)
    report = get(client, auditor, COMPLETENESS, district=HULI, as_of="2021-01-01")
    empty = {c["name"]: c for c in unit_score(report, HULI_STREET)["components"]}
    for name in ("attributes", "quality"):
        assert (empty[name]["denominator"], empty[name]["ratio"]) == (0, 0)
        assert empty[name]["reason"] == "没有事项 / no items"
    assert empty["blank"]["reason"] == empty["stale"]["reason"] == audit.NOTHING_PUBLISHED
    assert empty["catalogues"]["reason"] is None  # 0 of 26: nothing to explain
    full = {c["name"]: c for c in unit_score(report, HULI)["components"]}
    assert full["attributes"]["reason"] is None


def test_the_json_answer_is_the_report_the_files_are_made_from(
    client: TestClient, session: Session, auditor: dict[str, str], huli: dict[str, str]
) -> None:
    """The JSON answer embeds the stored lists as bytes and, on SQLite, the driver's date
    text (audit.completeness with raw=True); CSV and XLSX read the parsed report (raw=False).
    Both must say the same thing."""
    add_item(client, huli)
    publish(client, huli, published_on="2020-11-05")
    add_item(client, huli, domain="02", basis=None, audience=None)
    add_item(client, huli, domain="02", time_limit="及时")
    for params in ({"district": HULI}, {}):
        answer = get(client, auditor, COMPLETENESS, as_of="2021-01-01", **params)
        scope = audit.Scope(
            as_of=date(2021, 1, 1), district=session.get(Unit, HULI) if params else None
        )
        parsed = audit.completeness(session, scope, limit=100, offset=0, raw=False)
        assert answer == orjson.loads(orjson.dumps(parsed))
        published = row(answer, HULI, "01")["published"]
        assert published["published_on"] == "2020-11-05"
        assert row(answer, HULI, "02")["lacking_items"]
