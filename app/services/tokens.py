"""API tokens: issue, list, revoke; the one place their rules live (the CLI and HTTP share it).

Only a SHA-256 hash of a secret is stored; the secret is answered once, when it is made.
Every issue and revoke goes into the history (who, when, which token id, its role, unit and
expiry), never the secret nor its hash.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from app.errors import Conflict, Unauthorized
from app.models.common import Role, UnitKind, iso_utc, today_in_beijing, utcnow
from app.models.token import ApiToken
from app.models.unit import Unit
from app.principal import Principal
from app.services import history

TOKEN_PREFIX = "gk_"
MAX_DAYS = 3660
"""The longest a token may be issued for: ten years (and a few leap days)."""


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass
class TokenProblem(ValueError):
    """A token request that breaks a rule: which field, what kind, a bilingual message."""

    field: str
    kind: str
    message: str

    def __str__(self) -> str:
        return self.message


def expiry(
    *, days: int | None = None, on: date | None = None, today: date | None = None
) -> datetime | None:
    """When a new token expires: `days` (1..MAX_DAYS) from now or at the end of day `on`
    (UTC; tomorrow at the earliest, at most MAX_DAYS ahead); neither: never."""
    if days is not None and on is not None:
        raise TokenProblem(
            "expires_on",
            "one_expiry",
            "expires_days 与 expires_on 只能填一个 / send expires_days or expires_on, not both",
        )
    if days is not None:
        if not 1 <= days <= MAX_DAYS:
            raise TokenProblem(
                "expires_days",
                "expiry_range",
                f"有效天数须为 1 到 {MAX_DAYS} / expires_days must be 1 to {MAX_DAYS} "
                "(leave it out for a token that never expires)",
            )
        return utcnow() + timedelta(days=days)
    if on is not None:
        today = today or today_in_beijing()
        if not today < on <= today + timedelta(days=MAX_DAYS):
            raise TokenProblem(
                "expires_on",
                "expiry_range",
                f"到期日须在明天到 {MAX_DAYS} 天之内 / expires_on must be after today and "
                f"within {MAX_DAYS} days",
            )
        return datetime.combine(on + timedelta(days=1), time(0), tzinfo=UTC)
    return None


def check_scope(session: Session, role: Role, unit_code: str | None) -> None:
    """An editor token writes for one unit, which must exist; auditor and admin tokens read
    everything, so a unit on them would only mislead."""
    if role == Role.editor and unit_code is None:
        raise TokenProblem(
            "unit_code",
            "unit_required",
            "编辑令牌必须指定单位 / an editor token needs a unit (--unit CODE)",
        )
    if role != Role.editor and unit_code is not None:
        raise TokenProblem(
            "unit_code",
            "unit_not_allowed",
            f"只有编辑令牌绑定单位 / only editor tokens are bound to a unit; an {role.value} "
            "token reads all",
        )
    if unit_code is not None and session.get(Unit, unit_code) is None:
        raise TokenProblem(
            "unit_code", "unknown_unit", f"单位 {unit_code} 不存在 / unknown unit {unit_code}"
        )


def make(
    session: Session,
    *,
    role: Role,
    unit_code: str | None = None,
    label: str | None = None,
    expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """A new token row and its secret (scope checked; no history: see `issue`)."""
    check_scope(session, role, unit_code)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        token_hash=hash_token(secret),
        prefix=secret[:10],
        role=role,
        unit_code=unit_code,
        label=label,
        expires_at=expires_at,
    )
    session.add(token)
    session.flush()
    return token, secret


def issue(
    session: Session,
    *,
    role: Role,
    unit_code: str | None,
    label: str | None,
    expires_at: datetime | None,
    actor: Principal,
) -> tuple[ApiToken, str]:
    """Make a token and log it: the secret is returned once and never stored."""
    token, secret = make(
        session, role=role, unit_code=unit_code, label=label, expires_at=expires_at
    )
    history.record(
        session,
        actor,
        action="create",
        entity="token",
        entity_id=token.id,
        unit_code=unit_code,
        after=describe(token),
    )
    return token, secret


def listing(session: Session) -> list[ApiToken]:
    return list(session.exec(select(ApiToken).order_by(col(ApiToken.id))))


def revoke(session: Session, token: ApiToken, *, actor: Principal) -> ApiToken:
    """Revoke once: a revoked token stays revoked at the moment it first was (409 again)."""
    if token.revoked_at is not None:
        raise Conflict(f"令牌 {token.id} 已被吊销 / token {token.id} is already revoked")
    before = describe(token)
    token.revoked_at = utcnow()
    session.add(token)
    session.flush()
    history.record(
        session,
        actor,
        action="revoke",
        entity="token",
        entity_id=token.id,
        unit_code=token.unit_code,
        before=before,
        after=describe(token),
    )
    return token


def _second(moment: datetime | None) -> str | None:
    return iso_utc(moment.replace(microsecond=0)) if moment else None


def describe(token: ApiToken) -> dict[str, Any]:
    """A listing row: never the secret, never the hash."""
    return {
        "id": token.id,
        "prefix": token.prefix,
        "role": str(token.role),
        "unit_code": token.unit_code,
        "label": token.label,
        "created_at": _second(token.created_at),
        "expires_at": _second(token.expires_at),
        "revoked_at": _second(token.revoked_at),
    }


def etag(token: ApiToken) -> str:
    """Changes when the token does (revoked): the If-Match of a revoke."""
    state = f"{token.id}:{_second(token.revoked_at)}:{_second(token.expires_at)}"
    return f'"t{token.id}.{hashlib.sha256(state.encode()).hexdigest()[:12]}"'


# ---- who a bearer token stands for -------------------------------------------------------


def _bearer(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, secret = authorization.partition(" ")
    return secret.strip() if scheme.lower() == "bearer" and secret.strip() else None


_TOKENS = ApiToken.__table__  # type: ignore[attr-defined]
_UNITS = Unit.__table__  # type: ignore[attr-defined]
_BY_HASH = (
    core_select(
        _TOKENS.c.id,
        _TOKENS.c.token_hash,
        _TOKENS.c.role,
        _TOKENS.c.unit_code,
        _TOKENS.c.expires_at,
        _TOKENS.c.revoked_at,
        _UNITS.c.kind,
    )
    .select_from(_TOKENS.outerjoin(_UNITS, _UNITS.c.code == _TOKENS.c.unit_code))
    .where(_TOKENS.c.token_hash == bindparam("digest"))
)
"""Built once, and Core (no ORM object): every authenticated request runs it."""


def authenticate(session: Session, authorization: str | None) -> Principal | None:
    secret = _bearer(authorization)
    if secret is None:
        return None
    digest = hash_token(secret)
    row = session.connection().execute(_BY_HASH, {"digest": digest}).first()
    if row is None:
        raise Unauthorized("令牌无效 / invalid token")
    # The lookup is by hash; compare again in constant time so no timing leaks the match.
    if not hmac.compare_digest(row.token_hash, digest):
        raise Unauthorized("令牌无效 / invalid token")
    return _principal(row.id, row.role, row.unit_code, row.kind, row.revoked_at, row.expires_at)


def principal_of(token: ApiToken, kind: str | None) -> Principal:
    """The principal a stored token stands for; 401 once it is revoked or expired."""
    return _principal(
        token.id, token.role, token.unit_code, kind, token.revoked_at, token.expires_at
    )


def _principal(
    token_id: int | None,
    role: str,
    unit_code: str | None,
    kind: str | None,
    revoked_at: datetime | None,
    expires_at: datetime | None,
) -> Principal:
    if revoked_at is not None:
        raise Unauthorized("令牌已被吊销 / token revoked")
    if expires_at is not None and expires_at <= utcnow():
        raise Unauthorized("令牌已过期 / token expired")
    return Principal(
        role=Role(role),
        unit_code=unit_code,
        unit_kind=UnitKind(kind) if kind else None,
        token_id=token_id,
    )
