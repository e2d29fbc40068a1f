"""API tokens: only a SHA-256 hash of the secret is stored."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from app.models.common import Role, string_enum, utcnow


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
