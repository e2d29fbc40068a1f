"""公开记录 / disclosure records: CMS pushes and imports, lists, deletes, the timeliness
audit, and the public column (the published tree with each item's records)."""

from datetime import date
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Header, Query, Response

from app.api import public
from app.api.deps import (
    AuditScope,
    ReadableUnit,
    RowId,
    WritableUnit,
)
from app.api.files import JSON, REPORT_FILES, NextOffset, ReportFormat, UnitsPerPage, report_file
from app.api.imports import IMPORT_ERRORS
from app.api.responses import AUTHED, NOT_FOUND, STALE
from app.api.uploads import UPLOAD_BODY, SettingsDep, UploadDep
from app.auth import Writer
from app.db import SessionDep, SessionFactoryDep
from app.errors import Forbidden, NotFound, Stale, etag_matches
from app.models.common import MAX_ID
from app.models.imports import ImportReport
from app.models.record import (
    RecordBatch,
    RecordPage,
    RecordState,
    RecordsWritten,
    TimelinessReport,
)
from app.render import audit as render
from app.render import records as record_rows
from app.render.published import encoded_etag
from app.services import record_column, record_import, records, timeliness

router = APIRouter(tags=["records"])
UNIT_RECORDS = "/units/{unit_code}/records"


def _json(data: Any, status_code: int = 200) -> Response:
    # Plain dicts serialised once by orjson: response_model documents the shape, and a
    # thousand records validated again on the way out would cost more than storing them.
    return Response(orjson.dumps(data), status_code=status_code, media_type=JSON)


@router.post(UNIT_RECORDS, response_model=RecordsWritten, responses=AUTHED)
def create_records(
    batch: RecordBatch, unit: WritableUnit, writer: Writer, session: SessionDep
) -> Response:
    """Create or update up to 1,000 records, identified by (unit, url): all or nothing.

    A bad record → 422 naming its index and field (`loc`: body, records, index, field),
    and nothing is stored. docs/records.md explains due dates and states."""
    written = records.upsert(session, unit, batch.records, actor=writer)
    listed = written.encoded if written.encoded is not None else written.records
    return _json({"created": written.created, "updated": written.updated, "records": listed})


@router.get(UNIT_RECORDS, response_model=RecordPage, responses=AUTHED)
def list_records(
    unit: ReadableUnit,
    session: SessionDep,
    item_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    state: RecordState | None = None,
    published_from: Annotated[
        date | None, Query(alias="from", description="published on or after")
    ] = None,
    published_to: Annotated[
        date | None, Query(alias="to", description="published on or before")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="at most 1,000")] = 100,
    cursor: Annotated[
        str | None, Query(max_length=64, description="`next` of the previous page")
    ] = None,
) -> Response:
    """The unit's records by id, oldest first; `next` is the cursor of the next page (null
    on the last). Editors of the unit and auditors."""
    page, last = records.listing(
        session,
        unit,
        item_id=item_id,
        state=state,
        published_from=published_from,
        published_to=published_to,
        limit=limit,
        after=records.parse_cursor(cursor),
    )
    return _json({"items": page, "next": records.cursor(last) if last is not None else None})


@router.delete("/records/{record_id}", status_code=204, responses=AUTHED | STALE)
def delete_record(
    record_id: RowId,
    writer: Writer,
    session: SessionDep,
    if_match: Annotated[str | None, Header()] = None,
) -> Response:
    """Delete a record (editors of its unit). If-Match is optional; when sent it must be
    the record's current ETag (the list gives none, so a CMS may delete by id alone)."""
    found = records.find(session, record_id)
    if found is None:
        raise NotFound(f"记录 {record_id} 不存在 / record {record_id} not found")
    record, unit = found
    if not writer.can_write(unit):
        raise Forbidden("超出令牌的单位范围 / outside the unit scope of this token")
    if if_match is not None and not etag_matches(if_match, records.etag(record)):
        raise Stale("记录已被他人修改 / the record was changed by someone else")
    records.delete(session, record, actor=writer)
    return Response(status_code=204)


@router.post(
    f"{UNIT_RECORDS}/import",
    response_model=ImportReport,
    responses=AUTHED | IMPORT_ERRORS,
    openapi_extra=UPLOAD_BODY,
)
def import_records(
    unit: WritableUnit,
    writer: Writer,
    upload: UploadDep,
    settings: SettingsDep,
    session: SessionDep,
    dry_run: Annotated[bool, Query(description="only report; change nothing")] = False,
) -> Response:
    """导入 records from a spreadsheet (XLSX, or CSV in UTF-8 or GBK): columns 标题, 链接,
    形成日期, 发布日期 and the item by 事项ID or by 一级事项 + 二级事项. With `dry_run=true`
    the report only; otherwise all rows are stored, or 422 with the report and nothing."""
    report, status_code = record_import.run(
        session,
        unit,
        filename=upload.filename,
        data=upload.data,
        dry_run=dry_run,
        max_bytes=settings.max_upload_bytes,
        max_rows=settings.max_import_rows,
        actor=writer,
    )
    return _json(report, status_code)


# ---- the timeliness audit ------------------------------------------------------------------


@router.get(
    "/audit/timeliness",
    response_model=TimelinessReport,
    responses=AUTHED | REPORT_FILES,
    tags=["audit"],
)
def audit_timeliness(
    scope: AuditScope,
    session: SessionDep,
    format: ReportFormat = "json",
    limit: UnitsPerPage = 100,
    offset: NextOffset = 0,
) -> Response:
    """Per unit × domain over the latest version published as of `as_of`: items, records,
    on time, late, unknown, blank and stale items with the lists behind them; a unit is
    flagged at 5 or more blank or stale items. docs/records.md has the rules."""
    report = timeliness.report(session, scope, limit=limit, offset=offset)
    if format == "json":
        return _json(report)
    name = f"政务公开时效审计_{scope.district or '全部'}_{scope.as_of.isoformat()}"
    if format == "csv":
        content = render.to_csv(record_rows.timeliness_rows(report))
        return report_file(content, "csv", name, report["next_offset"])
    sheets = [
        ("时效明细", record_rows.timeliness_rows(report)),
        ("空白与不更新栏目", record_rows.timeliness_item_rows(report)),
        ("逾期记录", record_rows.late_record_rows(report)),
    ]
    return report_file(render.to_xlsx(sheets), "xlsx", name, report["next_offset"])


# ---- the public column ---------------------------------------------------------------------

ColumnFormat = Literal["json", "html", "fragment"]


@router.get(
    "/public/units/{unit_code}/catalogues/{domain_code}/records",
    responses={200: {"content": {"text/html": {"schema": {"type": "string"}}}}}
    | NOT_FOUND
    | public.NOT_MODIFIED,
    tags=["public"],
)
async def read_published_records(
    unit_code: str,
    domain_code: str,
    sessions: SessionFactoryDep,
    fmt: Annotated[
        ColumnFormat, Query(alias="format", description="json (the tree), html or fragment")
    ] = "json",
    if_none_match: public.IfNoneMatch = None,
    accept_encoding: public.AcceptEncoding = None,
) -> Response:
    """The latest published version's tree with each item's records, newest first (no
    token). The ETag changes whenever one of the catalogue's records does. `fragment` is
    the HTML to include in a website's page (docs/website.md); gzip or brotli on request
    (Accept-Encoding), each encoding with its own ETag."""
    key = await record_column.current(sessions, unit_code, domain_code)
    if key is None:
        raise NotFound(
            f"单位 {unit_code} 领域 {domain_code} 没有已发布的版本 / unit {unit_code} has no "
            f"published version of domain {domain_code}"
        )
    encoding = public.negotiate(accept_encoding)
    etag = encoded_etag(key.etag(fmt), encoding)
    # Last-Modified says when the version was published; records change without it, so
    # only If-None-Match can answer 304 here.
    if if_none_match is not None and public.etag_matches(if_none_match, etag):
        return public.unchanged(etag, None, public.LATEST_CACHE, negotiated=True)
    rendering = await record_column.column(sessions, key, fmt)
    return public.answer(rendering, public.LATEST_CACHE, encoding)
