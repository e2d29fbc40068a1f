"""看板登录 / signing in to the pages: a token is exchanged for a server-side session.

The browser holds a random session id in a cookie; the database keeps only its SHA-256 hash
(as for tokens), a CSRF token every POST form must echo, and the one spreadsheet waiting
between its dry run and the button that applies it. app/auth.py:find_session reads a cookie
back (expiry, revocation); this module opens, checks and ends sessions.
"""

import hmac
import secrets

from sqlmodel import Session

from app.errors import Forbidden, Unauthorized
from app.models.common import Role, utcnow
from app.models.dashboard import DashboardSession
from app.principal import Principal
from app.services.tokens import authenticate, hash_token

CSRF_FAILED = "表单已过期，请刷新页面后重试 / the form is stale or forged: reload the page"


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def same(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode(), given.encode())


def sign_in(session: Session, token: str) -> tuple[str, Principal]:
    """Verify the token exactly as the API does (app/auth.py), then open a session.

    Returns the session's id, which only the cookie ever holds, and whom it stands for."""
    principal = authenticate(session, f"Bearer {token.strip()}")
    if principal is None or principal.token_id is None:
        raise Unauthorized("需要令牌 / a token is required")
    session_id = new_secret()
    row = DashboardSession(
        session_hash=hash_token(session_id),
        csrf_token=new_secret(),
        token_id=principal.token_id,
    )
    session.add(row)
    session.flush()
    return session_id, principal


def sign_out(session: Session, row: DashboardSession) -> None:
    """The cookie stops working at once, whatever the browser does with it."""
    row.ended_at = utcnow()
    forget_upload(row)
    session.add(row)
    session.flush()


def check_csrf(row: DashboardSession, given: str | None) -> None:
    if not given or not same(row.csrf_token, given):
        raise Forbidden(CSRF_FAILED)


def keep_upload(
    session: Session, row: DashboardSession, *, unit: str, domain: str, name: str, data: bytes
) -> None:
    """Hold the file a dry run checked, so that "apply" applies exactly that file."""
    row.upload_unit, row.upload_domain = unit, domain
    row.upload_name, row.upload_data = name, data
    session.add(row)
    session.flush()


def kept_upload(row: DashboardSession, *, unit: str, domain: str) -> tuple[str, bytes] | None:
    if (row.upload_unit, row.upload_domain) != (unit, domain) or row.upload_data is None:
        return None
    return row.upload_name or "", row.upload_data


def forget_upload(row: DashboardSession) -> None:
    row.upload_unit = row.upload_domain = row.upload_name = None
    row.upload_data = None


def landing(principal: Principal) -> str:
    """Where a signed-in person starts: the city for the auditor, else their own unit."""
    if principal.role in (Role.auditor, Role.admin) or principal.unit_code is None:
        return "/dashboard/city"
    if principal.unit_kind == "district":
        return f"/dashboard/districts/{principal.unit_code}"
    return f"/dashboard/units/{principal.unit_code}"
