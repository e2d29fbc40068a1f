"""Turn uploaded bytes into grids of text, or refuse them with BadFile (never anything else)."""

from __future__ import annotations

import csv
import io
import unicodedata
import warnings
import zipfile
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any

from defusedxml import DefusedXmlException

from app.spreadsheet.header import find_layout
from app.spreadsheet.limits import FileLimits
from app.spreadsheet.models import EMPTY, BadFile, Cell, Grid, Sheet

if TYPE_CHECKING:
    from app.spreadsheet.sheetxml import ElementBudget

ZIP_MAGIC = b"PK\x03\x04"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Formats people upload by mistake; a clear 415 beats a confusing "no header found".
OTHER_MAGICS: tuple[tuple[bytes, str], ...] = (
    (b"%PDF", "PDF"),
    (b"\x89PNG", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF8", "GIF"),
    (b"{\\rtf", "RTF"),
)
MACRO_SUFFIXES = (".xlsm", ".xltm", ".xlam")
CSV_DELIMITERS = (",", "\t")

SUPPORTED = "请上传 .xlsx 或 CSV 文件 / upload an .xlsx or CSV file"


def load_sheets(
    filename: str, data: bytes, *, max_bytes: int, max_rows: int, limits: FileLimits | None = None
) -> list[Sheet]:
    """The file's sheets as grids of text (a CSV is one sheet); BadFile if it has none,
    or 413 naming the limit as soon as reading it would pass one of the limits."""
    limits = limits or FileLimits()
    if len(data) > max_bytes:
        raise BadFile(
            413,
            f"文件过大（{len(data)} 字节，上限 {max_bytes}）/ file too large "
            f"({len(data)} bytes, limit {max_bytes})",
        )
    if not data.strip():
        raise BadFile(422, "文件为空 / the file is empty")
    if data.startswith(OLE2_MAGIC):
        raise _ole2_error(data)
    for magic, kind in OTHER_MAGICS:
        if data.startswith(magic):
            raise BadFile(
                415, f"这是 {kind} 文件，不是电子表格 / this is a {kind} file. {SUPPORTED}"
            )
    if data.startswith(ZIP_MAGIC):
        sheets = _load_xlsx(filename, data, max_rows=max_rows, limits=limits)
    else:
        sheets = _load_csv(data, max_rows=max_rows, limits=limits)
    if not any(cell.own for sheet in sheets for row in sheet.grid for cell in row):
        raise BadFile(422, "表格为空 / the table is empty")
    return sheets


def too_many_rows(count: int, max_rows: int) -> BadFile:
    return BadFile(
        413,
        f"数据行过多（{count} 行，上限 {max_rows}）/ too many rows ({count}, limit {max_rows})",
    )


def _ole2_error(data: bytes) -> BadFile:
    # Excel stores a password-protected .xlsx as an OLE2 container with this stream.
    if "EncryptedPackage".encode("utf-16-le") in data:
        return BadFile(
            422,
            "文件有密码保护，请取消密码后重新上传 / the workbook is password-protected; "
            "remove the password and upload it again",
        )
    return BadFile(
        415,
        "不支持旧版 Excel 97-2003（.xls）等 OLE 格式，请另存为 .xlsx 或 CSV / old .xls "
        "(OLE2) files are not supported; save as .xlsx or CSV",
    )


# ---- XLSX ----------------------------------------------------------------------------


def _load_xlsx(filename: str, data: bytes, *, max_rows: int, limits: FileLimits) -> list[Sheet]:
    _check_package(filename, data, limits=limits)
    from app.spreadsheet.sheetxml import ElementBudget, open_workbook  # openpyxl: XLSX only

    try:
        with warnings.catch_warnings():
            # openpyxl warns about unsupported extensions (data validation, …) it skips.
            warnings.simplefilter("ignore")
            # read_only opens the sheets without parsing them; SheetStream then reads each
            # sheet's XML once, under the limits (cells and merged ranges).
            workbook = open_workbook(io.BytesIO(data))
            budget = ElementBudget(limits)
            try:
                return [
                    Sheet(
                        ws.title, _sheet_grid(ws, max_rows=max_rows, limits=limits, budget=budget)
                    )
                    for ws in workbook.worksheets
                ]
            finally:
                workbook.close()
    except BadFile:
        raise
    except Exception as exc:  # openpyxl raises anything from KeyError to XML errors
        if _caused_by(exc, DefusedXmlException):  # openpyxl wraps it in a ValueError
            raise BadFile(
                422,
                "XLSX 含有 XML 实体或文档类型声明，不予读取 / the XLSX declares XML entities "
                "or a DTD, which are refused",
            ) from exc
        raise BadFile(
            422,
            f"无法读取 XLSX 文件（文件损坏？）/ cannot read the XLSX file (corrupt?): {exc}",
        ) from exc


def _caused_by(exc: BaseException | None, kind: type[BaseException]) -> bool:
    while exc is not None:
        if isinstance(exc, kind):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _check_package(filename: str, data: bytes, *, limits: FileLimits) -> None:
    """The zip's declared sizes bound what unzipping yields (zipfile stops there)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            names = set(package.namelist())
            inflated = sum(info.file_size for info in package.infolist())
            strings = sum(
                info.file_size
                for info in package.infolist()
                if info.filename.lower().endswith("sharedstrings.xml")
            )
            types = (
                package.read("[Content_Types].xml").decode("utf-8", "replace")
                if "[Content_Types].xml" in names
                else ""
            )
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, KeyError, EOFError) as exc:
        raise BadFile(422, f"ZIP/XLSX 文件损坏 / the XLSX (zip) file is corrupt: {exc}") from exc
    if (
        filename.lower().endswith(MACRO_SUFFIXES)
        or "xl/vbaProject.bin" in names
        or ("macroEnabled" in types)
    ):
        raise BadFile(
            415,
            "不接受含宏的工作簿（.xlsm），请另存为 .xlsx / macro-enabled workbooks (.xlsm) "
            "are not accepted; save as .xlsx",
        )
    if "spreadsheetml" not in types:
        kind = "OpenDocument (.ods)" if "mimetype" in names else "ZIP"
        raise BadFile(
            415,
            f"这是 {kind} 文件，不是 .xlsx 工作簿 / this {kind} file is not an .xlsx "
            f"workbook. {SUPPORTED}",
        )
    if inflated > limits.uncompressed_bytes:
        raise limits.over(
            "解压后字节数", "uncompressed size in bytes", inflated, limits.uncompressed_bytes
        )
    if strings > limits.shared_strings_bytes:
        raise limits.over(
            "共享字符串字节数", "shared strings size in bytes", strings, limits.shared_strings_bytes
        )


def _sheet_grid(ws: Any, *, max_rows: int, limits: FileLimits, budget: ElementBudget) -> Grid:
    from openpyxl.utils.cell import get_column_letter

    from app.spreadsheet.sheetxml import SheetStream

    cells: dict[tuple[int, int], Cell] = {}
    filled_rows: set[int] = set()
    stream = SheetStream(ws, limits, budget)
    for row, column, value, data_type in stream.cells():
        key = (row - 1, column - 1)
        if data_type == "f":
            cells[key] = Cell(formula=f"{get_column_letter(column)}{row}")
        else:
            cells[key] = Cell(text=_text(value))
        limits.check_cells(len(cells))
        filled_rows.add(row)
        # Early stop: the exact check on data rows comes later; this bounds the work.
        if len(filled_rows) > max_rows + 50:
            raise too_many_rows(len(filled_rows), max_rows)
    # A range reaching below the last written row only copies into rows nothing else
    # fills, which the reader passes over: clip it (a merge may span a million rows).
    height = max((r for r, _ in cells), default=-1) + 1
    clipped = [
        (top - 1, left - 1, min(bottom, height), min(right, limits.columns))
        for left, top, right, bottom in stream.merged
    ]
    # Checked before copying anything: one range may cover millions of cells.
    limits.check_cells(len(cells) + sum(max(0, b - t) * max(0, r - le) for t, le, b, r in clipped))
    for top, left, bottom, right in clipped:
        _spread(cells, top, left, bottom, right)
    return _densify(cells, limits)


def _spread(
    cells: dict[tuple[int, int], Cell], top: int, left: int, bottom: int, right: int
) -> None:
    """Copy a merged range's value into the cells it covers, marking them as copies."""
    origin = cells.get((top, left), EMPTY)
    for r in range(top, bottom):
        for c in range(left, right):
            if (r, c) != (top, left):
                cells[(r, c)] = Cell(origin.text, "down" if c == left else "across")


def _densify(cells: dict[tuple[int, int], Cell], limits: FileLimits) -> Grid:
    used = [key for key, cell in cells.items() if cell.text or cell.formula]
    if not used:
        return []
    height = max(r for r, _ in used) + 1
    width = max(c for _, c in used) + 1
    limits.check_area(height, width)
    return [[cells.get((r, c), EMPTY) for c in range(width)] for r in range(height)]


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


# ---- CSV -----------------------------------------------------------------------------


def _load_csv(data: bytes, *, max_rows: int, limits: FileLimits) -> list[Sheet]:
    """One sheet, split by the delimiter (comma or tab) that yields the better header."""
    text = _decode(data)
    if not text.strip():
        raise BadFile(422, "文件为空 / the file is empty")
    candidates = [d for d in CSV_DELIMITERS if d in text] or [","]
    grids = [_csv_rows(text, d, max_rows=max_rows, limits=limits) for d in candidates]
    best = max(grids, key=lambda grid: len(find_layout(grid).columns))
    return [Sheet("CSV", best)]


def _decode(data: bytes) -> str:
    """UTF-8 (BOM or not), then GB18030 (a superset of GBK); UTF-16 only with its BOM."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = _try_decode(data, "utf-16")
    elif b"\x00" in data[:65536]:
        raise BadFile(415, f"不是文本或电子表格文件 / not a text or spreadsheet file. {SUPPORTED}")
    else:
        text = _try_decode(data, "utf-8-sig") or _try_decode(data, "gb18030")
    if text is None or _looks_binary(text):
        raise BadFile(
            415,
            "无法识别文件编码（支持 UTF-8、GBK/GB18030）或不是表格文件 / cannot decode the "
            f"file as UTF-8 or GBK/GB18030 text, or it is not a table. {SUPPORTED}",
        )
    return text


def _try_decode(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        return None


def _looks_binary(text: str) -> bool:
    sample = text[:20000]
    controls = sum(
        1 for ch in sample if unicodedata.category(ch) in ("Cc", "Co", "Cs") and ch not in "\t\r\n"
    )
    return controls > len(sample) // 200


def _csv_rows(text: str, delimiter: str, *, max_rows: int, limits: FileLimits) -> Grid:
    grid: Grid = []
    filled_rows = 0
    cells = 0
    try:
        for record in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            # Every record counts, blank ones too: a million empty lines is a million rows.
            limits.check_row(len(grid) + 1)
            while record and not record[-1].strip():
                record.pop()  # trailing empty cells: separators, not columns
            if record:
                limits.check_column(len(record))
            cells += len(record)
            limits.check_cells(cells)
            row = [Cell(value) if value.strip() else EMPTY for value in record]
            filled_rows += any(cell.text for cell in row)
            if filled_rows > max_rows + 50:
                raise too_many_rows(filled_rows, max_rows)
            grid.append(row)
    except csv.Error as exc:  # e.g. a cell over the csv module's 128 KiB field limit
        raise BadFile(422, f"CSV 格式错误 / malformed CSV: {exc}") from exc
    while grid and not grid[-1]:
        grid.pop()
    width = max((len(row) for row in grid), default=0)
    limits.check_area(len(grid), width)
    return [row + [EMPTY] * (width - len(row)) for row in grid]
