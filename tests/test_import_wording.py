"""The same fault in any imported spreadsheet (records, the request register, a catalogue)
is said the same way: the cell (Excel's reference), the column, the value, Chinese and
English."""

import re
from typing import Any

from fastapi.testclient import TestClient

from tests.factories import HULI, add_item
from tests.test_import import GOOD_ROWS, row, table_csv

RECORDS = f"/api/v1/units/{HULI}/records/import"
REQUESTS = f"/api/v1/units/{HULI}/requests/import"
CATALOGUE = f"/api/v1/units/{HULI}/catalogues/01/import"


def dry_run(client: TestClient, headers: dict[str, str], url: str, text: str) -> Any:
    response = client.post(
        url,
        params={"dry_run": "true"},
        files={"file": ("file.csv", text.encode(), "application/octet-stream")},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    return response.json()


def not_a_date(cell: str, label: str, text: str) -> str:
    return (
        f"单元格 {cell}：{label}“{text}”不是日期（年-月-日） / "
        f"cell {cell}: {label} {text!r} is not a date (YYYY-MM-DD)"
    )


def missing(label: str) -> str:
    return f"缺少“{label}”列 / the column {label} is missing"


def test_a_bad_date_is_said_alike_in_records_and_requests(
    client: TestClient, editor: dict[str, str]
) -> None:
    item = add_item(client, editor)
    records = dry_run(
        client,
        editor,
        RECORDS,
        f"标题,链接,形成日期,发布日期,事项ID\r\n通知,http://a.cn/1,昨天,2020-01-03,{item['id']}\r\n",
    )
    assert [(e["row"], e["field"], e["msg"]) for e in records["errors"]] == [
        (2, "formed_on", not_a_date("C2", "形成日期", "昨天"))
    ]
    requests = dry_run(
        client,
        editor,
        REQUESTS,
        "编号,收到日期,渠道,申请人类型,内容摘要\r\n1,昨天,网络,自然人,某事\r\n",
    )
    assert [(e["row"], e["field"], e["msg"]) for e in requests["errors"]] == [
        (2, "received_on", not_a_date("B2", "收到日期", "昨天"))
    ]


def test_a_missing_column_is_said_alike_in_records_and_requests(
    client: TestClient, editor: dict[str, str]
) -> None:
    records = dry_run(
        client, editor, RECORDS, "标题,链接,形成日期,事项ID\r\n通知,http://a.cn/1,2020-01-02,1\r\n"
    )
    assert (0, "published_on", missing("发布日期")) in {
        (e["row"], e["field"], e["msg"]) for e in records["errors"]
    }
    requests = dry_run(
        client, editor, REQUESTS, "收到日期,申请人类型,内容摘要\r\n2020-01-02,自然人,某事\r\n"
    )
    assert (0, "channel", missing("渠道")) in {
        (e["row"], e["field"], e["msg"]) for e in requests["errors"]
    }


def test_a_bad_choice_and_a_bad_id_name_their_cell(
    client: TestClient, editor: dict[str, str]
) -> None:
    requests = dry_run(
        client,
        editor,
        REQUESTS,
        "收到日期,渠道,申请人类型,内容摘要\r\n2020-01-02,短信,自然人,某事\r\n",
    )
    [error] = requests["errors"]
    assert error["msg"].startswith("单元格 B2：渠道“短信”须为")
    assert " / cell B2: 渠道 '短信' must be one of " in error["msg"]
    records = dry_run(
        client,
        editor,
        RECORDS,
        "标题,链接,形成日期,发布日期,事项ID\r\n通知,http://a.cn/1,2020-01-02,2020-01-03,abc\r\n",
    )
    assert [(e["field"], e["msg"]) for e in records["errors"]] == [
        (
            "item_id",
            "单元格 E2：事项ID“abc”不是编号（正整数） / cell E2: 事项ID 'abc' is not an id "
            "(a whole number from 1)",
        )
    ]


def test_the_catalogue_import_names_a_bad_cell_the_same_way(
    client: TestClient, editor: dict[str, str]
) -> None:
    rows = [*GOOD_ROWS, row(4, "招标投标信息", "中标结果", active="√", on_request="x")]
    response = client.post(
        CATALOGUE,
        params={"dry_run": "true"},
        files={"file": ("目录.csv", table_csv(rows), "application/octet-stream")},
        headers=editor,
    )
    [error] = response.json()["errors"]
    assert re.fullmatch(r"单元格 ([A-Z]+6)：.+ / cell \1: .+", error["msg"]), error["msg"]
