"""Find the header of a catalogue table and map its columns to ITEM fields, by label.

Real tables put a title above the header, write the header on one or two rows (公开事项
over 一级事项/二级事项, 公开对象 over 全社会/特定群体, …) or on one row with the sub-choice in
brackets (公开对象（全社会）), order columns as they like and add their own. Columns are
therefore recognised by their labels, never by their position, and every column's reading
is reported (ColumnReading) so the dry run can show how each header was understood.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from openpyxl.utils import get_column_letter

from app.models.common import ATTRIBUTE_LABELS, OTHER_CHANNEL, SPECIFIC_AUDIENCE
from app.rules.attributes import DRAFTABLE_ATTRIBUTES
from app.spreadsheet import values
from app.spreadsheet.models import ColumnReading, Grid, ImportProblem

Kind = Literal[
    "seq",
    "first_level",
    "name",
    "item",
    "pair",
    "third",
    "text",
    "channels",
    "channel",
    "audience",
    "audience_tick",
    "method",
    "method_tick",
    "levels",
    "level_tick",
]

# Header label prefixes (after values.label()), most specific first.
FIELD_PREFIXES: tuple[tuple[str, Kind, str], ...] = (
    ("序号", "seq", "seq"),
    ("编号", "seq", "seq"),
    ("一级事项/二级事项", "pair", "name"),
    ("一级/二级", "pair", "name"),
    ("一级事项", "first_level", "first_level"),
    ("一级目录", "first_level", "first_level"),
    ("二级事项", "name", "name"),
    ("二级目录", "name", "name"),
    ("事项名称", "name", "name"),
    ("三级事项", "third", "name"),
    ("三级目录", "third", "name"),
    ("公开事项", "item", "name"),
    ("公开内容", "text", "content"),
    ("公开依据", "text", "basis"),
    ("公开时限", "text", "time_limit"),
    ("公开主体", "text", "responsible_body"),
    ("公开渠道", "channels", "channels"),
    ("公开载体", "channels", "channels"),
    ("公开对象", "audience", "audience"),
    ("公开方式", "method", "method"),
    ("公开属性", "method", "method"),
    ("公开层级", "levels", "levels"),
)
# What the sub-headers under 公开事项 name (一级 / 二级 / 三级, with or without 事项).
ITEM_SUBS: tuple[tuple[str, Kind, str], ...] = (
    ("一级/二级", "pair", "name"),
    ("一级", "first_level", "first_level"),
    ("二级", "name", "name"),
    ("事项名称", "name", "name"),
    ("三级", "third", "name"),
)
TICK_KINDS: dict[str, Kind] = {
    "audience": "audience_tick",
    "method": "method_tick",
    "levels": "level_tick",
}
GROUP_KINDS: frozenset[Kind] = frozenset({"item", "channels", "audience", "method", "levels"})
HEADER_SEARCH_ROWS = 12
"""The header is looked for this far down: title rows and notes sit above it."""


@dataclass(frozen=True)
class Column:
    index: int
    kind: Kind
    field: str
    """The ITEM field the column feeds ("seq" for 序号)."""
    value: str = ""
    """For a tick column the vocabulary value it ticks; for a channel column its channel."""


Meaning = tuple[Kind, str, str]
"""(kind, field, value) of one column; field "ignored" for a column read as nothing."""


@dataclass
class Layout:
    data_start: int
    """0-based index of the first row below the header."""
    columns: list[Column] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    problems: list[ImportProblem] = field(default_factory=list)
    readings: list[ColumnReading] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    header_rows: list[tuple[str, ...]] = field(default_factory=list)
    """The header rows' labels: a data row equal to one is the header repeated."""

    @property
    def found(self) -> bool:
        return bool(self.columns)

    def of(self, *kinds: Kind) -> list[Column]:
        return [c for c in self.columns if c.kind in kinds]

    def first(self, kind: Kind) -> Column | None:
        return next(iter(self.of(kind)), None)

    @property
    def single_item_column(self) -> bool:
        """公开事项 without a 一级/二级 split: its value is the item's name."""
        return self.first("item") is not None


def find_layout(grid: Grid) -> Layout:
    """The header's position and column map, or a layout with a header error."""
    head = _header_row(grid)
    if head is None:
        return Layout(
            data_start=0,
            problems=[
                _problem(
                    "error",
                    "header",
                    "未找到标准目录表头（至少需要“公开事项/二级事项”“公开内容”等两列）/ no "
                    "catalogue header found (needs at least two columns such as 公开事项 or "
                    "二级事项 and 公开内容)",
                )
            ],
        )
    tops = [cell.text for cell in grid[head]]
    subs = [cell.text for cell in grid[head + 1]] if head + 1 < len(grid) else []
    inherited = _inherit_group_labels(tops)
    if subs and _is_sub_header(inherited, subs, tops):
        # A blank under a group label belongs to the group only if row 2 labels it.
        tops = [
            group if sub.strip() else top
            for group, top, sub in zip(inherited, tops, subs, strict=False)
        ]
        layout = _map_columns(tops, subs, data_start=head + 2)
        layout.notes.append(
            f"表头为第 {head + 1}、{head + 2} 行（两行表头）/ the header is rows {head + 1} "
            f"and {head + 2} (two header rows)"
        )
    else:
        layout = _map_columns(tops, [""] * len(tops), data_start=head + 1)
        layout.notes.append(
            f"表头为第 {head + 1} 行（一行表头）/ the header is row {head + 1} (one header row)"
        )
    if any("□" in text and "可选" in text for text in (*tops, *subs)):
        layout.notes.append(
            "表头注明“■”为必选项、“□”为可选项：只导入■项，□项不算作已用渠道 / the header "
            "says ■ marks required and □ optional channels: only ■ channels are imported"
        )
    if head:
        layout.notes.append(
            f"表头上方的 {head} 行（标题等）未导入 / the {head} row(s) above the header "
            "(title, notes) are not imported"
        )
    header = range(head, layout.data_start)
    layout.header_rows = [tuple(values.label(cell.text) for cell in grid[r]) for r in header]
    _channel_continuations(grid, layout, header)
    _report_unlabelled(grid, layout, header)
    _check_required(layout)
    layout.readings.sort(key=lambda reading: (len(reading.column), reading.column))
    return layout


def _problem(severity: Literal["error", "warning"], where: str, msg: str) -> ImportProblem:
    return ImportProblem(row=0, field=where, msg=msg, severity=severity)


def _standalone(text: str) -> Meaning | None:
    """What a header label means on its own: (kind, field, value) or None.

    "公开对象（全社会）" is the one-row form of 公开对象 over 全社会: a group label with its
    sub-choice in brackets; "公开内容（要素）" is a plain label with an annotation.
    """
    if (split := values.bracketed(text)) is not None:
        group = _plain(split[0])
        if group is not None and group[0] in GROUP_KINDS:
            meaning = _under_group(split[0], split[1])
            verbatim = group[0] != "channels" or _verbatim_channel(split[1])
            if meaning is not None and meaning[1] != "ignored" and verbatim:
                return meaning
    return _plain(text)


def _verbatim_channel(text: str) -> bool:
    try:
        return values.channel(text).verbatim
    except ValueError:
        return False


def _plain(text: str) -> Meaning | None:
    flat = values.label(text)
    if not flat:
        return None
    for prefix, kind, name in FIELD_PREFIXES:
        if flat.startswith(prefix):
            return kind, name, ""
    if flat in values.AUDIENCE_LABELS:
        return "audience_tick", "audience", values.AUDIENCE_LABELS[flat]
    if flat in values.METHOD_LABELS:
        return "method_tick", "method", values.METHOD_LABELS[flat]
    if flat in values.LEVEL_LABELS:
        return "level_tick", "levels", values.LEVEL_LABELS[flat]
    try:
        read = values.channel(text)
    except ValueError:  # too long or not text at all: a header cell, not a channel name
        return None
    if read.verbatim and (flat == OTHER_CHANNEL or not read.value.startswith(OTHER_CHANNEL)):
        return "channel", "channels", read.value
    return None


def _header_row(grid: Grid) -> int | None:
    """The first row naming at least two different ITEM fields."""
    for index, row in enumerate(grid[:HEADER_SEARCH_ROWS]):
        fields = {
            m[1] for cell in row if (m := _standalone(cell.text)) and m[0] not in ("seq", "third")
        }
        if len(fields) >= 2:
            return index
    return None


def _inherit_group_labels(tops: list[str]) -> list[str]:
    """A CSV writes 公开对象 once over its two columns; give the blanks right of it its label."""
    result: list[str] = []
    current = ""
    for text in tops:
        if text.strip():
            meaning = _plain(text)
            current = text if meaning and meaning[0] in GROUP_KINDS else ""
            result.append(text)
        else:
            result.append(current)
    return result


def _under_group(top: str, sub: str) -> Meaning | None:
    """What a second-row label means under its first-row group label."""
    meaning = _plain(top)
    group = meaning[0] if meaning else None
    flat = values.label(sub)
    if group == "item":
        for prefix, kind, name in ITEM_SUBS:
            if flat.startswith(prefix):
                return kind, name, ""
        return ("item", "ignored", "") if flat.startswith("四级") else None
    if group == "channels":
        return "channel", "channels", values.channel(sub).value
    if group in TICK_KINDS:
        # Its own vocabulary first; then another group's: 公开方式 written twice where
        # the second is 公开层级 is recognised by its sub-headers 县级 / 乡级.
        for name in (group, *(g for g in TICK_KINDS if g != group)):
            if (value := _tick_value(name, sub, own=name == group)) is not None:
                return TICK_KINDS[name], name, value
        if group == "audience" and values.names_a_group(sub):
            # A column per group of people (法律援助申请人): each is a specific group.
            return "audience_tick", "audience", f"{SPECIFIC_AUDIENCE}:{values.short_text(sub)}"
        return TICK_KINDS[group], "ignored", ""
    return None


def _tick_value(group: str, sub: str, *, own: bool) -> str | None:
    """The value a sub-header names in a group's vocabulary. Under its own group any unit
    kind names a level (村, 街道); under another group only a label ending in 级 does, so
    that 社区居民 under 公开对象 is never read as 村级."""
    flat = values.label(sub)
    if group == "audience":
        return values.AUDIENCE_LABELS.get(flat)
    if group == "method":
        return values.METHOD_LABELS.get(flat)
    if not own and not flat.endswith("级"):
        return None
    return values.level_of(sub)


def _is_sub_header(tops: list[str], subs: list[str], own_tops: list[str]) -> bool:
    """Row 2 of a two-row header holds only labels: sub-labels under groups, or repeats
    of a label merged down from row 1. Data rows fail because they hold names and texts."""
    labelled = False
    for top, sub, own_top in zip(tops, subs, own_tops, strict=True):
        if not sub.strip() or values.label(sub) == values.label(own_top):
            continue
        if _under_group(top, sub) is not None:
            labelled = True
        elif _plain(sub) is None:
            return False
    return labelled


def _map_columns(tops: list[str], subs: list[str], *, data_start: int) -> Layout:
    layout = Layout(data_start=data_start)
    seen: set[tuple[str, str, str]] = set()
    # 公开属性 (主动/依申请) beside 公开方式: there 公开方式 holds 全文发布 / 摘要发布.
    has_attribute = any(values.label(t).startswith("公开属性") for t in (*tops, *subs))
    for index, (top, sub) in enumerate(zip(tops, subs, strict=True)):
        written = "/".join(dict.fromkeys(t.strip() for t in (top, sub) if t.strip()))
        letter = get_column_letter(index + 1)
        meaning = _meaning(top, sub)
        if meaning is None or meaning[1] == "ignored":
            if written:
                _ignore(layout, written, "不是标准目录的列", "not a catalogue column", letter)
            continue
        kind, name, value = meaning
        if kind == "method" and has_attribute and values.label(top).startswith("公开方式"):
            _ignore(
                layout,
                written,
                "本表的公开方式取自“公开属性”列，此列是发布形式（全文/摘要）",
                "公开属性 gives the method here; this column is the form (全文/摘要发布)",
                letter,
            )
            continue
        # A checklist split over two cells gives two 公开渠道 columns: both are read.
        if (kind, name, value) in seen and kind != "channels":
            _ignore(layout, written, "与前面的列重复", "it duplicates an earlier column", letter)
            continue
        seen.add((kind, name, value))
        layout.columns.append(Column(index, kind, name, value))
        layout.readings.append(
            ColumnReading(
                column=letter,
                header=written,
                field=name,
                value=value,
                note=_explain(kind, name, value, top, sub),
            )
        )
        if kind == "channel" and not values.channel(sub or top).verbatim:
            read = values.channel(sub or top)
            hint = f"，可能是指“{read.likely}”" if read.likely else ""
            hint_en = f"; probably {read.likely!r}" if read.likely else ""
            layout.problems.append(
                _problem(
                    "warning",
                    "channels",
                    f"渠道列“{written}”不是渠道目录中的写法，按“{value}”导入{hint} / channel "
                    f"column {written!r} is not a vocabulary entry; imported as {value!r}"
                    f"{hint_en}",
                )
            )
    return layout


def _meaning(top: str, sub: str) -> Meaning | None:
    if sub.strip() and values.label(sub) != values.label(top):
        return _under_group(top, sub) or _standalone(sub) or _standalone(top)
    return _standalone(top)


_KIND_NOTES: dict[Kind, str] = {
    "seq": "序号，不导入（事项按文件顺序编号）/ running number, not imported (items are "
    "numbered in file order)",
    "first_level": "一级事项；空白处沿用上一行 / first-level item; a blank takes the one above",
    "name": "二级事项名称 / the item's name",
    "item": "公开事项（不分一级/二级）：事项名称；一级事项取自其上方只填此列的分组行，没有则同名 "
    "/ item name; the first level is the group heading row above it, else the name itself",
    "pair": "一级、二级事项同列：“一级/二级”拆为两项；只写一项的行是分组行或事项名称 / first "
    "and second level in one column: 一级/二级 is split; a cell with one name is a group "
    "heading row or the item's name",
    "third": "三级事项：并入事项名称，写作“二级事项（三级事项）” / third-level item: joined "
    "into the item's name as 二级事项（三级事项）",
    "channels": "公开渠道和载体：■/□勾选表或渠道列表；不是渠道目录原文的写法按“其他:原文”导入 "
    "/ channels: a ■/□ checklist or a list; a name that is not a vocabulary entry is kept "
    "as 其他:<text>",
}


def _explain(kind: Kind, name: str, value: str, top: str, sub: str) -> str:
    """How one column is read, in words, for the dry run."""
    if kind in _KIND_NOTES:
        return _KIND_NOTES[kind]
    label = ATTRIBUTE_LABELS.get(name, name)
    if kind == "text" or kind in ("audience", "method", "levels"):
        return f"{label}（按单元格文字读取）/ {name}, read from the cell's words"
    if kind == "channel":
        return f"勾选即公开渠道“{value}” / a tick means channel {value!r}"
    note = f"勾选即{label}为“{value}” / a tick means {name} {value!r}"
    written = sub.strip() or (split[1] if (split := values.bracketed(top)) else top)
    group = _plain(top)
    if group is not None and group[1] not in (name, "channels") and group[0] in GROUP_KINDS:
        note += (
            f"（表头写作“{values.label(top)}”，按其下的“{written}”读作{label}）/ (headed "
            f"{values.label(top)!r}, read as {name} by its sub-header {written!r})"
        )
    elif kind == "level_tick" and values.label(written) not in (value, *values.LEVEL_LABELS):
        note += (
            f"（“{written}”按所指单位类别读作{value}：县级市、区为县级，镇、街、乡、苏木为乡级，"
            f"村、社区、嘎查为村级）/ ({written!r} names a unit of that kind)"
        )
    return note


def _ignore(layout: Layout, written: str, zh: str, en: str, letter: str) -> None:
    layout.ignored.append(written)
    layout.readings.append(
        ColumnReading(column=letter, header=written, field="ignored", note=f"{zh} / {en}")
    )
    layout.problems.append(
        _problem(
            "warning", "header", f"列“{written}”未导入：{zh} / column {written!r} ignored: {en}"
        )
    )


def _channel_continuations(grid: Grid, layout: Layout, header: range) -> None:
    """A ■/□ checklist split over two cells whose second header cell is blank (a CSV of
    a merged header): an unlabelled column right of 公开渠道 holding marks is read too."""
    mapped = {c.index for c in layout.columns}
    for column in layout.of("channels"):
        index = column.index + 1
        if index in mapped or index >= len(grid[header.start]):
            continue
        if any(grid[r][index].text.strip() for r in header):
            continue
        data = (row[index].text.strip() for row in grid[layout.data_start :])
        if any(text and text[0] in values.CHECKED | values.UNCHECKED for text in data):
            layout.columns.append(Column(index, "channels", "channels"))
            layout.readings.append(
                ColumnReading(
                    column=get_column_letter(index + 1),
                    header="",
                    field="channels",
                    note="无表头，但紧接公开渠道列且含■/□：同一渠道勾选表的后半 / no header, "
                    "but right of the channel column and holding ■/□: the rest of its checklist",
                )
            )


def _report_unlabelled(grid: Grid, layout: Layout, header: range) -> None:
    """A column without a label but with data is reported, not silently dropped."""
    mapped = {c.index for c in layout.columns}
    for index in range(len(grid[header.start])):
        labelled = any(grid[r][index].text.strip() for r in header)
        if index in mapped or labelled:  # a labelled column was reported by _map_columns
            continue
        if any(row[index].own for row in grid[layout.data_start :]):
            letter = get_column_letter(index + 1)
            _ignore(layout, f"第{letter}列（无表头）", "没有表头", "it has no header", letter)


def _check_required(layout: Layout) -> None:
    item, name = layout.first("item"), layout.first("name")
    if item is not None and name is not None:
        # 公开事项 next to a 二级事项 column can only be the first-level item.
        layout.columns[layout.columns.index(item)] = Column(
            item.index, "first_level", "first_level"
        )
        _reread(
            layout,
            item.index,
            "first_level",
            "公开事项与二级事项并列：读作一级事项 / "
            "公开事项 beside a 二级事项 column: read as the first-level item",
        )
    pair = layout.first("pair")
    if pair is not None and (name is not None or layout.first("first_level") is not None):
        layout.columns.remove(pair)
        _reread(
            layout,
            pair.index,
            "ignored",
            "已有一级或二级事项列，此列未导入 / a first- "
            "or second-level column exists; this one is not imported",
        )
    elif pair is not None:
        layout.columns[layout.columns.index(pair)] = Column(pair.index, "item", "name", "pair")
    third = layout.first("third")
    if third is not None and name is None and layout.first("item") is None:
        layout.columns[layout.columns.index(third)] = Column(third.index, "name", "name")
        _reread(
            layout,
            third.index,
            "name",
            "没有二级事项列：三级事项即事项名称 / no second-level column: the third level "
            "is the item's name",
        )
    first = layout.first("first_level")
    if first is not None and layout.first("name") is None and layout.first("item") is None:
        # A table of first-level items only: each is its own item.
        layout.columns[layout.columns.index(first)] = Column(first.index, "item", "name")
        _reread(
            layout,
            first.index,
            "name",
            "表中只有一级事项：一级事项即事项名称，只填此列的行是分组行 / only a first-level "
            "column: it is the item's name (a row holding nothing else is a group heading)",
        )
    if layout.first("name") is None and layout.first("item") is None:
        layout.problems.append(
            _problem(
                "error",
                "header",
                "缺少“二级事项”或“公开事项”列 / the table has no 二级事项 or 公开事项 column",
            )
        )
    if not layout.of("levels", "level_tick"):
        layout.notes.append(
            "表中没有公开层级列，事项不带层级 / no 公开层级 column: items carry no level"
        )
    present = {c.field for c in layout.columns}
    for attribute in DRAFTABLE_ATTRIBUTES:
        if attribute not in present:
            label = ATTRIBUTE_LABELS[attribute]
            layout.problems.append(
                _problem(
                    "warning",
                    attribute,
                    f"表中没有“{label}”列，各行此项均缺失 / the table has no {label} "
                    f"column; every item lacks {attribute}",
                )
            )


def _reread(layout: Layout, index: int, name: str, note: str) -> None:
    """Correct the reading of a column whose meaning the other columns decided."""
    letter = get_column_letter(index + 1)
    for position, reading in enumerate(layout.readings):
        if reading.column == letter:
            layout.readings[position] = reading.model_copy(update={"field": name, "note": note})
