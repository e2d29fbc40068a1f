"""What the spreadsheet reader hands back: items, problems, and the grid it reads them from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel

from app.models.item import ItemAttributes

Severity = Literal["error", "warning", "missing"]


class ImportProblem(BaseModel):
    """One thing the importer could not take as it stands.

    row is the 1-based row number in the file (what Excel shows; for a CSV the record
    number), 0 for the file or its header. field is an ITEM field name, or "file" /
    "header". severity: "error" blocks the import, "missing" is a required attribute the
    draft may still lack, "warning" is something ignored or reinterpreted.
    """

    row: int
    field: str
    msg: str
    severity: Severity


class ImportedItem(ItemAttributes):
    """二级事项 / one second-level item read from a data row, values normalised (the
    ITEM's attributes as every response shows them, plus the row it comes from)."""

    row: int


class ColumnReading(BaseModel):
    """How one header column was read: its letter, its header as written (row 1/row 2),
    the ITEM field it feeds ("ignored" when none), the value a tick there means, and why."""

    column: str
    header: str
    field: str
    value: str = ""
    note: str = ""


class ImportResult(BaseModel):
    """rows counts the data rows that describe an item (headings and blank rows excluded);
    items holds only the rows without an error, numbered 1.. in file order."""

    rows: int
    items: list[ImportedItem]
    problems: list[ImportProblem]
    ignored_columns: list[str]
    columns: list[ColumnReading] = []
    notes: list[str] = []
    """How the file as a whole was read (header rows, filled-down cells, skipped rows)."""

    @property
    def errors(self) -> list[ImportProblem]:
        return [p for p in self.problems if p.severity == "error"]


class BadFile(Exception):
    """The upload cannot be read as a table at all; status_code is the HTTP answer."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message


MergeCopy = Literal["", "down", "across"]


@dataclass(frozen=True)
class Cell:
    """One grid cell as text ("" when empty).

    merged says whether the text is a copy from a merged range: "down" below its origin
    in the same column, "across" in a column right of it. formula holds the cell's
    reference (e.g. "D7") when it held a formula, which is never evaluated.
    """

    text: str = ""
    merged: MergeCopy = ""
    formula: str = ""

    @property
    def own(self) -> bool:
        """Written in this cell itself, not copied from a merged range."""
        return self.merged == "" and bool(self.text or self.formula)


EMPTY = Cell()

Grid = list[list[Cell]]


@dataclass(frozen=True)
class Sheet:
    name: str
    grid: Grid
