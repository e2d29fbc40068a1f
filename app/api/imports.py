"""Fill a catalogue's draft wholesale: spreadsheet import (dry run or all or nothing) and
the national standard guide."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from app.api.deps import WritableCatalogue, WritableUnit, get_unit, require_writable
from app.api.responses import AUTHED, CONFLICT, STALE, Message
from app.api.uploads import UPLOAD_BODY, SettingsDep, UploadDep
from app.auth import BearerDeclared, Writer, authenticate, authorization_header, get_principal
from app.config import Settings
from app.db import SessionDep, SessionFactoryDep, reading
from app.errors import Forbidden
from app.models.catalogue import CataloguePublic
from app.models.common import Role
from app.models.imports import ImportRejected, ImportReport
from app.principal import Principal
from app.services import catalogues, imports
from app.spreadsheet.limits import FileLimits

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


def early_writer(
    unit_code: str,
    sessions: SessionFactoryDep,
    request: Request,
    _credentials: BearerDeclared = None,
) -> Principal:
    """The token and its unit scope, checked in a short read of its own before the upload
    is read: no file is parsed for a caller who may not import here, and the request's
    own transaction (the one that writes) starts only once the file is read."""
    with reading(), sessions() as session:
        principal = get_principal(authenticate(session, authorization_header(request)))
        if principal.role not in (Role.editor, Role.admin):
            raise Forbidden("需要角色 editor/admin / this needs the role editor or admin")
        require_writable(get_unit(unit_code, session), principal)
    return principal


def read_import_file(
    _writer: Annotated[Principal, Depends(early_writer)], upload: UploadDep, settings: SettingsDep
) -> imports.Reading:
    """Parse and check the file with no database transaction open (a worker thread)."""
    return imports.read(
        upload.filename,
        upload.data,
        max_bytes=settings.max_upload_bytes,
        max_rows=settings.max_import_rows,
        limits=file_limits(settings),
    )


def file_limits(settings: Settings) -> FileLimits:
    return FileLimits(
        sheet_rows=settings.max_sheet_rows,
        columns=settings.max_sheet_columns,
        cells=settings.max_sheet_cells,
        merged_ranges=settings.max_merged_ranges,
        uncompressed_bytes=settings.max_uncompressed_bytes,
        shared_strings_bytes=settings.max_shared_strings_bytes,
        xml_elements=settings.max_xml_elements,
    )


@router.post(
    f"{CATALOGUE}/import",
    response_model=ImportReport,
    responses=AUTHED | STALE | IMPORT_ERRORS,
    openapi_extra=UPLOAD_BODY,
)
def import_catalogue(
    reading: Annotated[imports.Reading, Depends(read_import_file)],  # first: before any lock
    catalogue: WritableCatalogue,
    writer: Writer,
    response: Response,
    session: SessionDep,
    dry_run: Annotated[bool, Query(description="only report; change nothing")] = False,
) -> ImportReport:
    """导入 a catalogue table (XLSX, or CSV in UTF-8 or GBK): with `dry_run=true` the report
    and the would-be items; otherwise all rows replace the draft's items, or 422 with the
    same report and nothing changes. The file is read and checked before the catalogue is
    locked; limits on its size and shape answer 413 naming the limit."""
    report = imports.run(session, catalogue, reading, dry_run=dry_run, actor=writer)
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
