"""标准目录表格 / one catalogue rendered as the standard table (HTML, XLSX, CSV) and as a tree.

The layout below is a contract with the importer, which must read the XLSX and CSV back
into the same catalogue; change it only together with the importer and its tests.

Columns (0-based index: row-2 label, the "leaf" label that names the column uniquely)::

     0 序号             1..n, the running number of second-level items
     1 一级事项         written on the first row of its group only
     2 二级事项         item.name
     3 公开内容（要素） item.content
     4 公开依据         item.basis
     5 公开时限         item.time_limit
     6 公开主体         item.responsible_body
     7 公开渠道和载体   item.channels, one line per channel, see below
     8 全社会           "√" when audience is 全社会
     9 特定群体         "√" for 特定群体, "√（<group>）" for 特定群体:<group>
    10 主动             "√" when method is 主动
    11 依申请           "√" when method is 依申请
    12 县级             "√" when the level is ticked
    13 乡级             "√" when the level is ticked
    14 村级             present only when some item has 村级

Header row 1: 序号 | 公开事项 (cols 1-2) | 公开内容（要素） | 公开依据 | 公开时限 | 公开主体 |
公开渠道和载体 | 公开对象 (8-9) | 公开方式 (10-11) | 公开层级 (12-13 or 12-14).
Header row 2: the leaf labels of cols 1-2 and 8 onwards; 序号 and cols 3-7 span both rows.
A cell covered by a span is empty (None in XLSX, "" in CSV), exactly what openpyxl reads
back from a merged range, so the importer can treat both files the same way.

Channel cell: every vocabulary channel (CHANNELS order) on its own line, prefixed BOX_ON
"■" when used and BOX_OFF "□" when not; 其他 gets one "■其他" or "■其他：<text>" line per
entry, or a single "□其他" when unused. A channel outside the vocabulary is kept as a
"■<channel>" line just before 其他 rather than dropped. No channels at all is an empty cell.

Any missing value (None, "" or an empty list) is an empty cell.

Files:
- XLSX: one sheet named after the domain; row 1 the title "{unit}{domain}领域基层政务公开标准目录"
  merged over all columns, rows 2-3 the headers (merged as above), data from row 4 with
  一级事项 merged vertically over its group. 序号 is stored as a number, every other value
  as a string (never a formula). Control characters XML cannot hold are dropped.
- CSV: UTF-8 with BOM, CRLF, the two header rows then the data; no title row; 一级事项
  written on the first row of its group and blank below. A cell starting with = + - @
  tab or CR gets a leading ' (render/spreadsheet_safety.py) so no spreadsheet runs it as a
  formula; the importer takes that ' off again.
- HTML: the title, version, publish date and URL, then the same table with rowspan/colspan;
  the fragment is the same inside one `<section class="gkml-catalogue">` (docs/website.md).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Any, NotRequired, TypedDict, cast
from urllib.parse import urlsplit
from zipfile import ZIP_DEFLATED, ZipFile, ZipInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.packaging.core import DocumentProperties
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.writer.excel import ExcelWriter

from app.models.common import CHANNELS, LEVELS, OTHER_CHANNEL, SPECIFIC_AUDIENCE
from app.render.spreadsheet_safety import neutralise
from app.rules.attributes import item_values

if TYPE_CHECKING:
    from _typeshed import SizedBuffer, StrPath


class CatalogueItem(TypedDict):
    """二级事项 / one second-level item as shown in the table."""

    first_level: str
    name: str
    content: str | None
    basis: str | None
    time_limit: str | None
    responsible_body: str | None
    method: str | None
    channels: list[str]
    audience: str | None
    levels: list[str]
    position: int
    id: NotRequired[int | None]
    """the item's id (stable across versions) where a published version carries it"""


def catalogue_item(values: Mapping[str, Any], **extra: Any) -> CatalogueItem:
    """A CatalogueItem from any mapping holding the ITEM attributes and `position` (a row's
    values, a published version's frozen snapshot), `extra` (the id) first."""
    item = extra | item_values(values)
    item["position"] = values["position"]
    return cast(CatalogueItem, item)


class CatalogueView(TypedDict):
    """标准目录 / one unit's catalogue for one domain, items in display order."""

    unit_code: str
    unit_name: str
    domain_code: str
    domain_name: str
    version: int | None
    published_on: date | None
    published_url: str | None
    items: list[CatalogueItem]


class FirstLevelNode(TypedDict):
    """一级事项 / a first-level item and its second-level items."""

    name: str
    position: int
    items: list[CatalogueItem]


class CatalogueTree(TypedDict):
    """The published JSON shape: domain → first-level → second-level."""

    unit_code: str
    unit_name: str
    domain_code: str
    domain_name: str
    version: int | None
    published_on: str | None
    published_url: str | None
    first_level_items: list[FirstLevelNode]


# ---- the layout contract -------------------------------------------------------------

CHECK = "√"
BOX_ON = "■"
BOX_OFF = "□"
OTHER_SEPARATOR = "："
"""Between 其他 and its text in the channel cell: "■其他：村民微信群"."""
GROUP_OPEN = "（"
GROUP_CLOSE = "）"
"""Around the named group under 特定群体: "√（项目单位）"."""
TITLE_SUFFIX = "领域基层政务公开标准目录"

NUMBER = "序号"
FIRST_LEVEL = "一级事项"
SECOND_LEVEL = "二级事项"
CHANNELS_COLUMN = "公开渠道和载体"

TEXT_COLUMNS: tuple[tuple[str, str], ...] = (
    (SECOND_LEVEL, "name"),
    ("公开内容（要素）", "content"),
    ("公开依据", "basis"),
    ("公开时限", "time_limit"),
    ("公开主体", "responsible_body"),
)
"""Leaf label → item key for the columns that hold an item's text as is."""

LEAD_COLUMNS: tuple[str, ...] = (
    NUMBER,
    FIRST_LEVEL,
    *(label for label, _ in TEXT_COLUMNS),
    CHANNELS_COLUMN,
)
AUDIENCE_COLUMNS: tuple[str, ...] = ("全社会", SPECIFIC_AUDIENCE)
METHOD_COLUMNS: tuple[str, ...] = ("主动", "依申请")
LEVEL_COLUMNS: tuple[str, ...] = LEVELS
"""Every level column that can appear; BASE_LEVEL_COLUMNS always do, 村级 only when used."""
BASE_LEVEL_COLUMNS: tuple[str, ...] = ("县级", "乡级")
VILLAGE_LEVEL = "村级"

GROUP_HEADERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("公开事项", (FIRST_LEVEL, SECOND_LEVEL)),
    ("公开对象", AUDIENCE_COLUMNS),
    ("公开方式", METHOD_COLUMNS),
    ("公开层级", LEVEL_COLUMNS),
)
"""Row-1 labels that span several leaf columns (公开层级 spans the level columns present)."""

TITLE_ROWS = 1
"""XLSX only: the title row above the two header rows; the CSV starts at the headers."""
HEADER_ROWS = 2


@dataclass(frozen=True)
class HeaderCell:
    """One visible header cell: its 0-based row (0 or 1) and column, and its span."""

    label: str
    row: int
    column: int
    colspan: int = 1
    rowspan: int = 1


@dataclass(frozen=True)
class TableRow:
    """One data row: a text per column ("" = empty) and the size of the group it starts.

    group_rows is how many rows the 一级事项 cell covers from this row, 0 on the rows
    that continue a group (their 一级事项 text is "").
    """

    cells: tuple[str, ...]
    group_rows: int


def title(view: CatalogueView) -> str:
    return f"{view['unit_name']}{view['domain_name']}{TITLE_SUFFIX}"


def level_columns(view: CatalogueView) -> tuple[str, ...]:
    """县级 and 乡级 always; 村级 only when some item is disclosed at village level."""
    if any(VILLAGE_LEVEL in item["levels"] for item in view["items"]):
        return (*BASE_LEVEL_COLUMNS, VILLAGE_LEVEL)
    return BASE_LEVEL_COLUMNS


def leaf_columns(levels: Sequence[str]) -> tuple[str, ...]:
    """The label naming each column, left to right (row 2, or row 1 where it spans both)."""
    return (*LEAD_COLUMNS, *AUDIENCE_COLUMNS, *METHOD_COLUMNS, *levels)


def header_cells(levels: Sequence[str]) -> list[HeaderCell]:
    """The visible header cells with their spans, row 1 then row 2."""
    spans = dict(GROUP_HEADERS)
    spans["公开层级"] = tuple(levels)
    top: list[HeaderCell] = []
    bottom: list[HeaderCell] = []
    leaves = leaf_columns(levels)
    column = 0
    while column < len(leaves):
        group = next((g for g, members in spans.items() if leaves[column] in members), None)
        if group is None:
            top.append(HeaderCell(leaves[column], 0, column, rowspan=2))
            column += 1
            continue
        width = len(spans[group])
        top.append(HeaderCell(group, 0, column, colspan=width))
        bottom.extend(HeaderCell(leaves[column + i], 1, column + i) for i in range(width))
        column += width
    return top + bottom


def header_grid(levels: Sequence[str]) -> list[list[str | None]]:
    """The two header rows as a grid; a cell covered by a span is None."""
    width = len(leaf_columns(levels))
    grid: list[list[str | None]] = [[None] * width for _ in range(HEADER_ROWS)]
    for cell in header_cells(levels):
        grid[cell.row][cell.column] = cell.label
    return grid


# ---- cell logic shared by the three formats ------------------------------------------

_COLON = re.compile(r"\s*[:：]\s*")


def _qualified(value: str) -> tuple[str, str | None]:
    """'特定群体:项目单位' -> ('特定群体', '项目单位'); either colon width is accepted."""
    head, *rest = _COLON.split(value.strip(), maxsplit=1)
    return head, (rest[0].strip() or None) if rest else None


def channel_lines(channels: Sequence[str]) -> list[str]:
    """The ■/□ checklist for one item; empty when the item has no channels yet."""
    if not channels:
        return []
    used: set[str] = set()
    others: dict[str, None] = {}  # a dict keeps the caller's order and drops repeats
    unknown: dict[str, None] = {}
    for channel in channels:
        head, text = _qualified(channel)
        if head == OTHER_CHANNEL:
            others[f"{OTHER_CHANNEL}{OTHER_SEPARATOR}{text}" if text else OTHER_CHANNEL] = None
        elif head in CHANNELS and text is None:
            used.add(head)
        else:
            unknown[channel.strip()] = None
    lines = [f"{BOX_ON if c in used else BOX_OFF}{c}" for c in CHANNELS if c != OTHER_CHANNEL]
    lines += [f"{BOX_ON}{channel}" for channel in unknown]
    lines += [f"{BOX_ON}{other}" for other in others] or [f"{BOX_OFF}{OTHER_CHANNEL}"]
    return lines


def audience_cells(audience: str | None) -> tuple[str, str]:
    """(全社会, 特定群体) cells for one item."""
    if not audience:
        return "", ""
    head, group = _qualified(audience)
    if head == AUDIENCE_COLUMNS[0] and group is None:
        return CHECK, ""
    if head == SPECIFIC_AUDIENCE:
        return "", f"{CHECK}{GROUP_OPEN}{group}{GROUP_CLOSE}" if group else CHECK
    # Validation upstream makes this unreachable; a wrong table would be worse than an error.
    raise ValueError(f"公开对象无法填入表格 / audience {audience!r} has no column")


def _ticks(chosen: Sequence[str], columns: Sequence[str], what: str) -> tuple[str, ...]:
    if unknown := set(chosen).difference(columns):
        raise ValueError(f"{what}无法填入表格 / {sorted(unknown)} have no column")
    return tuple(CHECK if column in chosen else "" for column in columns)


def _groups(items: Sequence[CatalogueItem]) -> list[tuple[str, list[CatalogueItem]]]:
    """Each first-level item once, in the order of its first appearance, with all its
    second-level items in position order: the unit both table and tree use. An item moved
    away from its group still shows under it, never as a second group of the same name."""
    groups: dict[str, list[CatalogueItem]] = {}
    for item in items:
        groups.setdefault(item["first_level"], []).append(item)
    return list(groups.items())


def _text_cells(item: CatalogueItem) -> tuple[str, ...]:
    """The TEXT_COLUMNS cells, in that order."""
    return (
        item["name"],
        item["content"] or "",
        item["basis"] or "",
        item["time_limit"] or "",
        item["responsible_body"] or "",
    )


def table_rows(view: CatalogueView) -> list[TableRow]:
    """The data rows of the standard table, in display order."""
    levels = level_columns(view)
    rows: list[TableRow] = []
    for first_level, items in _groups(view["items"]):
        for index, item in enumerate(items):
            method = [item["method"]] if item["method"] else []
            cells = (
                str(len(rows) + 1),
                first_level if index == 0 else "",
                *_text_cells(item),
                "\n".join(channel_lines(item["channels"])),
                *audience_cells(item["audience"]),
                *_ticks(method, METHOD_COLUMNS, "公开方式"),
                *_ticks(item["levels"], levels, "公开层级"),
            )
            rows.append(TableRow(cells, len(items) if index == 0 else 0))
    return rows


# ---- JSON tree -----------------------------------------------------------------------


def render_tree(view: CatalogueView) -> CatalogueTree:
    """domain → first-level (position 1..n in order of appearance) → second-level items."""
    return {
        "unit_code": view["unit_code"],
        "unit_name": view["unit_name"],
        "domain_code": view["domain_code"],
        "domain_name": view["domain_name"],
        "version": view["version"],
        "published_on": view["published_on"].isoformat() if view["published_on"] else None,
        "published_url": view["published_url"],
        "first_level_items": [
            {
                "name": name,
                "position": position,
                # copies, so a caller editing the tree cannot change the view it came from
                "items": [
                    {**item, "channels": list(item["channels"]), "levels": list(item["levels"])}
                    for item in items
                ],
            }
            for position, (name, items) in enumerate(_groups(view["items"]), start=1)
        ],
    }


# ---- CSV -----------------------------------------------------------------------------


def render_csv(view: CatalogueView) -> bytes:
    """UTF-8 with BOM (so Excel opens it as UTF-8), CRLF, header rows then data."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for header in header_grid(level_columns(view)):
        writer.writerow(label or "" for label in header)
    writer.writerows(map(neutralise, row.cells) for row in table_rows(view))
    return buffer.getvalue().encode("utf-8-sig")


# ---- XLSX ----------------------------------------------------------------------------

_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_SHEET_NAME_MAX = 31
# Bytes must not depend on the clock: they are cached and served with an ETag.
_FIXED_TIME = datetime(2020, 1, 1)
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)

_COLUMN_WIDTHS: dict[str, float] = {
    NUMBER: 6,
    FIRST_LEVEL: 14,
    SECOND_LEVEL: 20,
    "公开内容（要素）": 36,
    "公开依据": 36,
    "公开时限": 18,
    "公开主体": 16,
    CHANNELS_COLUMN: 30,
}
_TICK_WIDTH = 7.5

_THIN = Side(style="thin")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEADER_FONT = Font(bold=True)
_TITLE_FONT = Font(bold=True, size=16)
_HEADER_FILL = PatternFill("solid", fgColor="EDEDED")
_CENTRED = Alignment(horizontal="center", vertical="center", wrap_text=True)
_TOP_LEFT = Alignment(horizontal="left", vertical="top", wrap_text=True)
_TOP_CENTRED = Alignment(horizontal="center", vertical="top", wrap_text=True)


def sheet_title(domain_name: str) -> str:
    """Excel's sheet-name rules: at most 31 characters, none of []:*?/\\, not blank."""
    name = _SHEET_FORBIDDEN.sub("_", domain_name).strip().strip("'")[:_SHEET_NAME_MAX]
    return name or "目录"


class _FixedTimeZipFile(ZipFile):
    """A ZipFile stamping every member with one fixed time instead of the clock's."""

    def writestr(
        self,
        zinfo_or_arcname: str | ZipInfo,
        data: SizedBuffer | str,
        compress_type: int | None = None,
        compresslevel: int | None = None,
    ) -> None:
        if isinstance(zinfo_or_arcname, str):
            info = ZipInfo(zinfo_or_arcname, date_time=_ZIP_TIME)
            info.compress_type = self.compression
            info.external_attr = 0o600 << 16  # what ZipFile gives a name-only member
            zinfo_or_arcname = info
        super().writestr(zinfo_or_arcname, data, compress_type, compresslevel)

    def write(
        self,
        filename: StrPath,
        arcname: StrPath | None = None,
        compress_type: int | None = None,
        compresslevel: int | None = None,
    ) -> None:
        # openpyxl adds each worksheet from a temporary file, which would carry its mtime
        name = str(arcname if arcname is not None else filename)
        self.writestr(name, Path(filename).read_bytes(), compress_type, compresslevel)


def _put(cell: Any, text: str) -> None:
    """Store text as a string: openpyxl would otherwise turn "=…" into a formula."""
    value = ILLEGAL_CHARACTERS_RE.sub("", text)
    cell.value = value or None
    if value:
        cell.data_type = "s"


def render_xlsx(view: CatalogueView) -> bytes:
    """The standard table as a one-sheet workbook, byte-identical for the same view."""
    levels = level_columns(view)
    leaves = leaf_columns(levels)
    width = len(leaves)
    first_data_row = TITLE_ROWS + HEADER_ROWS + 1

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = sheet_title(view["domain_name"])
    stamp = datetime.combine(view["published_on"], time()) if view["published_on"] else None
    workbook.properties = DocumentProperties(
        title=title(view),
        subject=view["domain_name"],
        creator=view["unit_name"],
        identifier=f"{view['unit_code']}-{view['domain_code']}",
        version=str(view["version"]) if view["version"] is not None else None,
        description=view["published_url"],
        language="zh-CN",
        created=stamp or _FIXED_TIME,
        modified=stamp or _FIXED_TIME,
    )

    _put(sheet.cell(row=1, column=1), title(view))
    sheet.cell(row=1, column=1).font = _TITLE_FONT
    sheet.cell(row=1, column=1).alignment = _CENTRED
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    sheet.row_dimensions[1].height = 36

    for row in range(TITLE_ROWS + 1, first_data_row):
        for column in range(1, width + 1):
            cell = sheet.cell(row=row, column=column)
            cell.font, cell.alignment, cell.border = _HEADER_FONT, _CENTRED, _BORDER
            cell.fill = _HEADER_FILL
    for header in header_cells(levels):
        row, column = TITLE_ROWS + 1 + header.row, header.column + 1
        _put(sheet.cell(row=row, column=column), header.label)
        if header.rowspan > 1 or header.colspan > 1:
            sheet.merge_cells(
                start_row=row,
                start_column=column,
                end_row=row + header.rowspan - 1,
                end_column=column + header.colspan - 1,
            )

    text_columns = len(LEAD_COLUMNS)
    groups: list[tuple[int, int]] = []
    for offset, table_row in enumerate(table_rows(view)):
        row = first_data_row + offset
        for index, text in enumerate(table_row.cells):
            cell = sheet.cell(row=row, column=index + 1)
            if index == 0:
                cell.value = int(text)  # a number, so Excel sorts it and shows no warning
            else:
                _put(cell, text)
            cell.border = _BORDER
            if index == 0 or index >= text_columns:
                cell.alignment = _TOP_CENTRED
            else:
                cell.alignment = _TOP_LEFT
        if table_row.group_rows > 1:
            groups.append((row, row + table_row.group_rows - 1))
    # merged last: a merged range's covered cells refuse writes, even of nothing
    for start, end in groups:
        sheet.merge_cells(start_row=start, start_column=2, end_row=end, end_column=2)

    for index, leaf in enumerate(leaves, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = _COLUMN_WIDTHS.get(
            leaf, _TICK_WIDTH
        )
    sheet.freeze_panes = sheet.cell(row=first_data_row, column=1).coordinate
    sheet.print_title_rows = f"{TITLE_ROWS + 1}:{TITLE_ROWS + HEADER_ROWS}"
    sheet.page_setup.orientation = sheet.ORIENTATION_LANDSCAPE
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0  # as many pages tall as needed
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_options.horizontalCentered = True

    buffer = io.BytesIO()
    # ExcelWriter directly: save() would stamp the modified time with the clock.
    with _FixedTimeZipFile(buffer, "w", ZIP_DEFLATED, allowZip64=True) as archive:
        ExcelWriter(workbook, archive).write_data()
    return buffer.getvalue()


# ---- HTML ----------------------------------------------------------------------------

_templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True)
class HtmlCell:
    """A body cell: its text lines, rowspan and a CSS class for its kind of column."""

    lines: tuple[str, ...]
    kind: str
    label: str
    rowspan: int = 1


def _link(url: str | None) -> str | None:
    """Only http(s) URLs become links: a javascript: URL in href would run on click."""
    if url and urlsplit(url.strip()).scheme.lower() in {"http", "https"}:
        return url.strip()
    return None


def _cell_labels(levels: Sequence[str]) -> list[str]:
    """Each column's name as a phone shows it above the value (公开对象：全社会 for ticks)."""
    groups = dict(GROUP_HEADERS)
    groups["公开层级"] = tuple(levels)
    return [
        next((f"{group}：{leaf}" for group, members in groups.items() if leaf in members), leaf)
        if leaf not in ("一级事项", "二级事项")
        else leaf
        for leaf in leaf_columns(levels)
    ]


def _html_rows(view: CatalogueView) -> list[list[HtmlCell]]:
    kinds = ("number", "first", "name", *("text",) * (len(TEXT_COLUMNS) - 1), "channels")
    labels = _cell_labels(level_columns(view))
    rows: list[list[HtmlCell]] = []
    for table_row in table_rows(view):
        cells: list[HtmlCell] = []
        for index, text in enumerate(table_row.cells):
            lines = tuple(text.split("\n")) if text else ()
            if index == 1:
                if table_row.group_rows:  # continuing rows are covered by the rowspan
                    cells.append(HtmlCell(lines, "first", labels[index], table_row.group_rows))
                continue
            kind = kinds[index] if index < len(kinds) else "tick"
            cells.append(HtmlCell(lines, kind, labels[index]))
        rows.append(cells)
    return rows


def _page(template: str, view: CatalogueView, title_id: str) -> bytes:
    levels = level_columns(view)
    headers = header_cells(levels)
    page = _templates.get_template(template).render(
        title=title(view),
        title_id=title_id,
        view=view,
        published_on=view["published_on"].isoformat() if view["published_on"] else None,
        url_link=_link(view["published_url"]),
        header_rows=[[h for h in headers if h.row == row] for row in range(HEADER_ROWS)],
        rows=_html_rows(view),
        width=len(leaf_columns(levels)),
        box_off=BOX_OFF,
    )
    return page.encode("utf-8")


def render_html(view: CatalogueView) -> bytes:
    """A complete, self-contained page (no scripts, no external assets), UTF-8."""
    return _page("catalogue.html", view, "title")


def render_fragment(view: CatalogueView) -> bytes:
    """The same title, meta line and table as a fragment to embed in another page: one
    `<section class="gkml-catalogue">`, no <html>/<head>, no script, no style attribute
    (a site styles it with app/render/static/fragment.css or its own rules)."""
    return _page("catalogue_fragment.html", view, f"gkml-{view['unit_code']}-{view['domain_code']}")
