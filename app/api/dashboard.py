"""看板 / the pages people look at: sign-in, the city, a district, a unit (the clerk's
workspace: what is left, drafts as XLSX, upload → dry run → apply).

Server-rendered HTML with no external assets; the figures come from app/services/dashboard.py,
which reads the completeness audit. Not in the OpenAPI document (pages, not API); docs/pages.md
describes them. Scope as for the API: outside it a page answers 403.
"""

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Form, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from app.api.imports import file_limits
from app.auth import SESSION_COOKIE, find_session
from app.config import get_settings
from app.db import SessionDep
from app.errors import AppError, Unauthorized
from app.models.catalogue import Catalogue
from app.models.common import Role, UnitKind, today_in_beijing
from app.models.dashboard import DashboardSession
from app.models.domain import Domain
from app.models.imports import ImportReport
from app.models.unit import Unit
from app.principal import Principal
from app.render import dashboard as render
from app.render import published
from app.render.published import Format
from app.services import catalogues, imports, views
from app.services import dashboard as service
from app.services import dashboard_sessions as sessions
from app.services.audit import AUDITED_KINDS

router = APIRouter(prefix="/dashboard", include_in_schema=False)
LOGIN_COOKIE = "gkml_login"
"""Double-submit token of the sign-in form (there is no session to hold it yet)."""

POLICY = (
    "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": POLICY,
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


class PageError(Exception):
    """Answered as an HTML page with this status (403 outside the scope, 404, 400)."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message


class SignInRequired(Exception):
    """No live session: back to the sign-in form."""


@dataclass(frozen=True)
class Signed:
    row: DashboardSession
    principal: Principal


def html(name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(render.page(name, **context), status_code=status_code, headers=HEADERS)


def optional_signed(request: Request, session: SessionDep) -> Signed | None:
    cookie = request.cookies.get(SESSION_COOKIE)
    found = find_session(session, cookie) if cookie else None
    result = Signed(*found) if found else None
    if result is not None:  # the error page offers sign-out and the way home (plain values:
        # the database session has ended by the time an error page is drawn)
        request.state.dashboard_signed = {
            "principal": result.principal,
            "csrf": result.row.csrf_token,
            "home": sessions.landing(result.principal),
        }
    return result


def signed(signed: Annotated[Signed | None, Depends(optional_signed)]) -> Signed:
    if signed is None:
        raise SignInRequired
    return signed


OptionalSigned = Annotated[Signed | None, Depends(optional_signed)]
SignedDep = Annotated[Signed, Depends(signed)]
AsOf = Annotated[date | None, Query(description="default: today")]


def _unit(session: SessionDep, code: str) -> Unit:
    unit = session.get(Unit, code)
    if unit is None or unit.kind not in AUDITED_KINDS:
        raise PageError(404, f"单位 {code} 不存在或不在审计范围 / no audited unit {code}")
    return unit


def _readable(signed: Signed, unit: Unit) -> None:
    if not signed.principal.can_read(unit):
        raise PageError(403, "超出令牌的单位范围 / outside the unit scope of this token")


def _writable(signed: Signed, unit: Unit) -> None:
    if not signed.principal.can_write(unit):
        raise PageError(403, "超出令牌的单位范围 / outside the unit scope of this token")


def _unit_link(row: service.GridRow) -> str:
    return f"/dashboard/units/{row.unit_code}"


def _csrf(signed: Signed, given: str | None) -> None:
    try:
        sessions.check_csrf(signed.row, given)
    except AppError as exc:
        raise PageError(403, exc.message) from exc


def _common(signed: Signed, as_of: date) -> dict[str, Any]:
    principal = signed.principal
    return {
        "principal": principal,
        "is_auditor": principal.role in (Role.auditor, Role.admin),
        "csrf": signed.row.csrf_token,
        "as_of": as_of,
        "home": sessions.landing(principal),
    }


# ----------------------------------------------------------------------------- sign-in


@router.get("")
def dashboard_home(request: Request, signed: OptionalSigned) -> Response:
    if signed is not None:
        return RedirectResponse(sessions.landing(signed.principal), status_code=303)
    return _sign_in_form(request)


def _sign_in_form(request: Request, status_code: int = 200, message: str = "") -> Response:
    token = request.cookies.get(LOGIN_COOKIE) or sessions.new_secret()
    response = html("login.html", status_code, login_csrf=token, message=message)
    response.set_cookie(
        LOGIN_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/dashboard",
    )
    return response


@router.post("/login")
def dashboard_login(
    request: Request,
    session: SessionDep,
    token: Annotated[str, Form(max_length=200)] = "",
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    expected = request.cookies.get(LOGIN_COOKIE)
    if not expected or not sessions.same(expected, csrf):
        return _sign_in_form(request, 403, sessions.CSRF_FAILED)
    try:
        session_id, principal = sessions.sign_in(session, token)
    except Unauthorized as exc:
        return _sign_in_form(request, 401, exc.message)
    response = RedirectResponse(sessions.landing(principal), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        session_id,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    response.delete_cookie(LOGIN_COOKIE, path="/dashboard")
    return response


@router.post("/logout")
def dashboard_logout(
    signed: SignedDep,
    session: SessionDep,
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    _csrf(signed, csrf)
    sessions.sign_out(session, signed.row)
    response = RedirectResponse("/dashboard", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# ------------------------------------------------------------------------------- pages


@router.get("/city")
def dashboard_city(signed: SignedDep, session: SessionDep, as_of: AsOf = None) -> Response:
    if signed.principal.role not in (Role.auditor, Role.admin):
        raise PageError(403, "全市看板仅限审计 / the city page is for the auditor")
    day = as_of or today_in_beijing()
    view = service.city(session, as_of=day)
    return html(
        "city.html",
        view=view,
        unit_link=lambda row: f"/dashboard/districts/{row.unit_code}",
        bar_district=lambda bar: bar.label_code,
        **_common(signed, day),
    )


@router.get("/districts/{code}")
def dashboard_district(
    code: str, signed: SignedDep, session: SessionDep, as_of: AsOf = None
) -> Response:
    unit = _unit(session, code)
    if unit.kind != UnitKind.district:
        raise PageError(404, f"{code} 不是区 / {code} is not a district")
    _readable(signed, unit)
    day = as_of or today_in_beijing()
    auditor = signed.principal.role in (Role.auditor, Role.admin)
    view = service.district(session, unit, as_of=day, filing=auditor)
    return html(
        "district.html",
        view=view,
        unit=unit,
        unit_link=_unit_link,
        bar_district=lambda bar: unit.code,
        **_common(signed, day),
    )


@router.get("/units/{code}")
def dashboard_unit(
    code: str,
    signed: SignedDep,
    session: SessionDep,
    as_of: AsOf = None,
    imported: Annotated[int | None, Query(ge=0, le=1_000_000)] = None,
    domain: Annotated[str | None, Query(max_length=3)] = None,
) -> Response:
    unit = _unit(session, code)
    _readable(signed, unit)
    day = as_of or today_in_beijing()
    view = service.unit_page(session, unit, as_of=day)
    district = service.district_of(session, unit)
    return html(
        "unit.html",
        view=view,
        agenda=service.agenda(view),
        unit=unit,
        district=district,
        unit_link=_unit_link,
        bar_district=lambda bar: district.code if district else None,
        writable=signed.principal.can_write(unit),
        imported=imported,
        imported_domain=domain,
        **_common(signed, day),
    )


# ---------------------------------------------------------------- drafts in and out


def _catalogue_target(session: SessionDep, code: str, domain_code: str) -> tuple[Unit, Domain]:
    unit = _unit(session, code)
    domain = session.get(Domain, domain_code)
    if domain is None:
        raise PageError(404, f"领域 {domain_code} 不存在 / domain {domain_code} not found")
    return unit, domain


@router.get("/units/{code}/catalogues/{domain_code}.xlsx")
def dashboard_draft_xlsx(
    code: str, domain_code: str, signed: SignedDep, session: SessionDep
) -> Response:
    """The working copy as the standard table, exactly as the editor's export gives it."""
    unit, domain = _catalogue_target(session, code, domain_code)
    _readable(signed, unit)
    catalogue = catalogues.get_or_new(session, unit, domain)
    rendered = published.render(views.catalogue_view(session, catalogue), Format.xlsx)
    assert rendered.disposition is not None
    return Response(
        rendered.body,
        media_type=rendered.media_type,
        headers={"Content-Disposition": rendered.disposition, "Cache-Control": "no-store"},
    )


@router.post("/units/{code}/import")
async def dashboard_import_preview(
    code: str, request: Request, signed: SignedDep, session: SessionDep
) -> Response:
    """Dry run of an uploaded table: its rows and errors; the file waits on the session."""
    unit = _unit(session, code)
    _writable(signed, unit)
    settings = get_settings()
    async with request.form(max_files=1, max_fields=5) as form:
        _csrf(signed, _text(form.get("csrf")))
        domain_code, upload = _text(form.get("domain")), form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise PageError(400, "请选择文件 / choose a file to upload")
        data = await upload.read(settings.max_upload_bytes + 1)
        filename = upload.filename
    return await run_in_threadpool(_preview, session, signed, code, domain_code, filename, data)


def _preview(
    session: SessionDep, signed: Signed, code: str, domain_code: str, filename: str, data: bytes
) -> Response:
    unit, domain = _catalogue_target(session, code, domain_code)
    catalogue = catalogues.get_or_new(session, unit, domain)
    report, problem = _run(session, signed, catalogue, filename, data, dry_run=True)
    if report is not None and not report.errors:
        sessions.keep_upload(
            session, signed.row, unit=unit.code, domain=domain.code, name=filename, data=data
        )
    return html(
        "import.html",
        400 if problem else 200,
        unit=unit,
        domain=domain,
        report=report,
        problem=problem,
        **_common(signed, today_in_beijing()),
    )


@router.post("/units/{code}/catalogues/{domain_code}/apply")
def dashboard_import_apply(
    code: str,
    domain_code: str,
    signed: SignedDep,
    session: SessionDep,
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Apply the file the dry run showed: all rows replace the draft's items, or nothing."""
    _csrf(signed, csrf)
    unit, domain = _catalogue_target(session, code, domain_code)
    _writable(signed, unit)
    kept = sessions.kept_upload(signed.row, unit=unit.code, domain=domain.code)
    if kept is None:
        raise PageError(
            409, "没有待导入的文件，请重新上传 / nothing waits to be applied: upload again"
        )
    catalogue = catalogues.get_or_new(session, unit, domain)
    report, problem = _run(session, signed, catalogue, *kept, dry_run=False)
    if report is None or not report.applied:
        return html(
            "import.html",
            422,
            unit=unit,
            domain=domain,
            report=report,
            problem=problem,
            **_common(signed, today_in_beijing()),
        )
    sessions.forget_upload(signed.row)
    session.add(signed.row)
    target = render.url(f"/dashboard/units/{unit.code}", imported=report.items, domain=domain.code)
    return RedirectResponse(target, status_code=303)


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _run(
    session: SessionDep,
    signed: Signed,
    catalogue: Catalogue,
    filename: str,
    data: bytes,
    *,
    dry_run: bool,
) -> tuple[ImportReport | None, str]:
    """The import service, as the API runs it; a refusal becomes the page's message."""
    settings = get_settings()
    try:
        reading = imports.read(
            filename,
            data,
            max_bytes=settings.max_upload_bytes,
            max_rows=settings.max_import_rows,
            limits=file_limits(settings),
        )
        report = imports.run(session, catalogue, reading, dry_run=dry_run, actor=signed.principal)
    except imports.ImportFailed as exc:
        return exc.report, exc.message
    except AppError as exc:
        return None, exc.message
    except RequestValidationError as exc:
        return None, "; ".join(str(error.get("msg", "")) for error in exc.errors())
    return report, ""


# ------------------------------------------------------------------------ wiring


async def _page_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PageError)
    context: dict[str, Any] = getattr(request.state, "dashboard_signed", {})
    return html(
        "error.html", exc.status_code, status=exc.status_code, message=exc.message, **context
    )


async def _sign_in_required(request: Request, exc: Exception) -> Response:
    return RedirectResponse("/dashboard", status_code=303)


def register(app: FastAPI) -> None:
    """The pages, their static files (CSS, the table-sorting script) and error pages."""
    app.include_router(router)
    app.mount("/dashboard/static", StaticFiles(directory=render.STATIC), name="dashboard-static")
    app.add_exception_handler(PageError, _page_error)
    app.add_exception_handler(SignInRequired, _sign_in_required)
