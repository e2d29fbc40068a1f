"""The layouts real offices publish, each read from a table of that shape built here
(no published table is copied): level columns under other names, words instead of ticks,
other tick marks, channel lists, structural variants and header slips. Every reading
shows in the result's columns/notes, what the dry run reports."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from app.spreadsheet import ImportResult, read_table
from tests.test_spreadsheet_reader import Row, csv_bytes, messages, problems, xlsx

BASIS = "《中华人民共和国政府信息公开条例》"


def read_csv(rows: Sequence[Row]) -> ImportResult:
    return read_table("t.csv", csv_bytes(rows))


def reading(result: ImportResult, column: str) -> tuple[str, str, str]:
    """(header, field, value) of one column as the dry run reports it."""
    found = next(c for c in result.columns if c.column == column)
    return found.header, found.field, found.value


def row_warnings(result: ImportResult) -> list[tuple[int, str]]:
    """Warnings about rows (the absent columns' file-level warnings left out)."""
    return [(row, field) for row, field in problems(result, "warning") if row > 0]


def names(result: ImportResult) -> list[tuple[str, str]]:
    return [(i.first_level, i.name) for i in result.items]


# ---- level columns under other names -------------------------------------------------


@pytest.mark.parametrize(
    ("subs", "ticks", "levels"),
    [
        (["区级", "乡级"], ["√", "√"], ["县级", "乡级"]),
        (["区级", "镇街级"], ["", "√"], ["乡级"]),
        (["市级", "镇(街)级"], ["√", ""], ["县级"]),
        (["县级", "乡镇级"], ["√", "√"], ["县级", "乡级"]),
        (["乡镇级", "嘎查(社区)级"], ["√", "√"], ["乡级", "村级"]),
        (["市级", "镇街乡", "村"], ["√", "√", "√"], ["县级", "乡级", "村级"]),
        (["乡级"], ["√"], ["乡级"]),
        (["街道"], ["√"], ["乡级"]),
        (["苏木级"], ["√"], ["乡级"]),
    ],
)
def test_level_columns_are_read_by_the_unit_kind_they_name(
    subs: list[str], ticks: list[str], levels: list[str]
) -> None:
    head1 = ["一级事项", "二级事项", "公开层级", *[None] * (len(subs) - 1)]
    head2 = [None, None, *subs]
    result = read_csv([head1, head2, ["政策文件", "规范性文件", *ticks]])
    assert result.errors == []
    assert result.items[0].levels == levels
    assert [reading(result, c)[1] for c in "CDE"[: len(subs)]] == ["levels"] * len(subs)


def test_a_city_level_column_says_it_was_read_as_county_level() -> None:
    head1 = ["一级事项", "二级事项", "公开层级", None]
    head2 = [None, None, "市级", "镇(街)级"]
    result = read_csv([head1, head2, ["政策文件", "规范性文件", "√", ""]])
    assert reading(result, "C") == ("公开层级/市级", "levels", "县级")
    note = next(c.note for c in result.columns if c.column == "C")
    assert "县级市" in note


def test_no_level_column_imports_without_levels_and_says_so() -> None:
    result = read_csv([["一级事项", "二级事项", "公开内容"], ["政策文件", "规章", "全文"]])
    assert result.errors == []
    assert result.items[0].levels == []
    assert any("没有公开层级列" in note for note in result.notes)


# ---- words instead of ticks ------------------------------------------------------------


def test_audience_method_and_level_written_as_words() -> None:
    head = ["一级事项", "二级事项", "公开对象", "公开方式", "公开层级"]
    rows: list[Row] = [
        head,
        ["法律服务", "法律援助", "法律援助申请人", "依申请公开", "区级"],
        ["法律服务", "法治宣传", "全社会", "主动公开", "区级、镇级"],
        ["法律服务", "公证", "特定群体", "主动", "镇街"],
    ]
    result = read_csv(rows)
    assert result.errors == []
    assert [(i.audience, i.method, i.levels) for i in result.items] == [
        ("特定群体:法律援助申请人", "依申请", ["县级"]),
        ("全社会", "主动", ["县级", "乡级"]),
        ("特定群体", "主动", ["乡级"]),
    ]
    # The group written in place of 特定群体 is read so, and the dry run says so.
    assert row_warnings(result) == [(2, "audience")]
    assert "C2" in messages(result)


def test_audience_columns_naming_groups_of_people() -> None:
    head1 = ["一级事项", "二级事项", "公开对象", None, None]
    head2 = [None, None, "全社会", "法律援助申请人", "社区居民"]
    rows: list[Row] = [
        head1,
        head2,
        ["法律服务", "法律援助", "", "√", ""],
        ["法律服务", "调解", "", "", "√"],
        ["法律服务", "宣传", "√", "", ""],
    ]
    result = read_csv(rows)
    assert result.errors == []
    assert [i.audience for i in result.items] == [
        "特定群体:法律援助申请人", "特定群体:社区居民", "全社会",
    ]  # fmt: skip
    assert reading(result, "E") == ("公开对象/社区居民", "audience", "特定群体:社区居民")


def test_public_attribute_column_gives_the_method_beside_a_form_column() -> None:
    head = ["一级事项", "二级事项", "公开方式", "公开属性"]
    rows: list[Row] = [head, ["政策文件", "规章", "全文发布", "主动公开"],
                       ["政策文件", "批复", "摘要发布", "依申请公开"]]  # fmt: skip
    result = read_csv(rows)
    assert result.errors == []
    assert [i.method for i in result.items] == ["主动", "依申请"]
    assert reading(result, "C") == ("公开方式", "ignored", "")
    assert reading(result, "D") == ("公开属性", "method", "")


def test_an_unrecognised_word_is_a_row_error_naming_the_cell() -> None:
    head = ["一级事项", "二级事项", "公开对象", "公开方式", "公开层级"]
    rows: list[Row] = [head, ["政策文件", "规章", "主动", "全文发布", "省级"]]
    result = read_csv(rows)
    assert sorted(problems(result, "error")) == [(2, "audience"), (2, "levels"), (2, "method")]
    errors = [p.msg for p in result.errors]
    assert sorted(msg.split("：")[0] for msg in errors) == ["单元格 C2", "单元格 D2", "单元格 E2"]
    assert result.items == []


# ---- tick marks --------------------------------------------------------------------------


@pytest.mark.parametrize("mark", ["√", "✓", "●", "■", "▇", "▄", "◆", "是"])
def test_every_tick_mark_ticks(mark: str) -> None:
    head1 = ["一级事项", "二级事项", "公开对象", None, "公开方式", None]
    head2 = [None, None, "全社会", "特定群体", "主动", "依申请"]
    result = read_csv([head1, head2, ["政策文件", "规章", mark, "", "", mark]])
    assert result.errors == []
    assert (result.items[0].audience, result.items[0].method) == ("全社会", "依申请")


@pytest.mark.parametrize(("on", "off"), [("■", "□"), ("▄", "口"), ("◆", "◇")])
def test_channel_checklists_with_every_pair_of_boxes(on: str, off: str) -> None:
    head = ["一级事项", "二级事项", "公开渠道和载体（“■”表示必选项，“□”表示可选项）"]
    cell = f"{on}政府网站 {off}政府公报\n{on}两微一端\n{off}其他"
    result = read_csv([head, ["政策文件", "规章", cell]])
    assert result.errors == []
    assert result.items[0].channels == ["政府网站", "两微一端"]
    assert any("□" in note and "可选" in note for note in result.notes)


def test_bullets_in_content_cells_are_text_not_ticks() -> None:
    content = "●项目名称、建设地点\n〇项目进展（可选）"
    result = read_csv([["一级事项", "二级事项", "公开内容"], ["重大项目", "审批信息", content]])
    assert result.items[0].content == content


# ---- channels ----------------------------------------------------------------------------


def test_channel_checklist_split_over_two_cells_xlsx_and_csv() -> None:
    head = ["一级事项", "二级事项", "公开渠道和载体", None, "公开方式"]
    row = ["政策文件", "规章", "■政府网站\n□政府公报", "■政务服务中心\n□其他", "主动"]
    from_xlsx = read_table("s.xlsx", xlsx([head, row], ["C1:D1"]))
    from_csv = read_csv([head, row])
    for result in (from_xlsx, from_csv):
        assert result.errors == []
        assert result.items[0].channels == ["政府网站", "政务服务中心"]
        assert result.ignored_columns == []
        assert reading(result, "D")[1] == "channels"


def test_channels_split_on_every_separator_real_tables_use() -> None:
    cells = [
        "1.政府网站 2.两微一端 3.政务服务中心",
        "1.政府网站2.两微一端",
        "政府网站 政务服务中心",
        "政府网站、政务服务中心；两微一端",
        "政府网站/两微一端",
        "政府网站\n公开查阅点",
        "政府网站|公开查阅点",
        "政府网站，两微一端;公开查阅点",
    ]
    result = read_csv([["一级事项", "二级事项", "公开渠道"]] + [["甲", c, c] for c in cells])
    assert result.errors == []
    assert [i.channels for i in result.items] == [
        ["政府网站", "两微一端", "政务服务中心"],
        ["政府网站", "两微一端"],
        ["政府网站", "政务服务中心"],
        ["政府网站", "两微一端", "政务服务中心"],
        ["政府网站", "两微一端"],
        ["政府网站", "公开查阅点"],
        ["政府网站", "公开查阅点"],
        ["政府网站", "两微一端", "公开查阅点"],
    ]
    assert row_warnings(result) == []


def test_office_channels_keep_their_wording_and_the_warning_names_the_likely_entry() -> None:
    head = ["一级事项", "二级事项", "公开渠道"]
    rows: list[Row] = [
        head,
        ["甲", "一", "政府网站|街道文化站/(社区)综合性文化服务中心公示栏"],
        ["甲", "二", "政府网站 政务服务中心"],
        ["甲", "三", "■某某县司法局公众号\n■征地信息公开平台\n■办税服务厅\n□政府公报"],
        ["甲", "四", "政府服务中心、政府门户网站"],
        ["甲", "五", "发布会/听证会、入户/现场、社区/企事业单位/村公示栏（电子屏）"],
    ]
    result = read_csv(rows)
    assert result.errors == []
    assert [i.channels for i in result.items] == [
        ["政府网站", "其他:街道文化站/(社区)综合性文化服务中心公示栏"],
        ["政府网站", "政务服务中心"],
        ["其他:办税服务厅", "其他:征地信息公开平台", "其他:某某县司法局公众号"],
        ["其他:政府服务中心", "其他:政府门户网站"],
        ["发布会/听证会", "入户/现场", "社区/企事业单位/村公示栏(电子屏)"],
    ]
    warnings = {p.msg.split(" / ")[0] for p in result.problems if p.field == "channels"}
    assert any("街道文化站" in w and "社区/企事业单位/村公示栏(电子屏)" in w for w in warnings)
    assert any("某某县司法局公众号" in w and "两微一端" in w for w in warnings)
    assert any("办税服务厅" in w and "政务服务中心" in w for w in warnings)
    assert any("政府服务中心" in w and "可能是指渠道目录中的“政务服务中心”" in w for w in warnings)
    assert any("政府门户网站" in w and "可能是指渠道目录中的“政府网站”" in w for w in warnings)
    assert row_warnings(result) == [(r, "channels") for r in (2, 4, 4, 4, 5, 5)]


# ---- structure ---------------------------------------------------------------------------


def test_title_row_and_header_rows_repeated_before_every_data_row() -> None:
    head1 = ["序号", "公开事项", None, "公开内容", "公开方式", None]
    head2 = [None, "一级事项", "二级事项", None, "主动", "依申请"]
    rows: list[Row] = [
        ["某某镇政务公开标准目录", None, None, None, None, None],
        head1, head2, [1, "政策文件", "规章", "全文", "√", ""],
        head1, head2, [2, "政策文件", "批复", "摘要", "", "√"],
    ]  # fmt: skip
    result = read_csv(rows)
    assert result.errors == []
    assert names(result) == [("政策文件", "规章"), ("政策文件", "批复")]
    assert [i.method for i in result.items] == ["主动", "依申请"]
    assert any("第 5、6 行" in note for note in result.notes)
    assert any("标题" in note for note in result.notes)


def test_seq_as_codes_after_the_first_level_column() -> None:
    head = ["一级事项", "序号", "二级事项", "公开内容"]
    rows: list[Row] = [head, ["政策文件", "0505", "规章", "全文"], ["", "0506", "批复", "摘要"]]
    result = read_csv(rows)
    assert result.errors == []
    assert names(result) == [("政策文件", "规章"), ("政策文件", "批复")]
    assert reading(result, "B") == ("序号", "seq", "")


def test_first_and_second_level_in_one_column() -> None:
    head = ["序号", "一级/二级事项", "公开内容"]
    rows: list[Row] = [head, [1, "政策文件/规章", "全文"], [None, "招生管理", None],
                       [2, "招生政策", "简章"]]  # fmt: skip
    result = read_csv(rows)
    assert result.errors == []
    assert names(result) == [("政策文件", "规章"), ("招生管理", "招生政策")]


def test_first_level_only_is_the_items_name() -> None:
    result = read_csv([["一级事项", "公开内容"], ["政策文件", "全文"], ["规划信息", "规划"]])
    assert result.errors == []
    assert names(result) == [("政策文件", "政策文件"), ("规划信息", "规划信息")]
    assert reading(result, "A")[1] == "name"


def test_third_level_joins_the_name_and_the_dry_run_says_so() -> None:
    head1 = ["公开事项", None, None, "公开内容"]
    head2 = ["一级事项", "二级事项", "三级事项", None]
    rows: list[Row] = [head1, head2, ["行政许可", "建设许可", "规划许可", "许可决定"],
                       [None, "建设许可", "施工许可", "许可决定"]]  # fmt: skip
    result = read_table("t.xlsx", xlsx(rows, ["A3:A4", "B3:B4"]))
    assert result.errors == []
    assert names(result) == [
        ("行政许可", "建设许可（规划许可）"),
        ("行政许可", "建设许可（施工许可）"),
    ]
    third = next(c for c in result.columns if c.column == "C")
    assert third.field == "name"
    assert "并入事项名称" in third.note


def test_extra_columns_are_reported_never_a_failure() -> None:
    extra = ["备注", "公开类别", "相应领域", "咨询电话", "监督举报电话", "链接"]
    head = ["一级事项", "二级事项", "公开内容", *extra]
    row = ["政策文件", "规章", "全文", "无", "主动", "政策", "0592-1", "12345", "http://x"]
    result = read_csv([head, row])
    assert result.errors == []
    assert result.ignored_columns == extra
    assert [reading(result, c)[1] for c in "DEFGHI"] == ["ignored"] * 6


def test_seq_first_level_and_basis_merged_over_several_rows() -> None:
    head = ["序号", "一级事项", "二级事项", "公开依据"]
    rows: list[Row] = [head, [1, "政策文件", "规章", BASIS], [None, None, "批复", None],
                       [None, None, "通知", None]]  # fmt: skip
    result = read_table("m.xlsx", xlsx(rows, ["A2:A4", "B2:B4", "D2:D4"]))
    assert result.errors == []
    assert names(result) == [("政策文件", "规章"), ("政策文件", "批复"), ("政策文件", "通知")]
    assert [i.basis for i in result.items] == [BASIS] * 3
    assert not any("沿用上一行" in note for note in result.notes)  # merged, not blank


def test_a_blank_first_level_takes_the_one_above_and_the_dry_run_says_so() -> None:
    head = ["一级事项", "二级事项", "公开内容"]
    rows: list[Row] = [
        head,
        ["政策文件", "规章", "全文"],
        ["", "批复", "摘要"],
        ["", "通知", "全文"],
    ]
    result = read_csv(rows)
    assert names(result) == [("政策文件", "规章"), ("政策文件", "批复"), ("政策文件", "通知")]
    assert any("沿用上一行" in note and "第 3、4 行" in note for note in result.notes)


def test_line_breaks_and_wrap_spaces_inside_cells() -> None:
    head = ["一级事项", "二级事项", "公开主体", "公开内容"]
    rows: list[Row] = [
        head,
        ["政策\n文件", "Land  Use 规划", "区自然资源\n局", "第一行  \n\n 第二行"],
    ]
    item = read_csv(rows).items[0]
    assert (item.first_level, item.name) == ("政策文件", "Land Use 规划")
    assert item.responsible_body == "区自然资源\n局"  # long text keeps its lines
    assert item.content == "第一行\n第二行"


# ---- header slips ------------------------------------------------------------------------


def test_a_duplicated_method_header_over_level_sub_headers_is_the_level_column() -> None:
    head1 = ["一级事项", "二级事项", "公开方式", None, "公开方式", None]
    head2 = [None, None, "主动", "依申请", "区级", "镇(街)级"]
    result = read_csv([head1, head2, ["政策文件", "规章", "√", "", "√", "√"]])
    assert result.errors == []
    item = result.items[0]
    assert (item.method, item.levels) == ("主动", ["县级", "乡级"])
    assert reading(result, "E") == ("公开方式/区级", "levels", "县级")
    assert "按其下的" in next(c.note for c in result.columns if c.column == "E")


def test_header_slips_and_bracket_widths() -> None:
    head1 = [
        "一级事项",
        "二级事项",
        "公开内容",
        "公开对象",
        None,
        "公开方式",
        None,
        "公开层级(县级)",
    ]
    head2 = [None, None, None, "全社会", "特定群众", "主动", "申请", None]
    row = ["政策文件", "规章", "全文", "", "√", "", "√", "√"]
    result = read_csv([head1, head2, row])
    assert result.errors == []
    item = result.items[0]
    assert (item.content, item.audience, item.method, item.levels) == (
        "全文", "特定群体", "依申请", ["县级"],
    )  # fmt: skip


# ---- the two header layouts of issue 10 --------------------------------------------------


def test_public_items_over_short_level_sub_headers() -> None:
    head1 = ["序号", "公开事项", None, "公开内容", "公开依据"]
    head2 = [None, "一级", "二级", None, None]
    result = read_csv([head1, head2, [1, "政策文件", "规章", "全文", BASIS]])
    assert result.errors == []
    assert names(result) == [("政策文件", "规章")]
    assert reading(result, "B") == ("公开事项/一级", "first_level", "")
    assert reading(result, "C") == ("公开事项/二级", "name", "")


def test_one_header_row_with_sub_choices_in_brackets() -> None:
    head = [
        "序号", "公开事项（一级）", "公开事项（二级）", "公开内容（要素）", "公开对象（全社会）",
        "公开对象（特定群体）", "公开方式（主动）", "公开方式(依申请)", "公开层级（县级）",
        "公开层级（乡级）",
    ]  # fmt: skip
    rows: list[Row] = [
        head,
        [1, "政策文件", "规章", "全文", "√", "", "√", "", "√", "√"],
        [2, "政策文件", "批复", "摘要", "", "√（申请人）", "", "√", "", "√"],
    ]
    result = read_csv(rows)
    assert result.errors == []
    assert [(i.first_level, i.name, i.audience, i.method, i.levels) for i in result.items] == [
        ("政策文件", "规章", "全社会", "主动", ["县级", "乡级"]),
        ("政策文件", "批复", "特定群体:申请人", "依申请", ["乡级"]),
    ]
    assert reading(result, "E") == ("公开对象（全社会）", "audience", "全社会")
    assert reading(result, "H") == ("公开方式(依申请)", "method", "依申请")


# ---- invisible text and neutralised formulas ----------------------------------------------


def test_invisible_characters_are_stripped_and_blank_is_blank() -> None:
    head = ["一级事项", "二级事项", "公开内容", "公开主体"]
    rows: list[Row] = [
        head,
        ["\ufeff政策\u200b文件", "规\u200d章", "\u200b", "区\u00a0司法局"],
        ["\ufeff\u200d", "批复", "摘要", "区司法局"],
    ]
    result = read_csv(rows)
    first, second = result.items
    assert (first.first_level, first.name, first.content) == ("政策文件", "规章", None)
    assert first.responsible_body == "区 司法局"
    assert second.first_level == "政策文件"  # blank after stripping: taken from above
    assert (2, "content") in problems(result, "missing")  # "\u200b" is no content


def test_the_exports_formula_guard_is_taken_off_exactly() -> None:
    head = ["一级事项", "二级事项", "公开内容", "公开依据", "公开时限"]
    row = ["政策文件", "'@某某", '\'=HYPERLINK("http://x")', "'-《条例》", "'不是公式"]
    item = read_csv([head, row]).items[0]
    assert (item.name, item.content, item.basis) == (
        "@某某", '=HYPERLINK("http://x")', "-《条例》",
    )  # fmt: skip
    assert item.time_limit == "'不是公式"  # only before = + - @ tab CR
