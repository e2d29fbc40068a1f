"""列 / the columns of an uploaded register (公开记录, 依申请台账): where its header is, each
row's cells, and the readers of their values: dates, choices, ids, text.

Every fault names the cell (Excel's reference, e.g. C5), the column and the value, in
Chinese and English, worded the same wherever the same fault is found: `at_cell` is also
how the catalogue import (reader.py) names a cell.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TypeVar

from openpyxl.utils import get_column_letter

from app.models.common import whole_number
from app.spreadsheet.models import Grid

T = TypeVar("T")
HEADER_ROWS = 12
"""How far down a header may stand (a title, a note or a date line may come first)."""

_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T].*)?$")
_SPACE = re.compile(r"\s+")


def clean(text: str) -> str:
    """A label or a vocabulary word as compared: every space gone."""
    return _SPACE.sub("", text)


def cell_ref(index: int, row: int) -> str:
    """Excel's reference of the cell in 0-based column `index` of 1-based `row` (e.g. C5)."""
    return f"{get_column_letter(index + 1)}{row}"


def at_cell(ref: str, zh: str, en: str) -> str:
    """A fault in one cell, said one way: 单元格 C5：… / cell C5: …"""
    return f"单元格 {ref}：{zh} / cell {ref}: {en}"


def parse_date(text: str) -> date | None:
    """2020-09-28, 2020/9/28, 2020.9.28, 2020年9月28日 (a time after it is ignored)."""
    match = _DATE.match(text.strip())
    if match is None:
        return None
    try:
        return date(*(int(part) for part in match.groups()))
    except ValueError:
        return None


@dataclass(frozen=True)
class Fault:
    """A problem of the file (row 0) or of one row's column."""

    row: int
    field: str
    msg: str


def missing_column(label: str, field: str) -> Fault:
    return Fault(0, field, f"缺少“{label}”列 / the column {label} is missing")


def no_header(labels: Sequence[str]) -> str:
    """The file has no row naming the columns a register needs."""
    named = "、".join(f"“{label}”" for label in labels)
    return (
        f"找不到表头：须有{named}列 / no header row found: the columns "
        f"{', '.join(labels)} are required"
    )


@dataclass(frozen=True)
class Header:
    index: int
    """The header's row, 0-based."""
    positions: dict[str, int]
    """The column of each field found."""
    ignored: list[str]
    """The labels no field is read from, as written."""


def find_header(
    grid: Grid,
    names: Mapping[str, Sequence[str]],
    *,
    needs: Collection[str],
    rows: int = HEADER_ROWS,
) -> Header | None:
    """The first of the first `rows` rows naming every field of `needs`; labels compared
    without spaces, the first column of a field wins."""
    wanted = {clean(name): key for key, labels in names.items() for name in labels}
    for index, row in enumerate(grid[:rows]):
        positions: dict[str, int] = {}
        ignored: list[str] = []
        for position, cell in enumerate(row):
            label = clean(cell.text)
            key = wanted.get(label)
            if key is not None and key not in positions:
                positions[key] = position
            elif label:
                ignored.append(cell.text.strip())
        if all(key in positions for key in needs):
            return Header(index, positions, ignored)
    return None


def row_fault(header: Header, number: int, key: str, zh: str, en: str) -> Fault:
    """A fault of row `number`'s `key` column: its cell named when the file has the column,
    else the row."""
    position = header.positions.get(key)
    if position is None:
        return Fault(number, key, f"第 {number} 行：{zh} / row {number}: {en}")
    return Fault(number, key, at_cell(cell_ref(position, number), zh, en))


@dataclass
class Row:
    """One data row: its cells by field, and every fault found reading them."""

    number: int
    """1-based, as the spreadsheet shows it."""
    values: dict[str, str]
    header: Header
    labels: Mapping[str, str]
    faults: list[Fault] = field(default_factory=list)

    def text(self, key: str) -> str:
        return self.values.get(key, "")

    def fault(self, key: str, zh: str, en: str) -> None:
        self.faults.append(row_fault(self.header, self.number, key, zh, en))

    def date(self, key: str, *, required: bool = True) -> date | None:
        """The column's date; a fault when it is not one (or blank and required)."""
        text = self.text(key)
        if not text and not required:
            return None
        parsed = parse_date(text)
        if parsed is None:
            label = self.labels[key]
            self.fault(
                key,
                f"{label}“{text}”不是日期（年-月-日）",
                f"{label} {text!r} is not a date (YYYY-MM-DD)",
            )
        return parsed

    def choice(self, key: str, words: Mapping[str, T], *, one_of: Sequence[str]) -> T | None:
        """The value a vocabulary word names (spaces ignored); a fault naming the choices."""
        text = self.text(key)
        value = words.get(clean(text))
        if value is None:
            label = self.labels[key]
            self.fault(
                key,
                f"{label}“{text}”须为{'、'.join(one_of)}之一",
                f"{label} {text!r} must be one of {', '.join(one_of)}",
            )
        return value

    def unknown(self, key: str, what_zh: str, what_en: str) -> None:
        """The column's value is none of the words it may hold (`what`: which those are)."""
        label, text = self.labels[key], self.text(key)
        self.fault(
            key,
            f"{label}“{text}”不是{what_zh}",
            f"{label} {text!r} is not {what_en}",
        )

    def required_text(self, key: str, *, limit: int) -> str | None:
        """The column's text, at most `limit` characters; a fault when blank or longer."""
        text = self.text(key)
        if not text:
            label = self.labels[key]
            self.fault(key, f"{label}不能为空", f"{label} is required")
            return None
        return self.optional_text(key, limit=limit)

    def optional_text(self, key: str, *, limit: int) -> str | None:
        """The column's text (None when blank); a fault when longer than `limit`."""
        text = self.text(key)
        if len(text) > limit:
            label = self.labels[key]
            self.fault(key, f"{label}超过{limit}字", f"{label} is over {limit} characters")
            return None
        return text or None

    def row_id(self, key: str) -> int | None:
        """The id the column gives (a whole number from 1); a fault when it is not one."""
        text = self.text(key)
        number = whole_number(text)
        if number is None or number < 1:
            label = self.labels[key]
            self.fault(
                key,
                f"{label}“{text}”不是编号（正整数）",
                f"{label} {text!r} is not an id (a whole number from 1)",
            )
            return None
        return number


def data_rows(grid: Grid, header: Header, labels: Mapping[str, str]) -> Iterator[Row]:
    """The rows below the header that have anything in the columns read, each as a Row."""
    for number, cells in enumerate(grid[header.index + 1 :], start=header.index + 2):
        values = {
            key: cells[position].text.strip() if position < len(cells) else ""
            for key, position in header.positions.items()
        }
        if any(values.values()):
            yield Row(number, values, header, labels)
