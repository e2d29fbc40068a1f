"""Spreadsheet import (dry run, all or nothing), the editors' table export, the round trip
over every domain's guide items, and starting a draft from the national guide."""

from __future__ import annotations

import csv
import io
import random
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from openpyxl import Workbook, load_workbook
from sqlmodel import Session

from app.auth import SYSTEM
from app.config import Settings, get_settings
from app.main import app as application
from app.models.domain import Domain
from app.models.item import ItemCreate
from app.models.unit import Unit
from app.render.table import header_grid
from app.services import catalogues, imports
from tests.factories import HULI, HULI_STREET, SIMING, add_item, publish, token

BASIS = "《中华人民共和国政府信息公开条例》"
LIMIT = "信息形成或变更之日起20个工作日内"
ATTRIBUTES = (
    "first_level",
    "name",
    "content",
    "basis",
    "time_limit",
    "responsible_body",
    "method",
    "channels",
    "audience",
    "levels",
    "missing",
)
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def base(unit: str = HULI, domain: str = "01") -> str:
    return f"/api/v1/units/{unit}/catalogues/{domain}"


def upload(
    client: TestClient,
    headers: dict[str, str],
    filename: str,
    data: bytes,
    *,
    dry_run: bool = False,
    unit: str = HULI,
    domain: str = "01",
) -> Response:
    response: Response = client.post(
        f"{base(unit, domain)}/import",
        params={"dry_run": str(dry_run).lower()},
        files={"file": (filename, data, "application/octet-stream")},
        headers=headers,
    )
    return response


def table_csv(rows: list[list[str]], encoding: str = "utf-8-sig") -> bytes:
    """The export's two header rows (县级/乡级) and the given data rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows([[c or "" for c in head] for head in header_grid(("县级", "乡级"))])
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def row(n: int, first: str, name: str, **cells: str) -> list[str]:
    """A data row of the export layout: a complete item unless cells say otherwise."""
    values = {
        "content": "办事指南全文",
        "basis": BASIS,
        "time_limit": LIMIT,
        "responsible_body": "区发展改革局",
        "channels": "■政府网站",
        "society": "√",
        "group": "",
        "active": "√",
        "on_request": "",
        "county": "√",
        "township": "",
        **cells,
    }
    return [str(n), first, name, *values.values()]


GOOD_ROWS = [
    row(1, "批准服务信息", "办事指南"),
    row(2, "", "批准结果", basis=""),
    row(3, "招标投标信息", "招标公告", society="", group="√（项目单位）", township="√"),
]


def items_of(client: TestClient, headers: dict[str, str], unit: str = HULI) -> list[Any]:
    response = client.get(base(unit), headers=headers)
    assert response.status_code == 200, response.text
    items: list[Any] = response.json()["items"]
    return items


def attributes(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What a round trip must keep: every attribute, in order (positions may renumber)."""
    return [{name: item[name] for name in ATTRIBUTES} for item in items]


def history(
    client: TestClient, headers: dict[str, str], unit: str = HULI, domain: str = "01"
) -> list[Any]:
    url = f"{base(unit, domain)}/history"
    changes: list[Any] = client.get(url, headers=headers).json()["items"]
    return changes


@pytest.fixture
def caps() -> Iterator[Settings]:
    """Small caps for the 413 tests (the route reads its settings as a dependency)."""
    settings = Settings(max_upload_bytes=20_000, max_import_rows=5)
    application.dependency_overrides[get_settings] = lambda: settings
    yield settings
    application.dependency_overrides.pop(get_settings, None)


# ---- dry run and apply ------------------------------------------------------------------


def test_dry_run_reports_items_and_problems_with_rows_and_changes_nothing(
    client: TestClient, editor: dict[str, str]
) -> None:
    add_item(client, editor)
    rows = [*GOOD_ROWS, row(4, "招标投标信息", "中标结果", active="√", on_request="√")]
    response = upload(client, editor, "目录.csv", table_csv(rows), dry_run=True)
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["rows"], report["items"], report["replaced"]) == (4, 3, 1)
    assert (report["dry_run"], report["applied"]) == (True, False)
    # row numbers are the file's: two header rows, data from row 3
    assert [(e["row"], e["field"]) for e in report["errors"]] == [(6, "method")]
    assert "/" in report["errors"][0]["msg"]  # Chinese / English
    assert [(m["row"], m["field"]) for m in report["missing"]] == [(4, "basis")]
    assert [i["row"] for i in report["preview"]] == [3, 4, 5]
    assert report["preview"][1]["missing"] == ["basis"]
    assert report["preview"][2]["audience"] == "特定群体:项目单位"
    assert report["preview"][2]["levels"] == ["县级", "乡级"]
    assert len(items_of(client, editor)) == 1
    assert [c["action"] for c in history(client, editor)] == ["create"]


def test_apply_replaces_all_items_in_file_order(client: TestClient, editor: dict[str, str]) -> None:
    for _ in range(3):
        add_item(client, editor)
    response = upload(client, editor, "目录.csv", table_csv(GOOD_ROWS))
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["applied"], report["items"], report["replaced"]) == (True, 3, 3)
    assert report["preview"] == []
    items = items_of(client, editor)
    assert [i["name"] for i in items] == ["办事指南", "批准结果", "招标公告"]
    assert [i["position"] for i in items] == [1, 2, 3]
    assert [i["missing"] for i in items] == [[], ["basis"], []]
    summary = client.get(f"/api/v1/units/{HULI}/catalogues", headers=editor).json()[0]
    assert (summary["item_count"], summary["lacking_count"]) == (3, 1)  # stored flags


def test_history_has_one_import_change_with_file_name_and_row_count(
    client: TestClient, editor: dict[str, str]
) -> None:
    old = add_item(client, editor)
    assert upload(client, editor, "湖里区目录.csv", table_csv(GOOD_ROWS)).status_code == 200
    changes = history(client, editor)
    assert [c["action"] for c in changes] == ["import", "create"]
    change = changes[0]
    assert "湖里区目录.csv" in change["note"]
    assert "3 rows" in change["note"]
    assert change["before"]["item_count"] == 1
    assert change["before"]["items"][0]["name"] == old["name"]  # the old items are kept
    assert change["after"] == {"item_count": 3, "filename": "湖里区目录.csv", "rows": 3}


def test_errors_answer_422_with_the_report_and_nothing_changes(
    client: TestClient, editor: dict[str, str]
) -> None:
    add_item(client, editor)
    before = client.get(base(), headers=editor).json()
    rows = [*GOOD_ROWS, row(4, "", "", content="无名事项"), row(5, "甲", "乙", county="x")]
    response = upload(client, editor, "bad.csv", table_csv(rows))
    assert response.status_code == 422, response.text
    body = response.json()
    assert [(e["row"], e["field"]) for e in body["errors"]] == [(6, "name"), (7, "levels")]
    assert body["applied"] is False
    assert [d["loc"] for d in body["detail"]] == [["file", 6, "name"], ["file", 7, "levels"]]
    assert client.get(base(), headers=editor).json() == before
    assert [c["action"] for c in history(client, editor)] == ["create"]


def test_invalid_values_are_checked_by_the_item_rules_too(
    client: TestClient, editor: dict[str, str]
) -> None:
    """The reader takes any text; ItemCreate's limits apply to imports as to the JSON API."""
    response = upload(client, editor, "a.csv", table_csv([row(1, "甲", "乙", content="长" * 4001)]))
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert [(e["row"], e["field"]) for e in errors] == [(3, "content")]
    assert "4000" in errors[0]["msg"]


def test_gbk_and_utf8_without_bom_csv_import(client: TestClient, editor: dict[str, str]) -> None:
    for encoding in ("gbk", "gb18030", "utf-8"):
        response = upload(client, editor, "目录.csv", table_csv(GOOD_ROWS, encoding))
        assert response.status_code == 200, (encoding, response.text)
        assert [i["name"] for i in items_of(client, editor)] == ["办事指南", "批准结果", "招标公告"]


def test_import_reopens_a_published_catalogue_as_draft(
    client: TestClient, editor: dict[str, str]
) -> None:
    add_item(client, editor)
    base_url = base()
    assert client.post(f"{base_url}/compile", json={"compiled_on": "2020-10-20"}, headers=editor)
    assert upload(client, editor, "a.csv", table_csv(GOOD_ROWS)).status_code == 200
    assert client.get(base_url, headers=editor).json()["status"] == "draft"


def test_ignored_columns_and_warnings_are_reported(
    client: TestClient, editor: dict[str, str]
) -> None:
    head = ["一级事项", "二级事项", "公开内容", "咨询电话", "公开渠道"]
    data = [head, ["甲", "乙", "内容", "0592-1234567", "政府网站、村民微信群"]]
    buffer = io.StringIO()
    csv.writer(buffer).writerows(data)
    response = upload(client, editor, "a.csv", buffer.getvalue().encode(), dry_run=True)
    report = response.json()
    assert report["ignored_columns"] == ["咨询电话"]
    assert {w["field"] for w in report["warnings"]} >= {"header", "channels"}
    assert report["preview"][0]["channels"] == ["政府网站", "其他:村民微信群"]


# ---- bad files --------------------------------------------------------------------------


def xlsx_bytes(rows: list[list[object]], **cells: object) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for values in rows:
        sheet.append(values)
    for ref, value in cells.items():
        sheet[ref] = value
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def with_macro(data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(buffer, "w") as target:
        for info in source.infolist():
            target.writestr(info, source.read(info))
        target.writestr("xl/vbaProject.bin", b"\x00" * 16)
    return buffer.getvalue()


SMALL = xlsx_bytes([["一级事项", "二级事项", "公开内容"], ["甲", "乙", "丙"]])
BAD_FILES: dict[str, tuple[str, bytes, int]] = {
    "empty": ("a.csv", b"", 422),
    "blank": ("a.csv", b"\xef\xbb\xbf  \r\n", 422),
    "random bytes": ("a.xlsx", random.Random(6).randbytes(4096) + b"\x00", 415),
    "corrupt zip": ("a.xlsx", SMALL[: len(SMALL) // 2], 422),
    "macro workbook": ("a.xlsx", with_macro(SMALL), 415),
    "xlsm name": ("a.xlsm", SMALL, 415),
    "password-protected": (
        "a.xlsx",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100) + "EncryptedPackage".encode("utf-16-le"),
        422,
    ),
    "old xls": ("a.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500), 415),
    "pdf": ("a.pdf", b"%PDF-1.4\n...", 415),
}


@pytest.mark.parametrize("kind", BAD_FILES)
def test_bad_files_get_a_clear_4xx(client: TestClient, editor: dict[str, str], kind: str) -> None:
    filename, data, status = BAD_FILES[kind]
    for dry_run in (True, False):
        response = upload(client, editor, filename, data, dry_run=dry_run)
        assert response.status_code == status, response.text
        detail = response.json()["detail"]
        message = detail if isinstance(detail, str) else detail[0]["msg"]
        assert " / " in message  # bilingual


def test_formula_cell_is_an_error_naming_the_cell(
    client: TestClient, editor: dict[str, str]
) -> None:
    data = xlsx_bytes([["一级事项", "二级事项", "公开内容"], ["甲", "乙", None]], C2="=A2&B2")
    report = upload(client, editor, "a.xlsx", data, dry_run=True).json()
    assert [(e["row"], e["field"]) for e in report["errors"]] == [(2, "content")]
    assert "C2" in report["errors"][0]["msg"]
    assert upload(client, editor, "a.xlsx", data).status_code == 422


def test_a_file_without_a_catalogue_header_is_reported_then_refused(
    client: TestClient, editor: dict[str, str]
) -> None:
    data = "姓名,电话\r\n张三,123\r\n".encode()
    report = upload(client, editor, "a.csv", data, dry_run=True).json()
    assert [(e["row"], e["field"]) for e in report["errors"]] == [(0, "header")]
    assert upload(client, editor, "a.csv", data).status_code == 422


def test_too_large_is_413_even_before_the_body_is_read(
    client: TestClient, editor: dict[str, str], caps: Settings
) -> None:
    data = table_csv([row(1, "甲", "乙", content="长" * 3000) for _ in range(4)])
    assert len(data) > caps.max_upload_bytes
    assert upload(client, editor, "a.csv", data).status_code == 413
    # a declared length over the cap is refused without reading the body
    response = client.post(
        f"{base()}/import",
        content=b"x" * 10,
        headers={
            **editor,
            "Content-Type": "multipart/form-data; boundary=b",
            "Content-Length": str(caps.max_upload_bytes * 10),
        },
    )
    assert response.status_code == 413


def test_too_many_rows_is_413(client: TestClient, editor: dict[str, str], caps: Settings) -> None:
    rows = [row(n, "甲", f"事项{n}") for n in range(1, 8)]
    assert upload(client, editor, "a.csv", table_csv(rows), dry_run=True).status_code == 413
    assert upload(client, editor, "a.csv", table_csv(rows[:5])).status_code == 200


def test_not_multipart_or_no_file_field(client: TestClient, editor: dict[str, str]) -> None:
    assert client.post(f"{base()}/import", json={}, headers=editor).status_code == 415
    response = client.post(f"{base()}/import", data={"x": "1"}, files={"other": ("a", b"b")},
                           headers=editor)  # fmt: skip
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "file"]


def test_random_bytes_never_answer_500(client: TestClient, editor: dict[str, str]) -> None:
    rng = random.Random(2020)
    seeds = [SMALL, table_csv(GOOD_ROWS), b"PK\x03\x04", b""]
    for n in range(150):
        if n % 3 == 0:
            data = bytearray(rng.randbytes(rng.randrange(0, 3000)))
        else:  # a real file with some bytes flipped or cut
            data = bytearray(rng.choice(seeds))
            for _ in range(rng.randrange(1, 8)):
                if data:
                    data[rng.randrange(len(data))] = rng.randrange(256)
            data = data[: rng.randrange(len(data) + 1)] if n % 2 else data
        name = rng.choice(["a.xlsx", "a.csv", "a", "a.xlsm"])
        response = upload(client, editor, name, bytes(data), dry_run=n % 2 == 0)
        assert response.status_code < 500, (n, response.text)
        if n % 2:
            assert response.status_code != 200 or response.json()["applied"]


# ---- scope ------------------------------------------------------------------------------


def test_only_editors_in_scope_and_admins_import(client: TestClient, session: Session) -> None:
    data = table_csv(GOOD_ROWS)
    assert upload(client, token(session, "editor", SIMING), "a.csv", data).status_code == 403
    assert upload(client, token(session, "auditor"), "a.csv", data).status_code == 403
    assert upload(client, {}, "a.csv", data).status_code == 401
    district = token(session, "editor", HULI)
    assert upload(client, district, "a.csv", data, unit=HULI_STREET).status_code == 200
    assert upload(client, token(session, "admin"), "a.csv", data).status_code == 200


# ---- export for editors and the round trip ----------------------------------------------


def test_working_copy_downloads_as_xlsx_csv_and_html(
    client: TestClient, editor: dict[str, str]
) -> None:
    add_item(client, editor, name="办事指南")
    response = client.get(base(), params={"format": "xlsx"}, headers=editor)
    assert response.status_code == 200
    assert response.headers["content-type"] == XLSX_TYPE
    assert "attachment" in response.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    assert sheet["C4"].value == "办事指南"
    csv_text = client.get(base(), params={"format": "csv"}, headers=editor).content
    assert csv_text.startswith("\ufeff序号".encode())
    html = client.get(base(), params={"format": "html"}, headers=editor)
    assert html.headers["content-type"].startswith("text/html")
    assert "办事指南" in html.text
    assert client.get(base(), params={"format": "pdf"}, headers=editor).status_code == 422


def guide_domains(client: TestClient) -> dict[str, list[dict[str, Any]]]:
    domains = [d["code"] for d in client.get("/api/v1/domains").json()]
    guides = {d: client.get(f"/api/v1/domains/{d}/guide-items").json() for d in domains}
    return {code: items for code, items in guides.items() if items}


@pytest.mark.parametrize("file_format", ["xlsx", "csv"])
def test_export_then_import_gives_back_every_domains_guide_catalogue(
    client: TestClient, session: Session, file_format: str
) -> None:
    admin = token(session, "admin")
    guides = guide_domains(client)
    assert len(guides) >= 26
    huli = session.get(Unit, HULI)
    assert huli is not None
    for domain, guide_items in guides.items():
        # set-up through the service (one write instead of ~10 requests per domain)
        domain_row = session.get(Domain, domain)
        assert domain_row is not None
        catalogue = catalogues.get_or_new(session, huli, domain_row)
        every_item = [
            ItemCreate.model_validate({k: g[k] for k in imports.ITEM_FIELDS}) for g in guide_items
        ]
        imports.replace(
            session, catalogue, every_item, action="seed", note="", detail={}, actor=SYSTEM
        )
        exported = client.get(base(HULI, domain), params={"format": file_format}, headers=admin)
        assert exported.status_code == 200
        response = upload(
            client, admin, f"{domain}.{file_format}", exported.content, unit=SIMING, domain=domain
        )
        assert response.status_code == 200, response.text
        assert response.json()["errors"] == []
        original = client.get(base(HULI, domain), headers=admin).json()["items"]
        imported = client.get(base(SIMING, domain), headers=admin).json()["items"]
        assert attributes(imported) == attributes(original), domain
        assert [i["position"] for i in imported] == list(range(1, len(original) + 1))


# ---- start from the guide ---------------------------------------------------------------


def guide_for(client: TestClient, domain: str, level: str) -> list[dict[str, Any]]:
    items = client.get(f"/api/v1/domains/{domain}/guide-items").json()
    return [i for i in items if not i["levels"] or level in i["levels"]]


def test_district_draft_from_the_guide_takes_county_and_unlevelled_items(
    client: TestClient, editor: dict[str, str]
) -> None:
    domain = next(
        code
        for code, items in guide_domains(client).items()
        if any(i["levels"] and "县级" not in i["levels"] for i in items)
    )
    expected = guide_for(client, domain, "县级")
    response = client.post(f"{base(HULI, domain)}/from-guide", headers=editor)
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [(i["first_level"], i["name"]) for i in items] == [
        (g["first_level"], g["name"]) for g in expected
    ]
    assert len(items) < len(client.get(f"/api/v1/domains/{domain}/guide-items").json())
    # the guide names no 公开主体: the office must fill it in
    assert all("responsible_body" in i["missing"] for i in items if not i["responsible_body"])
    assert [c["action"] for c in history(client, editor, HULI, domain)] == ["from_guide"]
    # then edited like any draft
    first = items[0]
    etag = client.get(f"/api/v1/items/{first['id']}", headers=editor).headers["ETag"]
    patch = client.patch(
        f"/api/v1/items/{first['id']}",
        json={"responsible_body": "区发展改革局"},
        headers={**editor, "If-Match": etag},
    )
    assert patch.status_code == 200, patch.text


def test_street_draft_from_the_guide_takes_township_items(
    client: TestClient, editor: dict[str, str]
) -> None:
    domain = next(
        code
        for code, items in guide_domains(client).items()
        if any(i["levels"] == ["乡级"] for i in items)
    )
    response = client.post(f"{base(HULI_STREET, domain)}/from-guide", headers=editor)
    assert response.status_code == 200, response.text
    names = [i["name"] for i in response.json()["items"]]
    assert names == [g["name"] for g in guide_for(client, domain, "乡级")]


def test_from_guide_refuses_a_draft_with_items_unless_replace(
    client: TestClient, editor: dict[str, str]
) -> None:
    add_item(client, editor)
    response = client.post(f"{base()}/from-guide", headers=editor)
    assert response.status_code == 409
    assert " / " in response.json()["detail"]
    response = client.post(f"{base()}/from-guide", params={"replace": "true"}, headers=editor)
    assert response.status_code == 200
    assert [i["name"] for i in response.json()["items"]] == [
        g["name"] for g in guide_for(client, "01", "县级")
    ]
    change = history(client, editor)[0]
    assert (change["action"], change["before"]["item_count"]) == ("from_guide", 1)


def test_from_guide_scope(client: TestClient, session: Session) -> None:
    url = f"{base()}/from-guide"
    assert client.post(url, headers=token(session, "editor", SIMING)).status_code == 403
    assert client.post(url, headers=token(session, "auditor")).status_code == 403


# ---- the layouts offices publish, through HTTP (tests/test_import_layouts.py has each) ----

VARIANT_HEAD = [
    "序号", "公开事项（一级）", "公开事项（二级）", "公开内容", "公开依据", "公开时限", "公开主体",
    "公开渠道", "公开对象", "公开方式（主动）", "公开方式（依申请）", "公开层级", "咨询电话",
]  # fmt: skip
VARIANT_ROWS = [
    ["0101", "政策\u200b文件", "规范性文件", "=1+1 不是公式", BASIS, LIMIT, "区司法局",
     "政府网站|街道文化站/(社区)综合性文化服务中心公示栏", "法律援助申请人", "√", "", "区级、镇街",
     "0592-1"],
    ["0102", "", "-年度计划", "@全体居民", "+《条例》", "\t随时", "区司法局",
     "政府网站 政务服务中心", "全社会", "", "√", "市级", ""],
    ["0103", "法律服务", "公证", "公证事项", BASIS, LIMIT, "区司法局",
     "1.政府门户网站2.两微一端", "特定群体", "√", "", "村", ""],
]  # fmt: skip


def variant_csv() -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows([VARIANT_HEAD, *VARIANT_ROWS])
    return buffer.getvalue().encode("utf-8-sig")


def test_dry_run_explains_how_each_header_was_read(
    client: TestClient, editor: dict[str, str]
) -> None:
    response = upload(client, editor, "v.csv", variant_csv(), dry_run=True)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["errors"] == []
    columns = {c["column"]: c for c in report["columns"]}
    assert [columns[c]["field"] for c in "ABCDEFGHIJKLM"] == [
        "seq", "first_level", "name", "content", "basis", "time_limit", "responsible_body",
        "channels", "audience", "method", "method", "levels", "ignored",
    ]  # fmt: skip
    assert columns["J"]["header"] == "公开方式（主动）"
    assert columns["J"]["value"] == "主动"
    assert all(c["note"] for c in report["columns"])
    assert any("一行表头" in note for note in report["notes"])
    assert any("沿用上一行" in note for note in report["notes"])
    assert report["ignored_columns"] == ["咨询电话"]
    preview = report["preview"]
    assert [p["first_level"] for p in preview] == ["政策文件", "政策文件", "法律服务"]
    assert preview[0]["channels"] == [
        "政府网站",
        "其他:街道文化站/(社区)综合性文化服务中心公示栏",
    ]
    assert preview[0]["audience"] == "特定群体:法律援助申请人"
    assert (preview[1]["levels"], preview[2]["levels"]) == (["县级"], ["村级"])


def test_the_api_and_the_importer_accept_the_same_channel_values(
    client: TestClient, editor: dict[str, str]
) -> None:
    report = upload(client, editor, "v.csv", variant_csv(), dry_run=True).json()
    channels = report["preview"][2]["channels"]
    assert channels == ["两微一端", "其他:政府门户网站"]
    [warning] = [w for w in report["warnings"] if "政府门户网站" in w["msg"]]
    assert warning["row"] == 4
    assert "可能是指渠道目录中的“政府网站”" in warning["msg"]
    # What the importer produced, the API takes as it stands; what it kept out, the API refuses.
    items_url = f"{base()}/items"
    accepted = client.post(items_url, json={**ITEM, "channels": channels}, headers=editor)
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["channels"] == channels
    refused = client.post(items_url, json={**ITEM, "channels": ["政府门户网站"]}, headers=editor)
    assert refused.status_code == 422
    assert "政府网站" in refused.json()["detail"][0]["msg"]


ITEM = {"first_level": "政策文件", "name": "规章"}


@pytest.mark.parametrize("file_format", ["xlsx", "csv"])
def test_an_imported_catalogue_exported_and_imported_again_is_the_same(
    client: TestClient, session: Session, file_format: str
) -> None:
    admin = token(session, "admin")
    first = upload(client, admin, "v.csv", variant_csv())
    assert first.status_code == 200, first.text
    exported = client.get(base(), params={"format": file_format}, headers=admin)
    again = upload(client, admin, f"again.{file_format}", exported.content, unit=SIMING)
    assert again.status_code == 200, again.text
    assert again.json()["errors"] == []
    assert again.json()["warnings"] == []
    original = items_of(client, admin)
    assert attributes(items_of(client, admin, SIMING)) == attributes(original)
    # the export kept the texts that start like formulas, and the office's channels
    assert [i["name"] for i in original] == ["规范性文件", "-年度计划", "公证"]
    assert original[1]["content"] == "@全体居民"
    assert original[0]["content"] == "=1+1 不是公式"


def test_csv_exports_neutralise_cells_that_start_like_a_formula(
    client: TestClient, editor: dict[str, str]
) -> None:
    add_item(client, editor, name="=HYPERLINK(\"http://evil\")", content="+1", basis="-2",
             time_limit="@SUM(A1)", responsible_body="区司法局")  # fmt: skip
    publish(client, editor)
    editor_csv = client.get(base(), params={"format": "csv"}, headers=editor).content
    public_csv = client.get(f"/api/v1/public/units/{HULI}/catalogues/01?format=csv").content
    for body in (editor_csv, public_csv):
        [data_row] = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))[2:]
        assert data_row[2:6] == ['\'=HYPERLINK("http://evil")', "'+1", "'-2", "'@SUM(A1)"]
        assert data_row[6] == "区司法局"
        cells = [cell for cell in data_row if cell]
        assert not any(cell[0] in "=+-@\t\r" for cell in cells)
