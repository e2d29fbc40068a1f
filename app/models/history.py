"""变更记录 / the history: who changed what, when, before and after."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from app.models.common import utcnow


class Change(SQLModel, table=True):
    __tablename__ = "changes"
    __table_args__ = (Index("ix_changes_catalogue_id_id", "catalogue_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow)
    actor_role: str = Field(max_length=20)
    actor_unit: str | None = Field(default=None, max_length=32)
    token_id: int | None = None
    action: str = Field(max_length=40)
    entity: str = Field(max_length=40)
    entity_id: str | None = Field(default=None, max_length=64)
    catalogue_id: int | None = None
    unit_code: str | None = Field(default=None, max_length=32)
    domain_code: str | None = Field(default=None, max_length=3)
    before: Any | None = Field(default=None, sa_column=Column(JSON))
    after: Any | None = Field(default=None, sa_column=Column(JSON))
    note: str | None = Field(default=None, max_length=1000)


class ChangePublic(SQLModel):
    id: int
    at: datetime
    actor_role: str
    actor_unit: str | None
    action: str
    entity: str
    entity_id: str | None
    unit_code: str | None
    domain_code: str | None
    before: Any | None
    after: Any | None
    note: str | None
