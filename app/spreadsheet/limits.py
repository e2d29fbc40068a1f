"""Hard limits on what an uploaded table may make the reader do, checked while streaming.

A small file can describe an enormous table: a row numbered 20,000,000, a zip of
millions of `<row/>`, one merged range over four million cells, a CSV of a million empty
lines. Every count here is checked as the file is read, so such a file is refused (413,
naming the limit) after a bounded amount of work, never after building the table.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.spreadsheet.models import BadFile


@dataclass(frozen=True)
class FileLimits:
    """Beyond the upload's byte cap and data-row cap; defaults match app.config.Settings,
    docs/operations.md says how to change them."""

    sheet_rows: int = 50_000
    """Rows of any kind, blank and skipped ones included: the highest row number and the
    number of CSV records."""
    columns: int = 200
    """The highest column a value may be in (GR); empty cells further right are ignored."""
    cells: int = 1_000_000
    """The table's area (rows x columns, merged copies included) and the cells read."""
    merged_ranges: int = 10_000
    uncompressed_bytes: int = 100_000_000
    """An XLSX's parts once unzipped, all together."""
    shared_strings_bytes: int = 20_000_000
    """An XLSX's shared-strings part once unzipped (read whole by openpyxl)."""
    xml_elements: int = 1_000_000
    """XML elements in the worksheets, all together."""

    def over(self, what_zh: str, what_en: str, count: int, limit: int) -> BadFile:
        return BadFile(
            413,
            f"{what_zh}超出上限（{count}，上限 {limit}）/ {what_en} over the limit "
            f"({count}, limit {limit})",
        )

    def check_row(self, number: int) -> None:
        if number > self.sheet_rows:
            raise self.over("行号或行数", "row number or row count", number, self.sheet_rows)

    def check_column(self, number: int) -> None:
        if number > self.columns:
            raise self.over("列号", "column number", number, self.columns)

    def check_cells(self, count: int) -> None:
        if count > self.cells:
            raise self.over("单元格数", "cell count", count, self.cells)

    def check_area(self, height: int, width: int) -> None:
        if height * width > self.cells:
            raise self.over(
                "表格面积（行×列）", "table area (rows x columns)", height * width, self.cells
            )
