"""The standard-table renderings: layout contract, escaping, determinism, losslessness."""

from __future__ import annotations

import csv
import io
import re
import time
import zipfile
from datetime import date
from typing import Any

import openpyxl
import pytest

from app.models.common import CHANNELS
from app.render.table import (
    AUDIENCE_COLUMNS,
    BOX_OFF,
    BOX_ON,
    CHECK,
    GROUP_CLOSE,
    GROUP_OPEN,
    LEVEL_COLUMNS,
    METHOD_COLUMNS,
    OTHER_SEPARATOR,
    TEXT_COLUMNS,
    CatalogueItem,
    CatalogueView,
    audience_cells,
    channel_lines,
    render_csv,
    render_html,
    render_tree,
    render_xlsx,
    sheet_title,
    table_rows,
)

HEADER_1 = [
    "序号",
    "公开事项",
    None,
    "公开内容（要素）",
    "公开依据",
    "公开时限",
    "公开主体",
    "公开渠道和载体",
    "公开对象",
    None,
    "公开方式",
    None,
    "公开层级",
    None,
]
HEADER_2 = [
    None,
    "一级事项",
    "二级事项",
    None,
    None,
    None,
    None,
    None,
    "全社会",
    "特定群体",
    "主动",
    "依申请",
    "县级",
    "乡级",
]


def make_item(**overrides: Any) -> CatalogueItem:
    item: CatalogueItem = {
        "first_level": "公共服务",
        "name": "法规文件",
        "content": "城乡规划相关法律法规、规章及规范性文件",
        "basis": "《中华人民共和国城乡规划法》",
        "time_limit": "信息形成或变更之日起20个工作日内",
        "responsible_body": "区自然资源局",
        "method": "主动",
        "channels": ["政府网站", "政务服务中心"],
        "audience": "全社会",
        "levels": ["县级", "乡级"],
        "position": 1,
    }
    item.update(overrides)  # type: ignore[typeddict-item]
    return item


def make_view(items: list[CatalogueItem], **overrides: Any) -> CatalogueView:
    view: CatalogueView = {
        "unit_code": "350203",
        "unit_name": "思明区",
        "domain_code": "01",
        "domain_name": "城乡规划",
        "version": 2,
        "published_on": date(2020, 11, 5),
        "published_url": "http://www.siming.gov.cn/xxgk/jczwgk/cxgh/",
        "items": items,
    }
    view.update(overrides)  # type: ignore[typeddict-item]
    return view


def three_items() -> list[CatalogueItem]:
    """Two first-level groups (2 + 1 items); the last item is disclosed at village level."""
    return [
        make_item(position=1),
        make_item(
            name="政民互动",
            content="咨询、投诉, 建议\n（含办理结果）",
            basis=None,
            method="依申请",
            channels=["两微一端", "其他:村民微信群", "其他:公众号"],
            audience="特定群体:项目单位",
            levels=["县级"],
            position=2,
        ),
        make_item(
            first_level="规划编制",
            name="乡规划",
            time_limit=None,
            responsible_body=None,
            method=None,
            channels=[],
            audience="特定群体",
            levels=["乡级", "村级"],
            position=3,
        ),
    ]


def load_sheet(data: bytes) -> Any:
    return openpyxl.load_workbook(io.BytesIO(data)).active


def merges(sheet: Any) -> set[str]:
    return {str(r) for r in sheet.merged_cells.ranges}


# ---- cell logic ----------------------------------------------------------------------


def test_channel_lines_list_every_vocabulary_channel_in_order() -> None:
    lines = channel_lines(["政务服务中心", "政府网站"])
    assert lines == [
        f"{BOX_ON if c in {'政府网站', '政务服务中心'} else BOX_OFF}{c}" for c in CHANNELS
    ]


def test_channel_lines_give_other_one_line_per_entry() -> None:
    lines = channel_lines(["其他:村民微信群", "其他：公众号", "其他"])
    assert lines[-3:] == ["■其他：村民微信群", "■其他：公众号", "■其他"]
    assert "□其他" not in lines
    assert channel_lines(["政府网站"])[-1] == "□其他"


def test_channel_lines_keep_a_channel_outside_the_vocabulary() -> None:
    assert channel_lines(["公共资源交易平台"])[-2:] == ["■公共资源交易平台", "□其他"]


def test_no_channels_is_an_empty_cell() -> None:
    assert channel_lines([]) == []


def test_audience_cells() -> None:
    assert audience_cells("全社会") == (CHECK, "")
    assert audience_cells("特定群体") == ("", CHECK)
    assert audience_cells("特定群体:项目单位") == ("", "√（项目单位）")
    assert audience_cells(None) == ("", "")
    with pytest.raises(ValueError, match="audience"):
        audience_cells("村民")


def test_an_unknown_level_is_an_error_not_a_silent_gap() -> None:
    with pytest.raises(ValueError, match="镇级"):
        table_rows(make_view([make_item(levels=["镇级"])]))


def test_table_rows_number_items_and_write_first_level_once_per_group() -> None:
    rows = table_rows(make_view(three_items()))
    assert [r.cells[0] for r in rows] == ["1", "2", "3"]
    assert [r.cells[1] for r in rows] == ["公共服务", "", "规划编制"]
    assert [r.group_rows for r in rows] == [2, 0, 1]


# ---- XLSX ----------------------------------------------------------------------------


def test_xlsx_title_and_two_header_rows_with_their_merges() -> None:
    sheet = load_sheet(render_xlsx(make_view(three_items())))
    assert sheet.title == "城乡规划"
    assert sheet["A1"].value == "思明区城乡规划领域基层政务公开标准目录"
    rows = list(sheet.iter_rows(min_row=2, max_row=3, values_only=True))
    assert list(rows[0]) == [*HEADER_1, None]
    assert list(rows[1]) == [*HEADER_2, "村级"]
    assert merges(sheet) >= {
        "A1:O1",
        "A2:A3",
        "B2:C2",
        "D2:D3",
        "E2:E3",
        "F2:F3",
        "G2:G3",
        "H2:H3",
        "I2:J2",
        "K2:L2",
        "M2:O2",
    }
    assert sheet["A2"].font.b
    assert sheet["A2"].alignment.horizontal == "center"
    assert sheet["H5"].border.left.style == "thin"
    assert sheet["H5"].alignment.wrap_text
    assert sheet.freeze_panes == "A4"
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.page_setup.fitToWidth == 1
    assert sheet.sheet_properties.pageSetUpPr.fitToPage


def test_xlsx_data_rows_and_first_level_merged_over_its_group() -> None:
    sheet = load_sheet(render_xlsx(make_view(three_items())))
    rows = [list(r) for r in sheet.iter_rows(min_row=4, values_only=True)]
    assert len(rows) == 3
    assert rows[0][:3] == [1, "公共服务", "法规文件"]
    assert rows[1][:4] == [2, None, "政民互动", "咨询、投诉, 建议\n（含办理结果）"]
    assert rows[1][4] is None  # missing basis
    assert rows[1][7].split("\n")[-2:] == ["■其他：村民微信群", "■其他：公众号"]
    assert rows[1][8:] == [None, "√（项目单位）", None, "√", "√", None, None]
    assert rows[2][1] == "规划编制"
    assert rows[2][5:8] == [None, None, None]  # no time limit, body or channels yet
    assert rows[2][8:] == [None, "√", None, None, None, "√", "√"]
    assert "B4:B5" in merges(sheet)
    assert not any(r.startswith("B6") for r in merges(sheet))


def test_xlsx_without_village_level_has_two_level_columns() -> None:
    sheet = load_sheet(render_xlsx(make_view([make_item()])))
    assert sheet.max_column == 14
    assert [c.value for c in sheet[3]] == HEADER_2
    assert "M2:N2" in merges(sheet)
    assert "A1:N1" in merges(sheet)


def test_xlsx_never_stores_a_formula() -> None:
    data = render_xlsx(make_view([make_item(name="=SUM(A1:A9)", content="=HYPERLINK(1)")]))
    sheet = load_sheet(data)
    assert sheet["C4"].value == "=SUM(A1:A9)"
    assert sheet["C4"].data_type == "s"
    assert sheet["D4"].data_type == "s"
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert "<f>" not in archive.read("xl/worksheets/sheet1.xml").decode()


def test_xlsx_drops_control_characters_xml_cannot_hold() -> None:
    sheet = load_sheet(render_xlsx(make_view([make_item(name="法规\x01文件\x0b")])))
    assert sheet["C4"].value == "法规文件"


def test_xlsx_bytes_do_not_depend_on_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    view = make_view(three_items())
    first = render_xlsx(view)
    monkeypatch.setattr(time, "time", lambda: 2_000_000_000.0)
    assert render_xlsx(view) == first
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        core = archive.read("docProps/core.xml").decode()
    assert "2020-11-05T00:00:00Z" in core


def test_xlsx_sheet_name_follows_excel_rules() -> None:
    assert sheet_title("a/b:c*d?[e]\\f") == "a_b_c_d__e__f"
    assert len(sheet_title("很长的领域名称" * 10)) == 31
    assert sheet_title(" ") == "目录"
    sheet = load_sheet(render_xlsx(make_view([], domain_name="城乡/规划")))
    assert sheet.title == "城乡_规划"


def read_back(data: bytes) -> list[dict[str, Any]]:
    """A minimal importer built only from the exported constants: proves nothing is lost."""
    sheet = load_sheet(data)
    leaves = [
        top if bottom is None else bottom
        for top, bottom in zip(
            *sheet.iter_rows(min_row=2, max_row=3, values_only=True), strict=True
        )
    ]
    items: list[dict[str, Any]] = []
    first_level = None
    for values in sheet.iter_rows(min_row=4, values_only=True):
        row = dict(zip(leaves, values, strict=True))
        first_level = row["一级事项"] or first_level
        channels: list[str] = []
        for line in (row["公开渠道和载体"] or "").split("\n"):
            if line.startswith(BOX_ON):
                channels.append(line[1:].replace(OTHER_SEPARATOR, ":", 1))
        audience = None
        if row[AUDIENCE_COLUMNS[0]]:
            audience = AUDIENCE_COLUMNS[0]
        elif specific := row[AUDIENCE_COLUMNS[1]]:
            group = specific.removeprefix(CHECK).removeprefix(GROUP_OPEN).removesuffix(GROUP_CLOSE)
            audience = f"特定群体:{group}" if group else "特定群体"
        items.append(
            {
                "first_level": first_level,
                **{key: row[label] for label, key in TEXT_COLUMNS},
                "method": next((m for m in METHOD_COLUMNS if row[m]), None),
                "channels": channels,
                "audience": audience,
                "levels": [level for level in LEVEL_COLUMNS if row.get(level)],
                "position": row["序号"],
            }
        )
    return items


def test_xlsx_reads_back_to_the_same_items() -> None:
    items = three_items()
    assert read_back(render_xlsx(make_view(items))) == items


# ---- CSV -----------------------------------------------------------------------------


def test_csv_is_utf8_with_bom_and_crlf_and_has_the_two_header_rows() -> None:
    data = render_csv(make_view(three_items()))
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert text.count("\r\n") >= 5
    assert not re.search(r"[^\r]\n(?=\d+,)", text)  # every record ends in CRLF
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == [h or "" for h in HEADER_1] + [""]
    assert rows[1] == [h or "" for h in HEADER_2] + ["村级"]
    assert len(rows) == 5


def test_csv_data_rows_quote_commas_quotes_and_newlines() -> None:
    items = three_items()
    items[0]["basis"] = '《规划法》第"一"条,第二条'
    text = render_csv(make_view(items)).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))[2:]
    assert [r[1] for r in rows] == ["公共服务", "", "规划编制"]
    assert rows[0][4] == '《规划法》第"一"条,第二条'
    assert rows[1][3] == "咨询、投诉, 建议\n（含办理结果）"
    assert rows[1][7].split("\n")[0] == "□政府网站"
    assert rows[2][7] == ""
    assert rows[2][8:] == ["", "√", "", "", "", "√", "√"]


# ---- HTML ----------------------------------------------------------------------------


def test_html_is_a_complete_phone_friendly_page() -> None:
    page = render_html(make_view(three_items())).decode()
    assert page.startswith("<!doctype html>")
    assert '<html lang="zh-CN">' in page
    assert 'name="viewport"' in page
    assert "<title>思明区城乡规划领域基层政务公开标准目录</title>" in page
    assert "overflow: auto" in page
    assert "@media print" in page
    assert "<script" not in page
    assert "<link" not in page


def test_html_header_spans_and_first_level_rowspan() -> None:
    page = render_html(make_view(three_items())).decode()
    assert '<th scope="col" rowspan="2">序号</th>' in page
    assert '<th scope="col" colspan="2">公开事项</th>' in page
    assert '<th scope="col" colspan="3">公开层级</th>' in page
    assert '<td class="first" data-label="一级事项" rowspan="2">公共服务</td>' in page
    assert 'data-label="公开对象：全社会"' in page  # phones show each value under its name
    assert '<td class="first" data-label="一级事项">规划编制</td>' in page
    assert page.count('class="first"') == 2
    assert "■其他：村民微信群" in page
    assert '<span class="off">□政府公报</span>' in page
    assert "√（项目单位）" in page


def test_html_escapes_every_value() -> None:
    evil = "<script>alert(1)</script>"
    view = make_view(
        [make_item(first_level=evil, name=evil, basis="\"&'", audience=f"特定群体:{evil}")],
        unit_name=evil,
        published_url='http://x.gov.cn/?a=1&b="><script>',
    )
    page = render_html(view).decode()
    assert "<script" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&#34;&amp;&#39;" in page
    assert 'href="http://x.gov.cn/?a=1&amp;b=&#34;&gt;&lt;script&gt;"' in page


def test_html_shows_version_date_and_url_as_a_link() -> None:
    page = render_html(make_view([make_item()])).decode()
    assert "第2版" in page
    assert "2020-11-05" in page
    assert '<a href="http://www.siming.gov.cn/xxgk/jczwgk/cxgh/">' in page


def test_html_never_links_a_javascript_url() -> None:
    page = render_html(make_view([], published_url="javascript:alert(1)")).decode()
    assert "<a " not in page
    assert "javascript:alert(1)" in page


def test_html_draft_has_no_version_date_or_url() -> None:
    page = render_html(make_view([], version=None, published_on=None, published_url=None))
    assert "草稿" in page.decode()
    assert b"<a " not in page
    assert "发布日期".encode() not in page


# ---- tree and empty catalogue --------------------------------------------------------


def test_tree_nests_items_under_first_level_in_order() -> None:
    items = three_items()
    tree = render_tree(make_view(items))
    assert tree["published_on"] == "2020-11-05"
    assert tree["version"] == 2
    assert [(g["name"], g["position"]) for g in tree["first_level_items"]] == [
        ("公共服务", 1),
        ("规划编制", 2),
    ]
    assert tree["first_level_items"][0]["items"] == items[:2]
    tree["first_level_items"][0]["items"][0]["channels"].append("其他")
    assert items[0]["channels"] == ["政府网站", "政务服务中心"]


def test_empty_catalogue_renders_headers_only() -> None:
    view = make_view([], version=None, published_on=None, published_url=None)
    sheet = load_sheet(render_xlsx(view))
    assert sheet.max_row == 3
    assert sheet.max_column == 14
    rows = list(csv.reader(io.StringIO(render_csv(view).decode("utf-8-sig"), newline="")))
    assert rows == [[h or "" for h in HEADER_1], [h or "" for h in HEADER_2]]
    assert "暂无事项" in render_html(view).decode()
    assert render_tree(view)["first_level_items"] == []
