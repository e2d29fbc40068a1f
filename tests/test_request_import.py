"""Importing an office's existing 台账: XLSX and CSV (UTF-8, GBK), table 三 wording, dry run,
all or nothing, no identities."""

import io
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook
from sqlmodel import Session

from app.services import requests
from app.services.request_import import outcome_of
from tests.factories import HULI

URL = f"/api/v1/units/{HULI}/requests/import"
HEADER = [
    "编号",
    "收到日期",
    "渠道",
    "申请人类型",
    "申请人姓名",
    "内容摘要",
    "答复日期",
    "处理结果",
]
ROWS = [
    [
        "湖公开2020-1",
        "2020-09-25",
        "网络",
        "自然人",
        "张三",
        "某地块征收补偿方案",
        "2020-10-20",
        "予以公开",
    ],
    [
        "湖公开2020-2",
        "2020/10/9",
        "邮寄",
        "商业企业",
        "某公司",
        "某项目环评批复",
        "2020年11月30日",
        "不予公开-属于四类过程性信息",
    ],
    ["湖公开2020-3", "2020-12-21", "当面", "法律服务机构", "", "某案件执法案卷", "", ""],
    ["湖公开2020-4", "2020-06-01", "网络", "自然人", "", "某事项", "2020-06-05", "申请人撤回申请"],
]


def csv_bytes(rows: list[list[str]], encoding: str = "utf-8") -> bytes:
    return "\n".join(",".join(row) for row in [HEADER, *rows]).encode(encoding)


def xlsx_bytes(rows: list[list[str]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["湖里区2020年依申请公开台账"])
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(
    client: TestClient, headers: dict[str, str], name: str, data: bytes, **params: Any
) -> Any:
    return client.post(URL, params=params, files={"file": (name, data)}, headers=headers)


def test_dry_run_reports_and_registers_nothing(
    client: TestClient, session: Session, editor: dict[str, str]
) -> None:
    response = upload(client, editor, "台账.xlsx", xlsx_bytes(ROWS), dry_run=True)
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["rows"], report["created"], report["applied"]) == (4, 4, False)
    assert [r["outcome"] for r in report["preview"]] == ["granted", "refused_process", None, None]
    assert report["preview"][3]["withdrawn"] is True
    assert "申请人姓名" in report["ignored_columns"]
    assert any("申请人姓名" in w["msg"] for w in report["warnings"])
    assert requests.table_three(session, HULI, 2020, "2019")["received"]["total"] == 0


@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
def test_a_csv_registers_every_row_with_its_clock(
    client: TestClient, session: Session, editor: dict[str, str], encoding: str
) -> None:
    response = upload(client, editor, "台账.csv", csv_bytes(ROWS, encoding))
    assert response.status_code == 200, response.text
    assert response.json()["applied"] is True
    listed = client.get(f"/api/v1/units/{HULI}/requests", headers=editor).json()
    by_ref = {r["reference"]: r for r in listed}
    assert by_ref["湖公开2020-1"]["on_time"] is True
    assert by_ref["湖公开2020-2"]["on_time"] is False  # due 11-05
    assert by_ref["湖公开2020-3"]["state"] == "open"
    assert by_ref["湖公开2020-4"]["state"] == "withdrawn"
    assert all("张三" not in str(r) for r in listed)
    table = requests.table_three(session, HULI, 2020, "2019")
    assert table["received"]["total"] == 4
    assert table["carried_out"]["legal"] == 1
    assert table["other"]["natural"] == 1


def test_one_bad_row_registers_nothing(client: TestClient, editor: dict[str, str]) -> None:
    bad = [*ROWS, ["x", "2020-13-01", "短信", "个体户", "", "", "2020-01-01", "不知道"]]
    response = upload(client, editor, "台账.csv", csv_bytes(bad))
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert {tuple(e["loc"][2:]) for e in detail} >= {
        ("received_on",),
        ("channel",),
        ("applicant_type",),
        ("summary",),
        ("outcome",),
    }
    assert all(e["loc"][1] == 6 for e in detail)
    assert client.get(f"/api/v1/units/{HULI}/requests", headers=editor).json() == []


def test_an_answer_before_receipt_and_a_taken_reference_are_row_errors(
    client: TestClient, editor: dict[str, str]
) -> None:
    assert upload(client, editor, "a.csv", csv_bytes(ROWS[:1])).status_code == 200
    rows = [ROWS[0], ["新1", "2020-09-25", "网络", "自然人", "", "摘要", "2020-09-20", "予以公开"]]
    response = upload(client, editor, "b.csv", csv_bytes(rows), dry_run=True)
    errors = {(e["row"], e["field"]) for e in response.json()["errors"]}
    assert errors == {(2, "reference"), (3, "answered_on")}


def test_a_file_without_the_columns_is_refused(client: TestClient, editor: dict[str, str]) -> None:
    response = upload(client, editor, "x.csv", "名称,日期\n甲,2020-01-01\n".encode())
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "header"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("予以公开", "granted"),
        ("部分公开（区分处理的，只计这一情形，不计其他情形）", "partial"),
        ("1.属于国家秘密", "refused_secret"),
        ("危及“三安全一稳定”", "refused_safety"),
        ("本机关不掌握相关政府信息", "unable_not_held"),
        ("补正后申请内容仍不明确", "unable_unclear"),
        ("要求行政机关确认或重新出具已获取信息", "ignored_confirm"),
        ("申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请", "other_no_correction"),
        ("申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请", "other_no_fee"),
        ("其他处理", "other"),
        ("不予公开", None),
    ],
)
def test_outcomes_are_read_in_table_three_wording(text: str, code: str | None) -> None:
    assert outcome_of(text) == code
