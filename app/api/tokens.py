"""API tokens for admins: list, issue (the secret shown once), revoke (If-Match)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Response

from app.api.deps import RowId, require_match
from app.api.responses import AUTHED, CONFLICT, STALE
from app.auth import Admin
from app.db import SessionDep
from app.errors import NotFound, invalid
from app.models.token import ApiToken, TokenCreate, TokenIssued, TokenPublic
from app.services import tokens

router = APIRouter(tags=["tokens"])


def get_token(token_id: RowId, _admin: Admin, session: SessionDep) -> ApiToken:
    if (token := session.get(ApiToken, token_id)) is None:
        raise NotFound(f"令牌 {token_id} 不存在 / token {token_id} not found")
    return token


TokenDep = Annotated[ApiToken, Depends(get_token)]


@router.get("/tokens", response_model=list[TokenPublic], responses=AUTHED)
def list_tokens(_admin: Admin, session: SessionDep) -> list[ApiToken]:
    """Every token: role, unit, label, expiry, whether revoked; never a secret."""
    return tokens.listing(session)


@router.post("/tokens", status_code=201, response_model=TokenIssued, responses=AUTHED)
def create_token(
    data: TokenCreate, admin: Admin, response: Response, session: SessionDep
) -> TokenIssued:
    """Issue a token; the answer shows its secret, once (`Cache-Control: no-store`)."""
    try:
        expires_at = tokens.expiry(days=data.expires_days, on=data.expires_on)
        token, secret = tokens.issue(
            session,
            role=data.role,
            unit_code=data.unit_code,
            label=data.label,
            expires_at=expires_at,
            actor=admin,
        )
    except tokens.TokenProblem as problem:
        raise invalid(("body", problem.field), problem.message, problem.kind) from None
    response.headers["ETag"] = tokens.etag(token)
    response.headers["Location"] = f"/api/v1/tokens/{token.id}"
    response.headers["Cache-Control"] = "no-store"
    return TokenIssued.model_validate({**token.model_dump(), "secret": secret})


@router.get("/tokens/{token_id}", response_model=TokenPublic, responses=AUTHED)
def read_token(token: TokenDep, response: Response) -> ApiToken:
    """One token, with its ETag (send it as If-Match to revoke)."""
    response.headers["ETag"] = tokens.etag(token)
    return token


@router.delete(
    "/tokens/{token_id}", response_model=TokenPublic, responses=AUTHED | STALE | CONFLICT
)
def revoke_token(
    token: TokenDep,
    admin: Admin,
    response: Response,
    session: SessionDep,
    if_match: Annotated[str | None, Header()] = None,
) -> ApiToken:
    """Revoke: the token answers 401 from now on. Requires If-Match (the token's ETag)."""
    require_match(if_match, tokens.etag(token), "令牌已被他人修改 / the token")
    revoked = tokens.revoke(session, token, actor=admin)
    response.headers["ETag"] = tokens.etag(revoked)
    return revoked
