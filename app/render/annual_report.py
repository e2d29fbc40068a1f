"""年度报告表格 / an annual report's tables 二, 三 and 四 in the official layout: HTML and XLSX.

Both renderings are built from one description of each table (`grids`): its header and body
rows as visible cells with their spans, the way an HTML table is written. The XLSX places the
same cells on a grid and merges the spanned ranges, so the two cannot drift apart. The row
and column labels come from the template (app/rules/annual_report.py), never from here.
"""

from __future__ import annotations

import io
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, TypedDict

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from app.rules import annual_report as rules


class ReportView(TypedDict):
    """What a rendering needs: the tables and the words around them."""

    unit_code: str
    unit_name: str
    year: int
    template: str
    version: int | None
    """None: the working copy (a draft page)"""
    published_on: date | None
    url: str | None
    active: Mapping[str, Mapping[str, rules.Number]]
    requests: Mapping[str, Mapping[str, int]]
    reviews: Mapping[str, Mapping[str, int]]
    errors: list[rules.Issue]
    warnings: list[rules.Issue]


@dataclass(frozen=True)
class Cell:
    text: str
    colspan: int = 1
    rowspan: int = 1
    header: bool = False
    value: rules.Number | None = None
    """a figure (numbers are cells of their own kind: right-aligned, numeric in XLSX)"""
    bad: bool = False
    """named by a broken rule"""


@dataclass(frozen=True)
class Grid:
    key: str
    title: str
    width: int
    head: list[list[Cell]]
    body: list[list[Cell]]
    widths: tuple[float, ...]
    """XLSX column widths, one per column"""


def title(view: ReportView) -> str:
    return f"{view['unit_name']}{view['year']}年政府信息公开工作年度报告"


def figure_text(value: rules.Number) -> str:
    if isinstance(value, float):
        return f"{value:f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))
    return str(value)


def _figure(value: rules.Number, bad: bool) -> Cell:
    return Cell(figure_text(value), value=value, bad=bad)


def _active_grid(view: ReportView, bad: Collection[tuple[str, ...]]) -> Grid:
    template = rules.TEMPLATES[view["template"]]
    table = rules.full_active(template, view["active"])
    most = max(len(section.columns) for section in template.sections)
    width = 1 + most
    body: list[list[Cell]] = []
    for section in template.sections:
        body.append([Cell(section.heading, colspan=width, header=True)])
        heads = [Cell("信息内容", header=True)]
        for index, column in enumerate(section.columns):
            last = index == len(section.columns) - 1
            span = width - 1 - index if last else 1  # the last column takes what is left
            heads.append(Cell(column.label, colspan=span, header=True))
        body.append(heads)
        for row in section.rows:
            cells = [Cell(row.label)]
            for index, column in enumerate(section.columns):
                last = index == len(section.columns) - 1
                value = table[row.code][column.code]
                cells.append(
                    Cell(
                        figure_text(value),
                        colspan=width - 1 - index if last else 1,
                        value=value,
                        bad=("active", row.code, column.code) in bad,
                    )
                )
            body.append(cells)
    return Grid("active", rules.TABLE_TITLES["active"], width, [], body, (24, *[18] * most))


def _requests_grid(view: ReportView, bad: Collection[tuple[str, ...]]) -> Grid:
    template = rules.TEMPLATES[view["template"]]
    table = rules.full_requests(template, view["requests"])
    organisations = rules.APPLICANTS[1:]
    head = [
        [
            Cell(rules.REQUESTS_CAPTION, colspan=3, rowspan=3, header=True),
            Cell(rules.APPLICANT_HEADER, colspan=len(rules.REQUEST_COLUMNS), header=True),
        ],
        [
            Cell(rules.APPLICANTS[0].label, rowspan=2, header=True),
            Cell(rules.ORGANISATIONS_HEADER, colspan=len(organisations), header=True),
            Cell(rules.REQUEST_COLUMNS[-1].label, rowspan=2, header=True),
        ],
        [Cell(c.label, header=True) for c in organisations],
    ]
    body: list[list[Cell]] = []
    rows = template.request_rows
    for index, row in enumerate(rows):
        cells: list[Cell] = []
        if row.part != rules.PART_OUTCOMES:
            cells.append(Cell(row.label, colspan=3))
        else:
            if index == 0 or rows[index - 1].part != row.part:
                span = sum(1 for r in rows if r.part == row.part)
                cells.append(Cell(row.part, rowspan=span))
            if row.group is None:
                cells.append(Cell(row.label, colspan=2))
            else:
                if rows[index - 1].group != row.group:
                    cells.append(
                        Cell(row.group, rowspan=sum(1 for r in rows if r.group == row.group))
                    )
                cells.append(Cell(row.label))
        cells += [
            _figure(table[row.code][c], ("requests", row.code, c) in bad)
            for c in rules.REQUEST_COLUMN_CODES
        ]
        body.append(cells)
    widths = (8, 12, 30, *[9] * len(rules.REQUEST_COLUMNS))
    return Grid("requests", rules.TABLE_TITLES["requests"], 10, head, body, widths)


def _reviews_grid(view: ReportView, bad: Collection[tuple[str, ...]]) -> Grid:
    table = rules.full_reviews(view["reviews"])
    review, *litigation = rules.REVIEW_BLOCKS
    n = len(rules.REVIEW_COLUMNS)
    head = [
        [
            Cell(review.label, colspan=n, header=True),
            Cell(rules.LITIGATION_HEADER, colspan=n * len(litigation), header=True),
        ],
        [
            *[Cell(c.label, rowspan=2, header=True) for c in rules.REVIEW_COLUMNS],
            *[Cell(block.label, colspan=n, header=True) for block in litigation],
        ],
        [Cell(c.label, header=True) for _ in litigation for c in rules.REVIEW_COLUMNS],
    ]
    body = [
        [
            _figure(table[block.code][c.code], ("reviews", block.code, c.code) in bad)
            for block in rules.REVIEW_BLOCKS
            for c in rules.REVIEW_COLUMNS
        ]
    ]
    width = n * len(rules.REVIEW_BLOCKS)
    return Grid("reviews", rules.TABLE_TITLES["reviews"], width, head, body, (7,) * width)


def grids(view: ReportView) -> list[Grid]:
    bad = {tuple(issue["loc"]) for issue in view["errors"]}
    return [_active_grid(view, bad), _requests_grid(view, bad), _reviews_grid(view, bad)]


def place(rows: list[list[Cell]], width: int) -> list[tuple[int, int, Cell]]:
    """(row, column, cell) of every visible cell, 0-based, as a browser lays out spans."""
    taken: set[tuple[int, int]] = set()
    placed: list[tuple[int, int, Cell]] = []
    for r, row in enumerate(rows):
        c = 0
        for cell in row:
            while (r, c) in taken:
                c += 1
            placed.append((r, c, cell))
            for dr in range(cell.rowspan):
                for dc in range(cell.colspan):
                    taken.add((r + dr, c + dc))
            c += cell.colspan
        if c > width:
            raise ValueError(f"row {r} is {c} columns wide, the table {width}")
    return placed


# ---- HTML ------------------------------------------------------------------------------

_templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_html(view: ReportView) -> bytes:
    """A self-contained page (no scripts, no external assets) that prints on A4."""
    template = rules.TEMPLATES[view["template"]]
    url = view["url"] if view["url"] and view["url"].startswith(("http://", "https://")) else None
    page = _templates.get_template("annual_report.html").render(
        title=title(view),
        view=view,
        document=template.document,
        url_link=url,
        grids=grids(view),
    )
    return page.encode("utf-8")


# ---- XLSX ------------------------------------------------------------------------------

_THIN = Side(style="thin")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_BOLD = Font(bold=True)
_TITLE_FONT = Font(bold=True, size=14)
_HEADER_FILL = PatternFill("solid", fgColor="EDEDED")
_BAD_FILL = PatternFill("solid", fgColor="F8D7DA")
_CENTRED = Alignment(horizontal="center", vertical="center", wrap_text=True)
_LEFT = Alignment(horizontal="left", vertical="center", wrap_text=True)
_RIGHT = Alignment(horizontal="right", vertical="center")
SHEET_NAMES = {"active": "二 主动公开", "requests": "三 依申请公开", "reviews": "四 复议诉讼"}


def _sheet(workbook: Workbook, grid: Grid, heading: str) -> None:
    sheet = workbook.create_sheet(SHEET_NAMES[grid.key])
    sheet.cell(row=1, column=1, value=heading).font = _TITLE_FONT
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=grid.width)
    sheet.cell(row=1, column=1).alignment = _CENTRED
    sheet.row_dimensions[1].height = 30
    sheet.cell(row=2, column=1, value=grid.title).font = _BOLD
    sheet.merge_cells(start_row=2, start_column=1, end_row=2, end_column=grid.width)
    first = 3
    rows = grid.head + grid.body
    for r, c, cell in place(rows, grid.width):
        row, column = first + r, 1 + c
        target = sheet.cell(row=row, column=column)
        if cell.value is not None:
            target.value = cell.value
            target.alignment = _RIGHT
        else:
            target.value = cell.text
            target.data_type = "s"
            target.alignment = _CENTRED if cell.header or c >= 1 else _LEFT
        if cell.header:
            target.font = _BOLD
            target.fill = _HEADER_FILL
        if cell.bad:
            target.fill = _BAD_FILL
        for dr in range(cell.rowspan):
            for dc in range(cell.colspan):
                sheet.cell(row=row + dr, column=column + dc).border = _BORDER
        if cell.rowspan > 1 or cell.colspan > 1:
            sheet.merge_cells(
                start_row=row,
                start_column=column,
                end_row=row + cell.rowspan - 1,
                end_column=column + cell.colspan - 1,
            )
    for index, width in enumerate(grid.widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.orientation = (
        sheet.ORIENTATION_LANDSCAPE if grid.width > 10 else sheet.ORIENTATION_PORTRAIT
    )
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_options.horizontalCentered = True


def render_xlsx(view: ReportView) -> bytes:
    """One sheet per table (二, 三, 四), merged headers, figures stored as numbers."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for grid in grids(view):
        _sheet(workbook, grid, title(view))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def view_of(
    *,
    unit_code: str,
    unit_name: str,
    year: int,
    tables: rules.Report,
    version: int | None,
    published_on: date | None,
    url: str | None,
    errors: list[rules.Issue],
    warnings: list[rules.Issue],
) -> ReportView:
    return {
        "unit_code": unit_code,
        "unit_name": unit_name,
        "year": year,
        "template": tables["template"],
        "version": version,
        "published_on": published_on,
        "url": url,
        "active": tables["active"],
        "requests": tables["requests"],
        "reviews": tables["reviews"],
        "errors": errors,
        "warnings": warnings,
    }


def cells_of(grid: Grid) -> list[dict[str, Any]]:
    """The placed cells as plain dicts (for tests and for anyone checking a layout)."""
    return [
        {"row": r, "column": c, "text": cell.text, "colspan": cell.colspan, "rowspan": cell.rowspan}
        for r, c, cell in place(grid.head + grid.body, grid.width)
    ]
