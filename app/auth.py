"""Bearer tokens → Principal(role, unit); role dependencies and the unit-scope rule."""

import hmac
import logging
import re
from datetime import timedelta
from typing import Annotated
from urllib.parse import unquote

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session, col, select

from app.config import get_settings
from app.db import SessionDep, reading
from app.errors import Forbidden, Unauthorized
from app.models.common import Role, utcnow
from app.models.dashboard import DashboardSession
from app.models.token import ApiToken
from app.models.unit import Unit
from app.principal import Principal
from app.services import tokens
from app.services.tokens import TOKEN_PREFIX
from app.services.tokens import authenticate as authenticate
from app.services.tokens import hash_token as hash_token
from app.services.tokens import principal_of as principal_of

_SECRET = re.compile(re.escape(TOKEN_PREFIX) + r"[A-Za-z0-9_-]{8,}")


def redact(text: str) -> str:
    """Mask tokens, also percent-encoded ones (`?t=gk%5F…`): a text whose decoded form
    holds a token is logged decoded and masked."""
    decoded = text
    for _ in range(3):  # %255F is %5F once decoded, then _
        once = unquote(decoded)
        if once == decoded:
            break
        decoded = once
    if decoded != text and _SECRET.search(decoded):
        text = decoded
    return _SECRET.sub(TOKEN_PREFIX + "***", text)


class RedactTokens(logging.Filter):
    """Masks anything shaped like one of our tokens in a log record.

    Tokens travel only in the Authorization header, which nothing logs, and no route reads
    one from a query string; but the access log prints the query string, and a client may
    still paste its token there. Formatters read record.args positionally (uvicorn's
    access formatter unpacks them), so each argument is masked in place.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True


def create_token(
    session: Session,
    *,
    role: Role,
    unit_code: str | None = None,
    label: str | None = None,
    expires_in: timedelta | None = None,
) -> tuple[ApiToken, str]:
    """Make a token without logging it (tests, benchmarks); the CLI and the HTTP routes
    issue theirs through services.tokens.issue, which logs each one."""
    expires_at = utcnow() + expires_in if expires_in is not None else None
    return tokens.make(session, role=role, unit_code=unit_code, label=label, expires_at=expires_at)


SESSION_COOKIE = "gkml_session"
"""The pages' session cookie (app/api/dashboard.py sets it at sign-in)."""


def session_alive(row: DashboardSession, *, idle: timedelta, lifetime: timedelta) -> bool:
    now = utcnow()
    return (
        row.ended_at is None and row.last_seen_at + idle > now and row.created_at + lifetime > now
    )


def find_session(session: Session, session_id: str) -> tuple[DashboardSession, Principal] | None:
    """The signed-in page session behind a cookie and whom it stands for, or None once it
    ended, idled out, outlived its absolute lifetime or its token was revoked or expired.
    Each use (at most once a minute) moves the idle deadline on."""
    digest = hash_token(session_id)
    row = session.exec(
        select(DashboardSession, ApiToken, Unit.kind)
        .join(ApiToken, col(ApiToken.id) == col(DashboardSession.token_id))
        .join(Unit, col(Unit.code) == col(ApiToken.unit_code), isouter=True)
        .where(DashboardSession.session_hash == digest)
    ).first()
    if row is None:
        return None
    found, token, kind = row
    settings = get_settings()
    idle = timedelta(minutes=settings.dashboard_idle_minutes)
    lifetime = timedelta(hours=settings.dashboard_lifetime_hours)
    if not hmac.compare_digest(found.session_hash, digest) or not session_alive(
        found, idle=idle, lifetime=lifetime
    ):
        return None
    try:
        principal = principal_of(token, kind)
    except Unauthorized:
        return None
    if utcnow() - found.last_seen_at > timedelta(minutes=1):
        found.last_seen_at = utcnow()
        session.add(found)
    return found, principal


BEARER = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    bearerFormat="gk_…",
    description=(
        "A token made with `python -m app tokens create --role ROLE [--unit CODE]` or by an "
        "admin (`POST /api/v1/tokens`), sent as `Authorization: Bearer gk_…`. It is bound "
        "to one role (editor, auditor, admin) and, for an editor, one unit. Published "
        "content needs none. Without a valid token: 401; outside its scope: 403."
    ),
)
"""Declares the bearer scheme in the OpenAPI (so /docs offers "Authorize"); the header
itself is read by `authenticate`, which keeps the 401 messages below."""
BearerDeclared = Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)]


def authorization_header(request: Request) -> str | None:
    return request.headers.get("authorization")


def get_optional_principal(
    request: Request, session: SessionDep, _credentials: BearerDeclared = None
) -> Principal | None:
    """The bearer token's principal; on a GET without one, the signed-in pages' session
    (so a page's links to the JSON and CSV behind its figures open in the same browser;
    SameSite=Strict keeps other sites from using it, and no write accepts it)."""
    authorization = authorization_header(request)
    if (
        authorization is None
        and request.method in ("GET", "HEAD")
        and (cookie := request.cookies.get(SESSION_COOKIE))
        and (found := find_session(session, cookie)) is not None
    ):
        return found[1]
    if request.method in ("GET", "HEAD") or session.in_transaction():
        return authenticate(session, authorization)
    # A write: read the token in a read-only transaction and end it, so the write lock
    # (BEGIN IMMEDIATE on SQLite) is taken at the request's first own query, not held
    # while the request waits for its next turn in the thread pool.
    with reading():
        principal = authenticate(session, authorization)
    session.commit()
    return principal


def get_principal(
    principal: Annotated[Principal | None, Depends(get_optional_principal)],
) -> Principal:
    if principal is None:
        raise Unauthorized("需要令牌 / a bearer token is required")
    return principal


def require_role(principal: Principal, *roles: Role) -> Principal:
    if principal.role not in roles:
        raise Forbidden(f"需要角色 {'/'.join(roles)} / this needs the role {' or '.join(roles)}")
    return principal


WRITER_ROLES = (Role.editor, Role.admin)


def read_writer(session: Session, authorization: str | None) -> Principal:
    """A write's bearer token as the Writer dependency judges it (401, then 403 on the role),
    for a write route that reads it in its own session (app/api/requests.py)."""
    principal = authenticate(session, authorization)
    if principal is None:
        raise Unauthorized("需要令牌 / a bearer token is required")
    return require_role(principal, *WRITER_ROLES)


def _require(*roles: Role) -> object:
    async def check(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        return require_role(principal, *roles)

    return check


OptionalPrincipal = Annotated[Principal | None, Depends(get_optional_principal)]
AnyPrincipal = Annotated[Principal, Depends(get_principal)]
Writer = Annotated[Principal, Depends(_require(*WRITER_ROLES))]
Auditor = Annotated[Principal, Depends(_require(Role.auditor, Role.admin))]
Admin = Annotated[Principal, Depends(_require(Role.admin))]

SYSTEM = Principal(role=Role.admin, unit_code=None)
"""The actor of changes made from the command line (seed, imports by the operator)."""
