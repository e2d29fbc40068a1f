"""导入 / fill a catalogue's draft wholesale: from a spreadsheet (dry run or all or nothing)
or from the national standard guide's items for the unit's level."""

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import ValidationError
from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from app import faults
from app.errors import Conflict, Rejected, TooLarge, UnsupportedMedia, bilingual, invalid
from app.models.catalogue import Catalogue
from app.models.guide import GuideItem
from app.models.imports import (
    ImportColumn,
    ImportNote,
    ImportPreviewItem,
    ImportRejected,
    ImportReport,
)
from app.models.item import Item, ItemCreate
from app.models.request import RequestImportRejected, RequestImportReport
from app.models.unit import GUIDE_LEVEL, Unit
from app.principal import Principal
from app.rules.attributes import missing_attributes
from app.services import items as item_service
from app.services import locks
from app.spreadsheet import BadFile, read_table
from app.spreadsheet.limits import FileLimits

ITEM_FIELDS: set[str] = set(ItemCreate.model_fields) - {"position"}
NOTE_LIMIT = 1000
"""Change.note's length."""


Report = TypeVar("Report", ImportReport, RequestImportReport)


class ImportFailed(Rejected, Generic[Report]):
    """422 with the import report (a catalogue's or the request register's): the file has
    errors and nothing was changed; `detail` lists them as loc = ["file", row, field]."""

    def __init__(self, report: Report) -> None:
        detail = [
            {"loc": ["file", error.row, error.field], "msg": error.msg, "type": "import_error"}
            for error in report.errors
        ]
        rejected = ImportRejected if isinstance(report, ImportReport) else RequestImportRejected
        super().__init__(
            f"导入文件有 {len(report.errors)} 处错误，未做任何修改 / the file has "
            f"{len(report.errors)} errors; nothing was changed",
            rejected(**report.model_dump(), detail=detail).model_dump(mode="json"),
        )
        self.report: Report = report


@dataclass
class Reading:
    """A file read and checked: the report and the valid items, in file order."""

    report: ImportReport
    items: list[ItemCreate]


def read(
    filename: str, data: bytes, *, max_bytes: int, max_rows: int, limits: FileLimits | None = None
) -> Reading:
    """Read a catalogue table and check every item through ItemCreate, the JSON API's rules.

    Raises 413/415 (TooLarge, UnsupportedMedia) or 422 for a file that is not a readable
    table at all; everything found inside a table is a row problem in the report.
    """
    try:
        result = read_table(filename, data, max_bytes=max_bytes, max_rows=max_rows, limits=limits)
    except BadFile as exc:
        raise file_error(exc) from exc
    errors: list[ImportNote] = []
    warnings: list[ImportNote] = []
    missing: list[ImportNote] = []
    lists = {"error": errors, "warning": warnings, "missing": missing}
    for problem in result.problems:
        lists[problem.severity].append(
            ImportNote(row=problem.row, field=problem.field, msg=problem.msg)
        )
    items: list[ItemCreate] = []
    preview: list[ImportPreviewItem] = []
    for imported in result.items:
        try:
            item = ItemCreate.model_validate(imported.model_dump(include=ITEM_FIELDS))
        except ValidationError as exc:
            errors += [
                ImportNote(
                    row=imported.row,
                    field=str(error["loc"][0]) if error["loc"] else "item",
                    msg=bilingual({**error, "loc": ("body", *error["loc"])}),
                )
                for error in exc.errors()
            ]
            continue
        item.position = len(items) + 1
        items.append(item)
        values = item.model_dump()
        preview.append(
            ImportPreviewItem(**values, row=imported.row, missing=missing_attributes(values))
        )
    if len(items) > item_service.MAX_ITEMS_PER_CATALOGUE:
        errors.append(
            ImportNote(
                row=0,
                field="file",
                msg=f"一个目录最多 {item_service.MAX_ITEMS_PER_CATALOGUE} 个事项，文件有 "
                f"{len(items)} 个 / a catalogue holds at most "
                f"{item_service.MAX_ITEMS_PER_CATALOGUE} items, the file has {len(items)}",
            )
        )
    errors.sort(key=lambda note: note.row)
    report = ImportReport(
        filename=filename,
        dry_run=True,
        applied=False,
        rows=result.rows,
        items=len(items),
        replaced=0,
        errors=errors,
        warnings=warnings,
        missing=missing,
        ignored_columns=result.ignored_columns,
        preview=preview,
        columns=[ImportColumn(**reading.model_dump()) for reading in result.columns],
        notes=result.notes,
    )
    return Reading(report, items)


def file_error(exc: BadFile) -> Exception:
    """The one answer to an upload that is no readable table: 413, 415 or 422 (every
    import: catalogues, records, the request register)."""
    if exc.status_code == 413:
        return TooLarge(exc.message)
    if exc.status_code == 415:
        return UnsupportedMedia(exc.message)
    return invalid(("body", "file"), exc.message, "file_unreadable")


def run(
    session: Session,
    catalogue: Catalogue,
    reading: Reading,
    *,
    dry_run: bool,
    actor: Principal,
) -> ImportReport:
    """导入: a dry run reports what would happen; otherwise the file's items replace the
    draft's in this transaction, or ImportFailed (422) and nothing changes.

    The file was read (read()) before: parsing needs no database, so it never holds the
    write lock."""
    report = reading.report
    filename = report.filename
    if dry_run:
        report.replaced = _count(session, catalogue)
        return report
    report.dry_run = False
    report.preview = []
    if report.errors:
        raise ImportFailed(report)
    note = (
        f"导入文件“{filename}”，{report.rows} 行，{report.items} 个事项 / imported "
        f"{filename!r}: {report.rows} rows, {report.items} items"
    )
    report.replaced = replace(
        session,
        catalogue,
        reading.items,
        action="import",
        note=note,
        detail={"filename": filename, "rows": report.rows},
        actor=actor,
    )
    session.flush()
    faults.pause_after_flush("import")
    report.applied = True
    return report


def from_guide(
    session: Session, catalogue: Catalogue, unit: Unit, *, replace_items: bool, actor: Principal
) -> int:
    """Fill the draft with the standard guide's items for the unit's level; the count.

    A guide item applies when its 公开层级 include the unit's level (GUIDE_LEVEL) or when
    it names no level at all (most guide items do not). Items are copied as they stand:
    a guide item without 公开主体 makes an item that lacks it, for the office to fill in.
    """
    level = GUIDE_LEVEL.get(unit.kind)
    if level is None:
        raise Conflict(
            f"标准指引只适用于区（县级）和街道、镇（乡级），不适用于{unit.name} / the standard "
            f"guide covers districts (县级) and streets or towns (乡级), not a {unit.kind} unit"
        )
    if not replace_items and _count(session, catalogue):
        raise Conflict(
            "草稿已有事项；如需以标准指引替换，请加 ?replace=true / the draft already has items; "
            "pass ?replace=true to replace them with the guide's"
        )
    guide = session.exec(
        select(GuideItem)
        .where(GuideItem.domain_code == catalogue.domain_code)
        .order_by(col(GuideItem.position), col(GuideItem.id))
    ).all()
    chosen = [
        ItemCreate.model_validate(guide_item.model_dump(include=ITEM_FIELDS))
        for guide_item in guide
        if not guide_item.levels or level in guide_item.levels
    ]
    if not chosen:
        raise Conflict(
            f"该领域的标准指引没有{level}事项 / the guide has no {level} items for this domain"
        )
    replace(
        session,
        catalogue,
        chosen,
        action="from_guide",
        note=f"按标准指引（{level}）生成 {len(chosen)} 个事项 / {len(chosen)} items from the "
        f"standard guide ({level})",
        detail={"level": level},
        actor=actor,
    )
    return len(chosen)


def replace(
    session: Session,
    catalogue: Catalogue,
    new_items: list[ItemCreate],
    *,
    action: str,
    note: str,
    detail: dict[str, Any],
    actor: Principal,
) -> int:
    """Replace every item of the draft by new_items (positions 1..n), logged as one change
    whose `before` keeps the old items; answers how many were replaced."""
    with locks.contents(session, catalogue, actor=actor) as change:
        assert catalogue.id is not None
        old = item_service.ordered(session, catalogue.id)
        before = {"item_count": len(old), "items": [item_service.snapshot(item) for item in old]}
        session.execute(delete(Item).where(col(Item.catalogue_id) == catalogue.id))
        session.add_all(
            item_service.build(catalogue.id, data, position=position)
            for position, data in enumerate(new_items, start=1)
        )
        change.log(
            action,
            "catalogue",
            catalogue.id,
            before=before,
            after={"item_count": len(new_items), **detail},
            note=note[:NOTE_LIMIT],
        )
    return len(old)


def _count(session: Session, catalogue: Catalogue) -> int:
    if catalogue.id is None:
        return 0
    return session.exec(select(func.count()).where(Item.catalogue_id == catalogue.id)).one()
