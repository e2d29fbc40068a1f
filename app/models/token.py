"""API tokens: only a SHA-256 hash of the secret is stored."""

from datetime import date, datetime

from pydantic import ConfigDict, model_validator
from sqlmodel import Field, SQLModel

from app.models.common import NonBlank, Role, UnitCode, string_enum, utcnow


class ApiToken(SQLModel, table=True):
    __tablename__ = "api_tokens"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    prefix: str = Field(
        max_length=16, description="the secret's first characters, to tell tokens apart"
    )
    role: Role = Field(sa_type=string_enum(Role))
    unit_code: str | None = Field(default=None, foreign_key="units.code", max_length=32)
    label: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime | None = None
    revoked_at: datetime | None = None


class TokenCreate(SQLModel):
    """POST /tokens: who the token is for and until when (a token made over HTTP expires)."""

    model_config = ConfigDict(  # type: ignore[assignment]
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "role": "editor",
                    "unit_code": "350206",
                    "label": "湖里区政府网站 CMS",
                    "expires_days": 365,
                }
            ]
        },
    )

    role: Role = Field(description="editor, auditor or admin")
    unit_code: UnitCode | None = Field(default=None, description="required for editor tokens")
    label: NonBlank | None = Field(
        default=None, max_length=200, description="a note: who or what the token is for"
    )
    expires_days: int | None = Field(default=None, description="1..3660 days from now")
    expires_on: date | None = Field(
        default=None, description="the last day it works (UTC), tomorrow at the earliest"
    )

    @model_validator(mode="after")
    def _some_expiry(self) -> "TokenCreate":
        if self.expires_days is None and self.expires_on is None:
            raise ValueError(
                "令牌必须有到期时间 / send expires_days or expires_on: a token made over HTTP "
                "expires"
            )
        return self


class TokenPublic(SQLModel):
    """A token as listed: never the secret, never its hash."""

    id: int
    prefix: str = Field(description="the secret's first characters, to tell tokens apart")
    role: Role
    unit_code: str | None
    label: str | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


class TokenIssued(TokenPublic):
    """The answer to POST /tokens: the only time the secret is shown."""

    secret: str = Field(description="the bearer token; shown once, store it now")
