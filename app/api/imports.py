"""Fill a catalogue's draft wholesale: spreadsheet import (dry run or all or nothing) and
the national standard guide."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from app.api.deps import WritableCatalogue, WritableUnit
from app.api.responses import AUTHED, CONFLICT, STALE, Message
from app.api.uploads import UPLOAD_BODY, SettingsDep, UploadDep
from app.auth import Writer
from app.db import SessionDep
from app.models.catalogue import CataloguePublic
from app.models.imports import ImportRejected, ImportReport
from app.services import catalogues, imports

router = APIRouter(tags=["imports"])
CATALOGUE = "/units/{unit_code}/catalogues/{domain_code}"

IMPORT_ERRORS: dict[int | str, dict[str, Any]] = {
    413: {"model": Message, "description": "the file or its row count is over the cap"},
    415: {"model": Message, "description": "not an .xlsx workbook or CSV text (or a macro one)"},
    422: {
        "model": ImportRejected,
        "description": "the file has errors (the report, nothing changed), or it cannot be "
        "read as a table at all (corrupt, empty, password-protected; FastAPI's shape)",
    },
}


@router.post(
    f"{CATALOGUE}/import",
    response_model=ImportReport,
    responses=AUTHED | STALE | IMPORT_ERRORS,
    openapi_extra=UPLOAD_BODY,
)
def import_catalogue(
    catalogue: WritableCatalogue,
    writer: Writer,
    upload: UploadDep,
    settings: SettingsDep,
    response: Response,
    session: SessionDep,
    dry_run: Annotated[bool, Query(description="only report; change nothing")] = False,
) -> ImportReport:
    """导入 a catalogue table (XLSX, or CSV in UTF-8 or GBK): with `dry_run=true` the report
    and the would-be items; otherwise all rows replace the draft's items, or 422 with the
    same report and nothing changes."""
    report = imports.run(
        session,
        catalogue,
        filename=upload.filename,
        data=upload.data,
        dry_run=dry_run,
        max_bytes=settings.max_upload_bytes,
        max_rows=settings.max_import_rows,
        actor=writer,
    )
    if report.applied:
        response.headers["ETag"] = catalogues.etag(catalogue)
    return report


@router.post(
    f"{CATALOGUE}/from-guide",
    response_model=CataloguePublic,
    responses=AUTHED | CONFLICT | STALE,
)
def catalogue_from_guide(
    catalogue: WritableCatalogue,
    unit: WritableUnit,
    writer: Writer,
    response: Response,
    session: SessionDep,
    replace: Annotated[bool, Query(description="replace the draft's items if it has any")] = False,
) -> CataloguePublic:
    """Start the draft from the national standard guide: its items for the unit's level
    (district 县级, street or town 乡级; an item naming no level applies to both). 409 if
    the draft already has items, unless `replace=true`."""
    imports.from_guide(session, catalogue, unit, replace_items=replace, actor=writer)
    response.headers["ETag"] = catalogues.etag(catalogue)
    return catalogues.to_public(session, catalogue)
