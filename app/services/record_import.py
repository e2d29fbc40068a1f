"""导入公开记录 / records from a spreadsheet: the same checks as a push, dry run or all or nothing.

The file is read by the catalogue import's loader (XLSX; CSV in UTF-8 or GBK). The header
row is the first of the first ten rows naming 标题 and 链接; an item is named by 事项ID, or
by 一级事项 + 二级事项 among the unit's items.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlmodel import Session, col, select

from app.errors import bilingual, invalid
from app.models.catalogue import Catalogue
from app.models.common import today_in_beijing
from app.models.item import Item
from app.models.record import RecordIn
from app.models.unit import Unit
from app.principal import Principal
from app.services import imports, records
from app.spreadsheet import BadFile, columns
from app.spreadsheet.files import load_sheets

HEADERS: dict[str, tuple[str, ...]] = {
    "title": ("标题", "信息标题", "title"),
    "url": ("链接", "网址", "链接地址", "url"),
    "formed_on": ("形成日期", "形成或变更日期", "信息形成日期", "formed_on"),
    "published_on": ("发布日期", "公开日期", "published_on"),
    "item_id": ("事项ID", "事项id", "事项编号", "item_id", "id"),
    "first_level": ("一级事项", "first_level"),
    "name": ("二级事项", "name"),
}
LABELS = {field: names[0] for field, names in HEADERS.items()} | {"item": "事项"}
HEADER_ROWS = 10


def _note(fault: columns.Fault) -> dict[str, Any]:
    return {"row": fault.row, "field": fault.field, "msg": fault.msg}


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
        raise imports.file_error(exc) from exc
    found = next(
        (
            (sheet, header)
            for sheet in sheets
            if (
                header := columns.find_header(
                    sheet.grid, HEADERS, needs=("title", "url"), rows=HEADER_ROWS
                )
            )
            is not None
        ),
        None,
    )
    if found is None:
        raise invalid(
            ("body", "file"),
            columns.no_header([LABELS[f] for f in ("title", "url", "formed_on", "published_on")]),
            "header_not_found",
        )
    sheet, header = found
    faults = [
        columns.missing_column(LABELS[field], field)
        for field in ("formed_on", "published_on")
        if field not in header.positions
    ]
    if "item_id" not in header.positions and not {"first_level", "name"} <= header.positions.keys():
        faults.append(
            columns.Fault(
                0,
                "item_id",
                "缺少“事项ID”列或“一级事项”“二级事项”列 / name the item by 事项ID "
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
    for row in [] if faults else columns.data_rows(sheet.grid, header, LABELS):
        raw: dict[str, Any] = {"title": row.text("title"), "url": row.text("url")}
        raw["formed_on"] = row.date("formed_on")
        raw["published_on"] = row.date("published_on")
        if row.text("item_id"):
            raw["item_id"] = row.row_id("item_id")
        else:
            key = (row.text("first_level"), row.text("name"))
            matches = by_name.get(key, [])
            if len(matches) == 1:
                raw["item_id"] = matches[0]
            elif not matches:
                row.fault("item", f"事项 {key[0]}/{key[1]} 不存在", "the item does not exist")
            else:
                row.fault(
                    "item",
                    f"事项 {key[0]}/{key[1]} 不唯一（请用事项ID）",
                    "the item is ambiguous: name it by 事项ID",
                )
        faults += row.faults
        if row.faults:
            continue
        try:
            rows.append(RecordIn.model_validate(raw))
            row_numbers.append(row.number)
        except ValidationError as exc:
            for error in exc.errors():
                field = str(error["loc"][0]) if error["loc"] else "row"
                zh, _, en = bilingual({**error, "loc": ("body", *error["loc"])}).partition(" / ")
                if zh.startswith(f"{field}："):  # a generic rule: name the column by its label
                    label = LABELS.get(field, field)
                    zh = f"{label}：{zh.removeprefix(f'{field}：')}"
                    en = f"{label}: {en.removeprefix(f'{field}: ')}"
                row.fault(field, zh, en or zh)
            faults += row.faults
    if rows:
        items = records.items_by_id(session, [row.item_id for row in rows])
        for problem in records.check(unit, rows, items, today=today_in_beijing()):
            _, _, index, field = problem["loc"]
            zh, _, en = str(problem["msg"]).partition(" / ")
            faults.append(columns.row_fault(header, row_numbers[index], field, zh, en or zh))
    errors = [_note(fault) for fault in faults]
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
