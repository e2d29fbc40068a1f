"""One worksheet's cells and merged ranges, streamed from its XML under FileLimits.

openpyxl's read-only rows would yield an empty row for every skipped row number (a
`<row r="20000000"/>` costs twenty million of them) and keep every element it does not
know in memory; here the sheet's elements are counted first (fast), then the loop sees
only the rows the XML holds and checks each row number, column and cell against the
limits as it goes. Cell values are decoded by openpyxl's own parser
(shared strings, dates, booleans, formulas), so they read exactly as before.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import IO, Any

from openpyxl.reader.excel import ExcelReader
from openpyxl.utils.cell import range_boundaries
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet._read_only import ReadOnlyWorksheet
from openpyxl.worksheet._reader import WorkSheetParser
from openpyxl.xml.constants import SHEET_MAIN_NS
from openpyxl.xml.functions import iterparse  # defusedxml's when installed: no entities

from app.spreadsheet.limits import FileLimits
from app.spreadsheet.models import BadFile

ROW = f"{{{SHEET_MAIN_NS}}}row"
MERGE_CELL = f"{{{SHEET_MAIN_NS}}}mergeCell"
_REF = re.compile(r"^[A-Za-z]{1,3}\d{1,7}(?::[A-Za-z]{1,3}\d{1,7})?$")

CellValue = tuple[int, int, Any, str]
"""(row, column, value, openpyxl data type), 1-based."""


class _LazySheet(ReadOnlyWorksheet):  # type: ignore[misc]
    def _get_size(self) -> None:
        """openpyxl looks for the sheet's <dimension> here and, when it is missing, parses
        the whole sheet to find out: a zip of empty rows cost a minute before any limit
        could be checked. SheetStream never needs the size."""


class _Reader(ExcelReader):  # type: ignore[misc]
    def read_worksheets(self) -> None:
        for sheet, rel in self.parser.find_sheets():
            if rel.target in self.valid_files and "chartsheet" not in rel.Type:
                self.wb._sheets.append(
                    _LazySheet(self.wb, sheet.name, rel.target, self.shared_strings)
                )


def open_workbook(source: IO[bytes]) -> Workbook:
    """openpyxl's load_workbook(read_only=True, data_only=False), minus the sheet scan.

    Workbook, styles (for dates) and shared strings are read as openpyxl does; the
    package's part sizes were checked before (files._check_package)."""
    reader = _Reader(source, read_only=True, data_only=False, keep_links=False)
    reader.read()
    workbook: Workbook = reader.wb
    return workbook


class ElementBudget:
    """XML elements left for the whole workbook."""

    def __init__(self, limits: FileLimits) -> None:
        self.limits = limits
        self.used = 0

    def take(self, count: int) -> None:
        self.used += count
        if self.used > self.limits.xml_elements:
            raise self.limits.over(
                "XML 元素数", "XML element count", self.used, self.limits.xml_elements
            )


_CHUNK = 1 << 20


class SheetStream:
    """Iterate cells(); afterwards merged holds the ranges (min_col, min_row, max_col,
    max_row), 1-based."""

    def __init__(self, ws: Any, limits: FileLimits, budget: ElementBudget) -> None:
        self.ws = ws
        self.limits = limits
        self.budget = budget
        self.merged: list[tuple[int, int, int, int]] = []

    def cells(self) -> Iterator[CellValue]:
        ws = self.ws
        self._count_elements()
        with ws._get_source() as source:  # openpyxl's own accessor for the sheet's XML
            parser = WorkSheetParser(
                source,
                ws._shared_strings,
                data_only=False,
                epoch=ws.parent.epoch,
                date_formats=ws.parent._date_formats,
                timedelta_formats=ws.parent._timedelta_formats,
            )
            yield from self._parse(source, parser)

    def _count_elements(self) -> None:
        """Counted before parsing, at the speed of bytes.count (parsing one element costs
        microseconds, counting it nanoseconds): the element limit bounds the parse's time
        and the memory of what it keeps. A tag split across chunks is counted once more
        at worst."""
        with self.ws._get_source() as source:
            while chunk := source.read(_CHUNK):
                self.budget.take(chunk.count(b"<") - chunk.count(b"</"))

    def _parse(self, source: IO[bytes], parser: WorkSheetParser) -> Iterator[CellValue]:
        limits = self.limits
        rows = 0
        for _event, element in iterparse(source):
            if element.tag == ROW:
                rows += 1
                limits.check_row(rows)
                number, cells = parser.parse_row(element)
                element.clear()
                limits.check_row(number)
                for cell in cells:
                    if cell["value"] is None:
                        continue
                    limits.check_row(cell["row"])
                    limits.check_column(cell["column"])
                    yield cell["row"], cell["column"], cell["value"], cell["data_type"]
            elif element.tag == MERGE_CELL:
                self._merge(element.get("ref", ""))
                element.clear()

    def _merge(self, ref: str) -> None:
        if not _REF.match(ref):
            raise BadFile(422, f"合并单元格引用无效 / invalid merged range {ref[:40]!r}")
        if len(self.merged) >= self.limits.merged_ranges:
            raise self.limits.over(
                "合并单元格区域数",
                "merged range count",
                len(self.merged) + 1,
                self.limits.merged_ranges,
            )
        left, top, right, bottom = range_boundaries(ref.upper())
        assert left is not None
        assert top is not None
        self.merged.append((left, top, right or left, bottom or top))
