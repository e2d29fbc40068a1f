"""导入公开记录 / records from a spreadsheet: the same checks as a push, dry run or all or nothing.

The file is read by the catalogue import's loader (XLSX; CSV in UTF-8 or GBK). The header
row is the first of the first ten rows naming 标题 and 链接; an item is named by 事项ID, or
by 一级事项 + 二级事项 among the unit's items.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from pydantic import ValidationError
from sqlmodel import Session, col, select

from app.errors import invalid
from app.models.catalogue import Catalogue
from app.models.common import today_in_beijing
from app.models.item import Item
from app.models.record import RecordIn
from app.models.unit import Unit
from app.principal import Principal
from app.services import records
from app.services.imports import _file_error
from app.spreadsheet import BadFile
from app.spreadsheet.files import load_sheets
from app.spreadsheet.models import Grid

HEADERS: dict[str, tuple[str, ...]] = {
    "title": ("标题", "信息标题", "title"),
    "url": ("链接", "网址", "链接地址", "url"),
    "formed_on": ("形成日期", "形成或变更日期", "信息形成日期", "formed_on"),
    "published_on": ("发布日期", "公开日期", "published_on"),
    "item_id": ("事项ID", "事项id", "事项编号", "item_id", "id"),
    "first_level": ("一级事项", "first_level"),
    "name": ("二级事项", "name"),
}
_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T].*)?$")


def _header(grid: Grid) -> tuple[int, dict[str, int]] | None:
    for index, row in enumerate(grid[:10]):
        columns: dict[str, int] = {}
        for position, cell in enumerate(row):
            label = cell.text.strip()
            for field, names in HEADERS.items():
                if label in names and field not in columns:
                    columns[field] = position
        if "title" in columns and "url" in columns:
            return index, columns
    return None


def _date(text: str) -> date | None:
    match = _DATE.match(text.strip())
    if match is None:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def _note(row: int, field: str, msg: str) -> dict[str, Any]:
    return {"row": row, "field": field, "msg": msg}


def run(
    session: Session,
    unit: Unit,
    *,
    filename: str,
    data: bytes,
    dry_run: bool,
    max_bytes: int,
    max_rows: int,
    actor: Principal,
) -> tuple[dict[str, Any], int]:
    """The report and its status: 200, or 422 when the file has errors (nothing stored)."""
    try:
        sheets = load_sheets(filename, data, max_bytes=max_bytes, max_rows=max_rows)
    except BadFile as exc:
        raise _file_error(exc) from exc
    found = next(((s, h) for s in sheets if (h := _header(s.grid)) is not None), None)
    if found is None:
        raise invalid(
            ("body", "file"),
            "找不到表头（需要 标题、链接、形成日期、发布日期 列）/ no header row naming 标题 "
            "(title), 链接 (url), 形成日期 and 发布日期",
            "header_not_found",
        )
    sheet, (header_row, columns) = found
    errors: list[dict[str, Any]] = []
    for field in ("formed_on", "published_on"):
        if field not in columns:
            errors.append(_note(0, field, f"缺少 {HEADERS[field][0]} 列 / no {field} column"))
    if "item_id" not in columns and not {"first_level", "name"} <= columns.keys():
        errors.append(
            _note(
                0,
                "item_id",
                "缺少 事项ID 或 一级事项+二级事项 列 / name the item by 事项ID "
                "or by 一级事项 + 二级事项",
            )
        )
    by_name: dict[tuple[str, str], list[int]] = {}
    for item_id, first_level, name in session.exec(
        select(col(Item.id), col(Item.first_level), col(Item.name))
        .join(Catalogue, col(Catalogue.id) == col(Item.catalogue_id))
        .where(Catalogue.unit_code == unit.code)
    ).all():
        by_name.setdefault((first_level.strip(), name.strip()), []).append(int(item_id or 0))

    rows: list[RecordIn] = []
    row_numbers: list[int] = []
    for offset, cells in enumerate(sheet.grid[header_row + 1 :]):
        number = header_row + 2 + offset
        values = {
            field: cells[position].text.strip() if position < len(cells) else ""
            for field, position in columns.items()
        }
        if not any(values.values()):
            continue
        if errors and any(e["row"] == 0 for e in errors):
            break
        raw: dict[str, Any] = {"title": values.get("title", ""), "url": values.get("url", "")}
        for field in ("formed_on", "published_on"):
            parsed = _date(values.get(field, ""))
            if parsed is None:
                errors.append(
                    _note(
                        number,
                        field,
                        f"日期无法识别：{values.get(field, '')!r} / not a date (YYYY-MM-DD)",
                    )
                )
            raw[field] = parsed
        if values.get("item_id"):
            text = values["item_id"]
            raw["item_id"] = int(text) if text.isdecimal() and len(text) < 10 else -1
        else:
            key = (values.get("first_level", ""), values.get("name", ""))
            matches = by_name.get(key, [])
            if len(matches) != 1:
                what = "不存在" if not matches else "不唯一（请用事项ID）"
                errors.append(
                    _note(
                        number,
                        "item",
                        f"事项 {key[0]}/{key[1]} {what} / the item "
                        f"{'does not exist' if not matches else 'is ambiguous: use 事项ID'}",
                    )
                )
                continue
            raw["item_id"] = matches[0]
        if any(raw.get(field) is None for field in ("formed_on", "published_on")):
            continue
        try:
            rows.append(RecordIn.model_validate(raw))
            row_numbers.append(number)
        except ValidationError as exc:
            for error in exc.errors():
                field = str(error["loc"][0]) if error["loc"] else "row"
                errors.append(_note(number, field, error["msg"]))
    if rows:
        items = records.items_by_id(session, [row.item_id for row in rows])
        for problem in records.check(unit, rows, items, today=today_in_beijing()):
            _, _, index, field = problem["loc"]
            errors.append(_note(row_numbers[index], field, problem["msg"]))
    report: dict[str, Any] = {
        "filename": filename,
        "dry_run": dry_run,
        "applied": False,
        "rows": len(rows),
        "created": 0,
        "updated": 0,
        "errors": errors,
    }
    if errors:
        if dry_run:
            return report, 200
        report["detail"] = [
            {"loc": ["file", e["row"], e["field"]], "msg": e["msg"], "type": "import_error"}
            for e in errors
        ]
        return report, 422
    if not dry_run and rows:
        written = records.upsert(session, unit, rows, actor=actor)
        report.update(applied=True, created=written.created, updated=written.updated)
    return report, 200
