"""Record import from XLSX and CSV (UTF-8, GBK): items by name or id, dry run, all or nothing."""

import io
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook
from sqlmodel import Session

from tests.factories import HULI, SIMING, add_item, token

URL = f"/api/v1/units/{HULI}/records/import"


def upload(
    client: TestClient, headers: dict[str, str], name: str, data: bytes, **params: Any
) -> Any:
    return client.post(
        URL,
        params=params,
        files={"file": (name, data, "application/octet-stream")},
        headers=headers,
    )


def listed(client: TestClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = client.get(
        f"/api/v1/units/{HULI}/records", headers=headers
    ).json()["items"]
    return items


def csv_text(item: dict[str, Any]) -> str:
    return (
        "标题,链接,形成日期,发布日期,一级事项,二级事项\r\n"
        f"批复一,http://www.huli.gov.cn/a/1.html,2020-09-28,2020-11-05,{item['first_level']},{item['name']}\r\n"
        f"批复二,http://www.huli.gov.cn/a/2.html,2020/9/28,2020年10月30日,{item['first_level']},{item['name']}\r\n"
    )


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gbk"])
def test_a_csv_names_items_by_first_and_second_level_in_utf8_or_gbk(
    client: TestClient, editor: dict[str, str], encoding: str
) -> None:
    item = add_item(client, editor, name="建设项目批准文件")
    response = upload(client, editor, "records.csv", csv_text(item).encode(encoding))
    assert response.status_code == 200, response.text
    assert (response.json()["created"], response.json()["applied"]) == (2, True)
    got = {r["title"]: r for r in listed(client, editor)}
    assert (got["批复一"]["state"], got["批复一"]["late_days"]) == ("late", 3)
    assert got["批复二"]["state"] == "on_time"
    assert {r["item_id"] for r in got.values()} == {item["id"]}


def test_a_dry_run_reports_and_stores_nothing(client: TestClient, editor: dict[str, str]) -> None:
    item = add_item(client, editor)
    response = upload(client, editor, "records.csv", csv_text(item).encode(), dry_run="true")
    assert response.status_code == 200
    assert (response.json()["rows"], response.json()["applied"]) == (2, False)
    assert listed(client, editor) == []


def test_an_xlsx_names_items_by_id(client: TestClient, editor: dict[str, str]) -> None:
    item = add_item(client, editor)
    book = Workbook()
    sheet = book.active
    sheet.append(["说明：公开记录"])
    sheet.append(["事项ID", "标题", "链接", "形成日期", "发布日期"])
    sheet.append([item["id"], "通知", "https://www.huli.gov.cn/n.html", "2020-05-01", "2020-05-06"])
    buffer = io.BytesIO()
    book.save(buffer)
    response = upload(client, editor, "records.xlsx", buffer.getvalue())
    assert response.status_code == 200, response.text
    (saved,) = listed(client, editor)
    assert (saved["item_id"], saved["url"]) == (item["id"], "https://www.huli.gov.cn/n.html")


def test_one_bad_row_rejects_the_file_with_row_and_field(
    client: TestClient, editor: dict[str, str], session: Session
) -> None:
    item = add_item(client, editor)
    theirs = add_item(client, token(session, "editor", SIMING), unit=SIMING)
    text = csv_text(item) + (
        f"坏的,ftp://x/1,2020-09-28,2020-11-05,{item['first_level']},{item['name']}\r\n"
        f"倒序,http://www.huli.gov.cn/a/4.html,2020-09-28,2020-09-01,{item['first_level']},{item['name']}\r\n"
        f"无此事项,http://www.huli.gov.cn/a/5.html,2020-09-28,2020-11-05,无,无\r\n"
        f"日期,http://www.huli.gov.cn/a/6.html,昨天,2020-11-05,{item['first_level']},{item['name']}\r\n"
    )
    response = upload(client, editor, "records.csv", text.encode())
    assert response.status_code == 422
    errors = {(e["row"], e["field"]) for e in response.json()["errors"]}
    assert {(4, "url"), (5, "published_on"), (6, "item"), (7, "formed_on")} <= errors
    assert listed(client, editor) == []
    by_id = f"事项ID,标题,链接,形成日期,发布日期\r\n{theirs['id']},别人的,http://a.cn/1,2020-01-02,2020-01-03\r\n"
    response = upload(client, editor, "records.csv", by_id.encode())
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "item_id"
    assert "another unit" in response.json()["errors"][0]["msg"]


def test_a_file_without_the_header_is_422(client: TestClient, editor: dict[str, str]) -> None:
    response = upload(client, editor, "records.csv", "名称,地址\r\n甲,乙\r\n".encode())
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "header_not_found"
