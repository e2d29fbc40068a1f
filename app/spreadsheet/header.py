"""Find the header of a catalogue table and map its columns to ITEM fields, by label.

Real tables put a title above the header, write the header on one or two rows (公开事项
over 一级事项/二级事项, 公开对象 over 全社会/特定群体, …), order columns as they like and add
their own. Columns are therefore recognised by their labels, never by their position.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from openpyxl.utils import get_column_letter

from app.models.common import ATTRIBUTE_LABELS, OTHER_CHANNEL
from app.rules.attributes import DRAFTABLE_ATTRIBUTES
from app.spreadsheet import values
from app.spreadsheet.models import Grid, ImportProblem

Kind = Literal[
    "seq",
    "first_level",
    "name",
    "item",
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
    ("一级事项", "first_level", "first_level"),
    ("一级目录", "first_level", "first_level"),
    ("二级事项", "name", "name"),
    ("事项名称", "name", "name"),
    ("公开事项", "item", "name"),
    ("公开内容", "text", "content"),
    ("公开依据", "text", "basis"),
    ("公开时限", "text", "time_limit"),
    ("公开主体", "text", "responsible_body"),
    ("公开渠道", "channels", "channels"),
    ("公开载体", "channels", "channels"),
    ("公开对象", "audience", "audience"),
    ("公开方式", "method", "method"),
    ("公开层级", "levels", "levels"),
)
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


@dataclass
class Layout:
    data_start: int
    """0-based index of the first row below the header."""
    columns: list[Column] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    problems: list[ImportProblem] = field(default_factory=list)

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
    else:
        layout = _map_columns(tops, [""] * len(tops), data_start=head + 1)
    _report_unlabelled(grid, layout, range(head, layout.data_start))
    _check_required(layout)
    return layout


def _problem(severity: Literal["error", "warning"], where: str, msg: str) -> ImportProblem:
    return ImportProblem(row=0, field=where, msg=msg, severity=severity)


def _standalone(text: str) -> tuple[Kind, str, str] | None:
    """What a header label means on its own: (kind, field, value) or None."""
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
    value, known = values.channel(text)
    if known and (flat == OTHER_CHANNEL or not value.startswith(OTHER_CHANNEL)):
        return "channel", "channels", value
    return None


def _header_row(grid: Grid) -> int | None:
    """The first row naming at least two different ITEM fields."""
    for index, row in enumerate(grid[:HEADER_SEARCH_ROWS]):
        fields = {m[1] for cell in row if (m := _standalone(cell.text)) and m[0] != "seq"}
        if len(fields) >= 2:
            return index
    return None


def _inherit_group_labels(tops: list[str]) -> list[str]:
    """A CSV writes 公开对象 once over its two columns; give the blanks right of it its label."""
    result: list[str] = []
    current = ""
    for text in tops:
        if text.strip():
            meaning = _standalone(text)
            current = text if meaning and meaning[0] in GROUP_KINDS else ""
            result.append(text)
        else:
            result.append(current)
    return result


def _under_group(top: str, sub: str) -> tuple[Kind, str, str] | None:
    """What a second-row label means under its first-row group label."""
    meaning = _standalone(top)
    group = meaning[0] if meaning else None
    flat = values.label(sub)
    if group == "item":
        if flat.startswith(("一级", "二级", "三级", "事项名称")):
            return _standalone(sub) or ("item", "ignored", "")
        return None
    if group == "channels":
        value, _ = values.channel(sub)
        return "channel", "channels", value
    if group == "audience":
        return (
            ("audience_tick", "audience", values.AUDIENCE_LABELS[flat])
            if (flat in values.AUDIENCE_LABELS)
            else ("audience_tick", "ignored", "")
        )
    if group == "method":
        return (
            ("method_tick", "method", values.METHOD_LABELS[flat])
            if (flat in values.METHOD_LABELS)
            else ("method_tick", "ignored", "")
        )
    if group == "levels":
        return (
            ("level_tick", "levels", values.LEVEL_LABELS[flat])
            if (flat in values.LEVEL_LABELS)
            else ("level_tick", "ignored", "")
        )
    return None


def _is_sub_header(tops: list[str], subs: list[str], own_tops: list[str]) -> bool:
    """Row 2 of a two-row header holds only labels: sub-labels under groups, or repeats
    of a label merged down from row 1. Data rows fail because they hold names and texts."""
    labelled = False
    for top, sub, own_top in zip(tops, subs, own_tops, strict=True):
        if not sub.strip() or values.label(sub) == values.label(own_top):
            continue
        if _under_group(top, sub) is not None:
            labelled = True
        elif _standalone(sub) is None:
            return False
    return labelled


def _map_columns(tops: list[str], subs: list[str], *, data_start: int) -> Layout:
    layout = Layout(data_start=data_start)
    seen: set[tuple[str, str, str]] = set()
    for index, (top, sub) in enumerate(zip(tops, subs, strict=True)):
        written = "/".join(dict.fromkeys(t.strip() for t in (top, sub) if t.strip()))
        meaning = _meaning(top, sub)
        if meaning is None or meaning[1] == "ignored":
            if written:
                _ignore(layout, written, "不是标准目录的列", "not a catalogue column")
            continue
        kind, name, value = meaning
        if (kind, name, value) in seen:
            _ignore(layout, written, "与前面的列重复", "it duplicates an earlier column")
            continue
        seen.add((kind, name, value))
        layout.columns.append(Column(index, kind, name, value))
        if kind == "channel" and not values.channel(sub or top)[1]:
            layout.problems.append(
                _problem(
                    "warning",
                    "channels",
                    f"渠道列“{written}”不在渠道目录中，按“{value}”导入 / channel column "
                    f"{written!r} is not in the channel vocabulary; imported as {value!r}",
                )
            )
    return layout


def _meaning(top: str, sub: str) -> tuple[Kind, str, str] | None:
    if sub.strip() and values.label(sub) != values.label(top):
        return _under_group(top, sub) or _standalone(sub) or _standalone(top)
    return _standalone(top)


def _ignore(layout: Layout, written: str, zh: str, en: str) -> None:
    layout.ignored.append(written)
    layout.problems.append(
        _problem(
            "warning", "header", f"列“{written}”未导入：{zh} / column {written!r} ignored: {en}"
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
            written = f"第{get_column_letter(index + 1)}列（无表头）"
            _ignore(layout, written, "没有表头", "it has no header")


def _check_required(layout: Layout) -> None:
    item, name = layout.first("item"), layout.first("name")
    if item is not None and name is not None:
        # 公开事项 next to a 二级事项 column can only be the first-level item.
        layout.columns[layout.columns.index(item)] = Column(
            item.index, "first_level", "first_level"
        )
    if layout.first("name") is None and layout.first("item") is None:
        layout.problems.append(
            _problem(
                "error",
                "header",
                "缺少“二级事项”或“公开事项”列 / the table has no 二级事项 or 公开事项 column",
            )
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
