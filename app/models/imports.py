"""导入 / what a spreadsheet import answers: the rows read, the items, every problem."""

from typing import Any

from sqlmodel import SQLModel

from app.models.item import ItemAttributes


class ImportNote(SQLModel):
    """One problem of the file: its 1-based row (0 = the file or its header), the ITEM
    field (or "file" / "header") and the rule, in Chinese and English."""

    row: int
    field: str
    msg: str


class ImportColumn(SQLModel):
    """How one column of the file was read: its letter (A, B, …), its header as written
    (row 1/row 2 of a two-row header), the ITEM field it feeds ("ignored" when none,
    "seq" for 序号), the value a tick in it means, and the reading in words."""

    column: str
    header: str
    field: str
    value: str = ""
    note: str = ""


class ImportPreviewItem(ItemAttributes):
    """An item the import would create, with the row it comes from and what it lacks."""

    row: int
    missing: list[str]


class ImportReport(SQLModel):
    """rows: data rows that describe an item; items: the items created (or, in a dry run,
    that would be); replaced: the draft's items they replace (or would).

    errors block the import; missing lists required attributes the draft may still lack
    (the catalogue cannot be compiled until they are filled in); warnings list what was
    ignored or reinterpreted. preview holds the would-be items of a dry run. columns says
    how each header was read and notes how the file as a whole was (header rows, cells
    filled down, repeated header rows skipped).
    """

    filename: str
    dry_run: bool
    applied: bool
    rows: int
    items: int
    replaced: int
    errors: list[ImportNote]
    warnings: list[ImportNote]
    missing: list[ImportNote]
    ignored_columns: list[str]
    preview: list[ImportPreviewItem]
    columns: list[ImportColumn] = []
    notes: list[str] = []


class ImportRejected(ImportReport):
    """422 of an import that has errors: the report, plus the errors in the general
    validation shape (loc = ["file", row, field]) under detail; nothing was changed."""

    detail: list[dict[str, Any]]
