"""The spreadsheet reader: the export layout read back exactly, the variants of real
catalogues, and bad files refused with a clear 4xx. Fixtures are built in code."""

from __future__ import annotations

import csv
import io
import os
import zipfile
from collections.abc import Sequence
from typing import Any

import pytest
from openpyxl import Workbook

from app.models.common import CHANNELS
from app.spreadsheet import BadFile, ImportResult, read_table

Row = Sequence[object]

HEAD1: list[object] = [
    "序号", "公开事项", None, "公开内容（要素）", "公开依据", "公开时限", "公开主体",
    "公开渠道和载体", "公开对象", None, "公开方式", None, "公开层级", None,
]  # fmt: skip
HEAD2: list[object] = [
    None, "一级事项", "二级事项", None, None, None, None, None,
    "全社会", "特定群体", "主动", "依申请", "县级", "乡级",
]  # fmt: skip
HEAD_MERGES = ["A2:A3", "B2:C2", "D2:D3", "E2:E3", "F2:F3", "G2:G3", "H2:H3", "I2:J2", "K2:L2",
               "M2:N2"]  # fmt: skip
BASIS = "《中华人民共和国政府信息公开条例》"
LIMIT = "信息形成或变更之日起20个工作日内"


def boxes(*used: str, other: str | None = None) -> str:
    """The export's channel cell: every vocabulary channel on a line, ■ used, □ not."""
    lines = [("■" if c in used else "□") + c for c in CHANNELS[:-1]]
    lines.append(f"■其他：{other}" if other else "□其他")
    return "\n".join(lines)


def export_rows() -> list[list[object]]:
    """Three items in two groups, as the renderer writes them (一级事项 on each group's
    first row only); the third item lacks its basis."""
    return [
        [1, "批准服务信息", "办事指南", "申报材料清单、批准流程", BASIS, LIMIT, "区发展改革局",
         boxes("政府网站", "政务服务中心"), "√", None, "√", None, "√", "√"],
        [2, None, "办理过程信息", "受理情况\n办理进度", BASIS, "实时", "区发展改革局",
         boxes("精准推送", other="村民微信群"), None, "√（项目单位）", None, "√", "√", None],
        [3, "招标投标信息", "招标投标", "招标公告", None, "及时", "区公共资源交易中心",
         boxes("政府网站"), None, "√", "√", None, None, "√"],
    ]  # fmt: skip


EXPECTED: list[dict[str, Any]] = [
    {"row": 4, "first_level": "批准服务信息", "name": "办事指南",
     "content": "申报材料清单、批准流程", "basis": BASIS, "time_limit": LIMIT,
     "responsible_body": "区发展改革局", "method": "主动",
     "channels": ["政府网站", "政务服务中心"], "audience": "全社会",
     "levels": ["县级", "乡级"], "position": 1},
    {"row": 5, "first_level": "批准服务信息", "name": "办理过程信息",
     "content": "受理情况\n办理进度", "basis": BASIS, "time_limit": "实时",
     "responsible_body": "区发展改革局", "method": "依申请",
     "channels": ["精准推送", "其他:村民微信群"], "audience": "特定群体:项目单位",
     "levels": ["县级"], "position": 2},
    {"row": 6, "first_level": "招标投标信息", "name": "招标投标", "content": "招标公告",
     "basis": None, "time_limit": "及时", "responsible_body": "区公共资源交易中心",
     "method": "主动", "channels": ["政府网站"], "audience": "特定群体",
     "levels": ["乡级"], "position": 3},
]  # fmt: skip


def xlsx(rows: Sequence[Row], merges: Sequence[str] = (), **cells: object) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(list(row))
    for merged in merges:
        sheet.merge_cells(merged)
    for ref, value in cells.items():
        sheet[ref] = value
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows: Sequence[Row], encoding: str = "utf-8-sig", delimiter: str = ",") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerows([["" if v is None else v for v in row] for row in rows])
    return buffer.getvalue().encode(encoding)


def items(result: ImportResult) -> list[dict[str, Any]]:
    return [item.model_dump() for item in result.items]


def problems(result: ImportResult, severity: str | None = None) -> list[tuple[int, str]]:
    return [(p.row, p.field) for p in result.problems if severity in (None, p.severity)]


def messages(result: ImportResult) -> str:
    return "\n".join(p.msg for p in result.problems)


# ---- the export layout, read back exactly ---------------------------------------------


def test_export_xlsx_with_title_and_merges_reads_back_exactly() -> None:
    title = ["思明区重大建设项目领域基层政务公开标准目录"] + [None] * 13
    data = xlsx(
        [title, HEAD1, HEAD2, *export_rows()],
        ["A1:N1", *HEAD_MERGES, "B4:B5"],
    )
    result = read_table("目录.xlsx", data)
    assert items(result) == EXPECTED
    assert result.rows == 3
    assert result.errors == []
    assert result.ignored_columns == []
    assert problems(result) == [(6, "basis")]
    assert result.problems[0].severity == "missing"


def test_export_csv_with_bom_reads_back_exactly() -> None:
    result = read_table("目录.csv", csv_bytes([HEAD1, HEAD2, *export_rows()]))
    assert items(result) == [{**item, "row": item["row"] - 1} for item in EXPECTED]
    assert problems(result) == [(5, "basis")]


def test_csv_without_bom_gbk_and_tab_separated_read_the_same() -> None:
    rows: list[Row] = [HEAD1, HEAD2, *export_rows()]
    expected = items(read_table("a.csv", csv_bytes(rows)))
    for encoding, delimiter in (("utf-8", ","), ("gbk", ","), ("gb18030", "\t")):
        result = read_table("a.csv", csv_bytes(rows, encoding, delimiter))
        assert items(result) == expected, (encoding, delimiter)


def test_round_trip_through_the_renderer() -> None:
    table = pytest.importorskip("app.render.table")
    view = {
        "unit_code": "350203", "unit_name": "思明区", "domain_code": "02",
        "domain_name": "重大建设项目", "version": None, "published_on": None,
        "published_url": None,
        "items": [{k: v for k, v in item.items() if k != "row"} for item in EXPECTED],
    }  # fmt: skip
    for render, name in ((table.render_xlsx, "x.xlsx"), (table.render_csv, "x.csv")):
        result = read_table(name, render(view))
        got = [{k: v for k, v in item.items() if k != "row"} for item in items(result)]
        assert got == view["items"], name
        assert result.errors == []


# ---- variants of real catalogues -------------------------------------------------------


def test_two_row_header_in_another_order_with_extra_columns() -> None:
    head1 = ["公开事项", None, "公开主体", "公开时限", "公开内容", "公开渠道和载体",
             "公开方式", None, "公开对象", None, "公开依据", "咨询电话", "责任科室"]  # fmt: skip
    head2 = ["一级事项", "二级事项", None, None, None, None, "主动", "依申请", "全社会",
             "特定群体", None, None, None]  # fmt: skip
    row = ["政策文件", "法律法规", "区应急管理局", "及时", "法律法规全文", "■政府网站",
           "√", None, "√", None, BASIS, "0592-1234567", "办公室"]  # fmt: skip
    result = read_table("t.csv", csv_bytes([head1, head2, row]))
    assert items(result) == [
        {"row": 3, "first_level": "政策文件", "name": "法律法规", "content": "法律法规全文",
         "basis": BASIS, "time_limit": "及时", "responsible_body": "区应急管理局",
         "method": "主动", "channels": ["政府网站"], "audience": "全社会", "levels": [],
         "position": 1}
    ]  # fmt: skip
    assert result.ignored_columns == ["咨询电话", "责任科室"]
    assert problems(result, "warning") == [(0, "header"), (0, "header")]


def test_same_as_above_and_merged_basis_cells() -> None:
    head = ["一级事项", "二级事项", "公开内容", "公开依据", "公开时限", "公开主体",
            "公开渠道和载体", "公开对象", "公开方式"]  # fmt: skip
    rows: list[Row] = [
        head,
        ["法治宣传教育", "法律知识普及服务", "内容甲", BASIS, LIMIT, "区司法局", "政府网站",
         "全社会", "主动"],
        [None, "法律法规检索服务", "同上", None, "同 上", "同上", "同上", "同上", "同上"],
        [None, "推广法治文化服务", "内容丙", None, "同上", "同上", "同上", "同上", "同上"],
    ]  # fmt: skip
    result = read_table("m.xlsx", xlsx(rows, ["D2:D4"]))
    got = items(result)
    assert [i["first_level"] for i in got] == ["法治宣传教育"] * 3
    assert [i["basis"] for i in got] == [BASIS] * 3
    assert got[1]["content"] == "内容甲"
    assert got[2]["time_limit"] == LIMIT
    assert got[2]["channels"] == ["政府网站"]
    assert result.errors == []


def test_same_as_above_on_the_first_row_is_an_error() -> None:
    rows: list[Row] = [["一级事项", "二级事项", "公开依据"], ["甲", "乙", "同上"]]
    result = read_table("a.csv", csv_bytes(rows))
    assert problems(result, "error") == [(2, "basis")]
    assert result.items == []


def test_one_column_per_channel() -> None:
    head1 = ["一级事项", "二级事项", "公开渠道和载体", None, None, None, "公开对象", "公开方式"]
    head2 = [None, None, "政府网站", "政府服务中心", "公共资源交易平台", "其他", None, None]
    row = ["甲", "乙", "√", "√", "√", "√村民微信群", "全社会", "主动公开"]
    result = read_table("c.xlsx", xlsx([head1, head2, row], ["A1:A2", "B1:B2", "C1:F1"]))
    # A typing slip of a vocabulary entry keeps the office's wording; the dry run suggests.
    assert result.items[0].channels == [
        "政府网站", "其他:公共资源交易平台", "其他:政府服务中心", "其他:村民微信群",
    ]  # fmt: skip
    assert result.items[0].method == "主动"
    assert "公共资源交易平台" in messages(result)
    assert "可能是指“政务服务中心”" in messages(result)


def test_channels_as_a_list_and_unknown_channel_becomes_other_with_a_warning() -> None:
    head = ["一级事项", "二级事项", "公开渠道和载体"]
    rows: list[Row] = [
        head,
        ["甲", "一", "政府网站、政务服务中心"],
        ["甲", "二", "1.政府网站 2.一微一端"],
        ["甲", "三", "政府网站，村民微信群"],
        ["甲", "四", "■政府网站 □政府公报\n■社区/企事业单位、村公示栏（电子屏）"],
        ["甲", "五", "R政府网站 £政府公报 R其他：办税服务厅"],
    ]
    result = read_table("l.csv", csv_bytes(rows))
    assert [i.channels for i in result.items] == [
        ["政府网站", "政务服务中心"],
        ["政府网站", "其他:一微一端"],
        ["政府网站", "其他:村民微信群"],
        ["政府网站", "社区/企事业单位/村公示栏(电子屏)"],
        ["政府网站", "其他:办税服务厅"],
    ]
    channel_warnings = [p for p in result.problems if p.field == "channels"]
    assert [(p.row, p.severity) for p in channel_warnings] == [(3, "warning"), (4, "warning")]
    assert "可能是指渠道目录中的“两微一端”" in channel_warnings[0].msg
    assert "村民微信群" in channel_warnings[1].msg


def test_wording_variants_in_headers() -> None:
    head1 = ["一级事项", "二级事项", "公开对象", None, "公开方式", None, "公开层级", None]
    head2 = [None, None, "全社会", "特定群众", "主动公开", "依申请公开", "区级", "乡、村级"]
    rows: list[Row] = [
        ["甲", "一", None, "√", None, "√", "√", "√"],
        ["甲", "二", "√", None, "√", None, None, "√"],
    ]
    result = read_table("v.csv", csv_bytes([head1, head2, *rows]))
    assert [(i.audience, i.method, i.levels) for i in result.items] == [
        ("特定群体", "依申请", ["县级", "乡级"]),
        ("全社会", "主动", ["乡级"]),
    ]


def test_wording_variants_in_values_line_breaks_and_spaces() -> None:
    head = ["公开事项", None, "公开对象", "公开方式", "公开层级", "公开主体"]
    sub = ["一级事项", "二级事项", None, None, None, None]
    rows: list[Row] = [
        ["政策\n文件", " 法律 法规 ", "特定群众（申请人）", "依申请公开", "县级、乡、村级",
         " 区 司法局 "],
        ["政策文件", "规章", "全社会", " 主动 ", "镇级", "区司法局\n 各街道 "],
    ]  # fmt: skip
    result = read_table("v.csv", csv_bytes([head, sub, *rows]))
    first, second = result.items
    # A line break between Chinese characters is the cell's wrap; a space stays a space.
    assert (first.first_level, first.name) == ("政策文件", "法律 法规")
    assert (first.audience, first.method, first.levels) == (
        "特定群体:申请人",
        "依申请",
        ["县级", "乡级"],
    )
    assert first.responsible_body == "区 司法局"
    assert (second.audience, second.method, second.levels) == ("全社会", "主动", ["乡级"])
    assert second.responsible_body == "区司法局\n各街道"


def test_single_item_column_uses_group_headings_as_first_level() -> None:
    head = ["序号", "公开事项", "公开内容", "公开依据"]
    rows: list[Row] = [
        head,
        [1, "独立事项", "内容", BASIS],
        ["一", "政策文件", None, None],
        [2, "法律法规", "内容", BASIS],
        [3, "规章", "内容", BASIS],
    ]
    result = read_table("s.csv", csv_bytes(rows))
    assert [(i.first_level, i.name, i.position) for i in result.items] == [
        ("独立事项", "独立事项", 1),
        ("政策文件", "法律法规", 2),
        ("政策文件", "规章", 3),
    ]
    assert result.rows == 3


def test_group_heading_row_and_banner_row_set_the_first_level() -> None:
    head = ["序号", "一级事项", "二级事项", "公开内容"]
    rows: list[Row] = [head, [None, "政策文件", None, None], [1, None, "法律法规", "内容"],
            ["二、招生管理", None, None, None], [2, None, "招生政策", "内容"]]  # fmt: skip
    result = read_table("h.xlsx", xlsx(rows, ["A4:D4"]))
    assert [(i.first_level, i.name) for i in result.items] == [
        ("政策文件", "法律法规"),
        ("二、招生管理", "招生政策"),
    ]


# ---- rules --------------------------------------------------------------------------------


def test_missing_attributes_are_reported_one_per_attribute() -> None:
    rows: list[Row] = [["一级事项", "二级事项", "公开内容", "公开依据", "公开时限", "公开主体",
             "公开渠道和载体", "公开对象", "公开方式"], ["甲", "乙"] + [None] * 7]  # fmt: skip
    result = read_table("a.csv", csv_bytes(rows))
    assert [p.field for p in result.problems if p.severity == "missing"] == [
        "content", "basis", "time_limit", "responsible_body", "method", "channels", "audience",
    ]  # fmt: skip
    assert len(result.items) == 1
    assert result.errors == []


def test_absent_column_is_a_file_level_warning_and_each_row_misses_it() -> None:
    result = read_table("a.csv", csv_bytes([["一级事项", "二级事项"], ["甲", "乙"]]))
    assert (0, "basis") in problems(result, "warning")
    assert (2, "basis") in problems(result, "missing")


def test_invalid_and_contradictory_values_are_errors() -> None:
    head1 = ["一级事项", "二级事项", "公开方式", None, "公开对象", None]
    head2 = [None, None, "主动", "依申请", "全社会", "特定群体"]
    rows: list[Row] = [
        ["甲", "一", "√", "√", "√", None],
        ["甲", "二", "√", None, "√", "√"],
        ["甲", "三", "好", None, "√", None],
        [None, None, "√", None, "√", None],
    ]
    result = read_table("e.csv", csv_bytes([head1, head2, *rows]))
    assert problems(result, "error") == [(3, "method"), (4, "audience"), (5, "method"), (6, "name")]
    assert result.items == []
    assert result.rows == 4
    assert "主动" in result.errors[0].msg
    assert "依申请" in result.errors[0].msg


def test_unknown_method_value_and_level_value_are_errors() -> None:
    rows: list[Row] = [
        ["一级事项", "二级事项", "公开方式", "公开层级"],
        ["甲", "乙", "全文发布", "省级"],
    ]
    result = read_table("e.csv", csv_bytes(rows))
    assert problems(result, "error") == [(2, "method"), (2, "levels")]


def test_first_level_required_when_no_row_above_gives_one() -> None:
    rows: list[Row] = [["一级事项", "二级事项", "公开内容"], [None, "乙", "内容"]]
    result = read_table("e.csv", csv_bytes(rows))
    assert problems(result, "error") == [(2, "first_level")]


def test_blank_rows_are_skipped_and_row_numbers_stay_those_of_the_file() -> None:
    rows: list[Row] = [["一级事项", "二级事项"], [], ["甲", "乙"], [None, None], [None, "丙"]]
    result = read_table("b.csv", csv_bytes(rows))
    assert [(i.row, i.name, i.first_level) for i in result.items] == [
        (3, "乙", "甲"),
        (5, "丙", "甲"),
    ]


def test_formula_cell_is_an_error_naming_the_cell() -> None:
    rows: list[Row] = [["一级事项", "二级事项", "公开依据"], ["甲", "乙", None]]
    result = read_table("f.xlsx", xlsx(rows, C2='=CONCAT("《", "条例", "》")'))
    assert problems(result, "error") == [(2, "basis")]
    assert "C2" in result.errors[0].msg
    assert (2, "basis") not in problems(result, "missing")


def test_no_header_is_a_header_error() -> None:
    result = read_table("n.csv", "甲,乙\n丙,丁\n".encode())
    assert problems(result, "error") == [(0, "header")]


# ---- bad files ---------------------------------------------------------------------------


def bad(
    filename: str, data: bytes, *, max_bytes: int = 10_000_000, max_rows: int = 20_000
) -> BadFile:
    with pytest.raises(BadFile) as caught:
        read_table(filename, data, max_bytes=max_bytes, max_rows=max_rows)
    return caught.value


def test_empty_files_are_422() -> None:
    assert bad("a.csv", b"").status_code == 422
    assert bad("a.csv", b"\xef\xbb\xbf \r\n").status_code == 422
    assert bad("a.xlsx", xlsx([])).status_code == 422


def test_random_bytes_and_other_formats_are_415() -> None:
    assert bad("a.xlsx", os.urandom(4096) + b"\x00").status_code == 415
    assert bad("a.csv", b"%PDF-1.4 ...").status_code == 415
    assert bad("a.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500)).status_code == 415


def test_zip_that_is_not_xlsx_is_415() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        package.writestr("readme.txt", "hello")
    assert bad("a.xlsx", buffer.getvalue()).status_code == 415


def test_corrupt_xlsx_is_422() -> None:
    data = xlsx([["一级事项", "二级事项"], ["甲", "乙"]])
    assert bad("a.xlsx", data[: len(data) // 2]).status_code == 422


def test_macro_workbook_is_415() -> None:
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(xlsx([["一级事项", "二级事项"]]))) as source,
        zipfile.ZipFile(buffer, "w") as target,
    ):
        for info in source.infolist():
            target.writestr(info, source.read(info))
        target.writestr("xl/vbaProject.bin", b"\x00" * 16)
    failure = bad("a.xlsx", buffer.getvalue())
    assert failure.status_code == 415
    assert "xlsm" in failure.message
    assert bad("a.xlsm", xlsx([["一级事项", "二级事项"]])).status_code == 415


def test_password_protected_workbook_is_422() -> None:
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100) + "EncryptedPackage".encode("utf-16-le")
    failure = bad("a.xlsx", ole)
    assert failure.status_code == 422
    assert "密码" in failure.message


def test_size_and_row_caps_are_413() -> None:
    assert bad("a.csv", b"x" * 101, max_bytes=100).status_code == 413
    rows: list[Row] = [["一级事项", "二级事项"], *[["甲", f"事项{i}"] for i in range(30)]]
    assert bad("a.csv", csv_bytes(rows), max_rows=29).status_code == 413
    assert bad("a.xlsx", xlsx(rows), max_rows=29).status_code == 413
    assert len(read_table("a.csv", csv_bytes(rows), max_rows=30).items) == 30


def test_title_row_above_a_csv_header_and_one_row_header_with_values() -> None:
    rows: list[Row] = [
        ["某街道义务教育领域基层政务公开标准目录", None, None, None, None],
        ["二级事项", "一级事项", "公开方式", "公开对象", "公开层级"],
        ["招生政策", "招生管理", "主动", "全社会", "县级/乡级"],
    ]
    result = read_table("t.csv", csv_bytes(rows))
    assert [(i.row, i.first_level, i.name, i.levels) for i in result.items] == [
        (3, "招生管理", "招生政策", ["县级", "乡级"])
    ]


def test_workbook_reads_the_first_sheet_with_a_catalogue_and_reports_the_others() -> None:
    workbook = Workbook()
    cover = workbook.active
    assert cover is not None
    cover.title = "说明"
    cover.append(["填表说明：请按标准目录填写"])
    workbook.create_sheet("空白")
    catalogue = workbook.create_sheet("目录")
    catalogue.append(["一级事项", "二级事项"])
    catalogue.append(["甲", "乙"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    result = read_table("w.xlsx", buffer.getvalue())
    assert [i.name for i in result.items] == ["乙"]
    sheet_warnings = [p.msg for p in result.problems if p.field == "file"]
    assert len(sheet_warnings) == 1
    assert "说明" in sheet_warnings[0]


def test_no_second_level_item_written_as_a_dash_takes_the_first_level_name() -> None:
    rows: list[Row] = [["一级事项", "二级事项", "公开内容"], ["征地管理政策", "—", "内容"]]
    result = read_table("d.csv", csv_bytes(rows))
    assert [(i.first_level, i.name) for i in result.items] == [("征地管理政策", "征地管理政策")]
    assert (2, "name") in problems(result, "warning")


def test_text_in_a_tick_column_is_an_error() -> None:
    head1 = ["一级事项", "二级事项", "公开层级", None]
    head2 = [None, None, "县级", "乡级"]
    result = read_table("k.csv", csv_bytes([head1, head2, ["甲", "乙", "县", None]]))
    assert problems(result, "error") == [(3, "levels")]


def test_unlabelled_column_with_data_is_reported() -> None:
    rows: list[Row] = [["一级事项", "二级事项", None], ["甲", "乙", "备注"]]
    result = read_table("u.csv", csv_bytes(rows))
    assert result.ignored_columns == ["第C列（无表头）"]


def test_first_level_merged_over_the_name_column_is_an_item_without_second_level() -> None:
    rows: list[Row] = [["一级事项", "二级事项", "公开内容"], ["征地管理政策", None, "内容"]]
    result = read_table("d.xlsx", xlsx(rows, ["A2:B2"]))
    assert [(i.first_level, i.name) for i in result.items] == [("征地管理政策", "征地管理政策")]


def test_a_merged_range_far_below_the_data_is_clipped_not_expanded() -> None:
    """Merged ranges come from the sheet XML (read-only load); one reaching a million rows
    down must not make a million grid rows."""
    rows: list[Row] = [["一级事项", "二级事项", "公开内容"], ["甲", "乙", "丙"], ["", "丁", "戊"]]
    buffer = io.BytesIO()
    # openpyxl would build a million cells to write such a range: edit the XML instead
    with (
        zipfile.ZipFile(io.BytesIO(xlsx(rows, ["A2:A3"]))) as source,
        zipfile.ZipFile(buffer, "w") as target,
    ):
        for info in source.infolist():
            content = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                assert b'ref="A2:A3"' in content
                content = content.replace(b'ref="A2:A3"', b'ref="A2:A1048576"')
            target.writestr(info, content)
    result = read_table("m.xlsx", buffer.getvalue())
    assert [(i.first_level, i.name) for i in result.items] == [("甲", "乙"), ("甲", "丁")]
    assert result.rows == 2
