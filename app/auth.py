"""Bearer tokens → Principal(role, unit); role dependencies and the unit-scope rule."""

import hashlib
import hmac
import logging
import re
import secrets
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import Depends, Header
from sqlmodel import Session, col, select

from app.db import SessionDep
from app.errors import Forbidden, Unauthorized
from app.models.common import Role, UnitKind, utcnow
from app.models.token import ApiToken
from app.models.unit import Unit
from app.principal import Principal

TOKEN_PREFIX = "gk_"
_SECRET = re.compile(re.escape(TOKEN_PREFIX) + r"[A-Za-z0-9_-]{8,}")


def redact(text: str) -> str:
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


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(
    session: Session,
    *,
    role: Role,
    unit_code: str | None = None,
    label: str | None = None,
    expires_in: timedelta | None = None,
) -> tuple[ApiToken, str]:
    """Make a token; the secret is returned once and only its hash is kept."""
    if role == Role.editor and unit_code is None:
        raise ValueError("an editor token needs a unit (--unit CODE)")
    if unit_code is not None and session.get(Unit, unit_code) is None:
        raise ValueError(f"unknown unit {unit_code}")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        token_hash=hash_token(secret),
        prefix=secret[:10],
        role=role,
        unit_code=unit_code,
        label=label,
        expires_at=utcnow() + expires_in if expires_in else None,
    )
    session.add(token)
    session.flush()
    return token, secret


def _bearer(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, secret = authorization.partition(" ")
    return secret.strip() if scheme.lower() == "bearer" and secret.strip() else None


def authenticate(session: Session, authorization: str | None) -> Principal | None:
    secret = _bearer(authorization)
    if secret is None:
        return None
    digest = hash_token(secret)
    row = session.exec(
        select(ApiToken, Unit.kind)
        .join(Unit, col(Unit.code) == col(ApiToken.unit_code), isouter=True)
        .where(ApiToken.token_hash == digest)
    ).first()
    if row is None:
        raise Unauthorized("令牌无效 / invalid token")
    token, kind = row
    # The lookup is by hash; compare again in constant time so no timing leaks the match.
    if not hmac.compare_digest(token.token_hash, digest):
        raise Unauthorized("令牌无效 / invalid token")
    now = utcnow()
    if token.revoked_at is not None:
        raise Unauthorized("令牌已被吊销 / token revoked")
    if token.expires_at is not None and token.expires_at <= now:
        raise Unauthorized("令牌已过期 / token expired")
    return Principal(
        role=Role(token.role),
        unit_code=token.unit_code,
        unit_kind=UnitKind(kind) if kind else None,
        token_id=token.id,
    )


def get_optional_principal(
    session: SessionDep, authorization: Annotated[str | None, Header()] = None
) -> Principal | None:
    return authenticate(session, authorization)


def get_principal(
    principal: Annotated[Principal | None, Depends(get_optional_principal)],
) -> Principal:
    if principal is None:
        raise Unauthorized("需要令牌 / a bearer token is required")
    return principal


def _require(*roles: Role) -> object:
    def check(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        if principal.role not in roles:
            raise Forbidden(
                f"需要角色 {'/'.join(roles)} / this needs the role {' or '.join(roles)}"
            )
        return principal

    return check


OptionalPrincipal = Annotated[Principal | None, Depends(get_optional_principal)]
AnyPrincipal = Annotated[Principal, Depends(get_principal)]
Writer = Annotated[Principal, Depends(_require(Role.editor, Role.admin))]
Auditor = Annotated[Principal, Depends(_require(Role.auditor, Role.admin))]
Admin = Annotated[Principal, Depends(_require(Role.admin))]

SYSTEM = Principal(role=Role.admin, unit_code=None)
"""The actor of changes made from the command line (seed, imports by the operator)."""


def token_expiry(days: int | None) -> timedelta | None:
    return timedelta(days=days) if days else None


def describe(token: ApiToken) -> dict[str, object]:
    """A listing row: never the secret, never the hash."""
    return {
        "id": token.id,
        "prefix": token.prefix,
        "role": token.role,
        "unit_code": token.unit_code,
        "label": token.label,
        "created_at": token.created_at.isoformat(timespec="seconds"),
        "expires_at": token.expires_at.isoformat(timespec="seconds") if token.expires_at else None,
        "revoked_at": token.revoked_at.isoformat(timespec="seconds") if token.revoked_at else None,
    }


def revoke(session: Session, token_id: int, *, at: datetime | None = None) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None:
        raise ValueError(f"no token {token_id}")
    token.revoked_at = at or utcnow()
    session.add(token)
    session.flush()
    return token
