"""二级事项 / second-level items, grouped by their 一级事项 (first-level item) name."""

from datetime import datetime
from typing import Any

from pydantic import ConfigDict, field_validator, model_validator
from sqlalchemy import JSON, Column, Index, Integer, event
from sqlalchemy.orm import declared_attr
from sqlmodel import Field, SQLModel

from app.models.common import (
    NonBlank,
    normalize_audience,
    normalize_channels,
    normalize_levels,
    normalize_method,
    utcnow,
)
from app.rules import quality
from app.rules.attributes import DRAFTABLE_ATTRIBUTES, missing_attributes

TEXT_LIMITS = {
    "first_level": 200,
    "name": 200,
    "content": 4000,
    "basis": 2000,
    "time_limit": 500,
    "responsible_body": 200,
}
_ALLOWED_CONTROLS = {"\n", "\r", "\t"}


def check_text(field: str, value: str) -> str:
    """Reject control characters (they break every rendering) and overlong text."""
    if any((ord(ch) < 32 and ch not in _ALLOWED_CONTROLS) or ord(ch) == 127 for ch in value):
        raise ValueError(f"{field} 含有控制字符 / {field} contains control characters")
    limit = TEXT_LIMITS[field]
    if len(value) > limit:
        raise ValueError(
            f"{field} 不得超过 {limit} 个字符 / {field} must be at most {limit} characters"
        )
    return value


class ItemFields(SQLModel):
    """The attributes an item and a standard-guide item share."""

    first_level: str = Field(max_length=200)
    name: str = Field(max_length=200)
    content: str | None = Field(default=None, max_length=4000)
    basis: str | None = Field(default=None, max_length=2000)
    time_limit: str | None = Field(default=None, max_length=500)
    responsible_body: str | None = Field(default=None, max_length=200)
    method: str | None = Field(default=None, max_length=10)
    channels: list[str] = Field(default_factory=list, sa_type=JSON, nullable=False)
    audience: str | None = Field(default=None, max_length=200)
    levels: list[str] = Field(default_factory=list, sa_type=JSON, nullable=False)


class ItemInput(SQLModel):
    """Validation shared by ItemCreate and ItemUpdate: blank means absent, present means valid."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    @field_validator("first_level", "name", mode="before", check_fields=False)
    @classmethod
    def _required_text(cls, value: Any, info: Any) -> Any:
        if value is None:
            raise ValueError(
                f"{info.field_name} 为必填项，不能为空 / {info.field_name} is required and "
                "must not be blank"
            )
        return value

    @field_validator(
        "first_level",
        "name",
        "content",
        "basis",
        "time_limit",
        "responsible_body",
        check_fields=False,
    )
    @classmethod
    def _text(cls, value: str | None, info: Any) -> str | None:
        if value is None:
            return None
        value = check_text(info.field_name, value.strip())
        return value or None

    @field_validator("method", check_fields=False)
    @classmethod
    def _method(cls, value: str | None) -> str | None:
        return normalize_method(value) if value and value.strip() else None

    @field_validator("audience", check_fields=False)
    @classmethod
    def _audience(cls, value: str | None) -> str | None:
        return normalize_audience(value) if value and value.strip() else None

    @field_validator("channels", check_fields=False)
    @classmethod
    def _channels(cls, value: list[str] | None) -> list[str]:
        return normalize_channels(v for v in value or [] if v.strip())

    @field_validator("levels", check_fields=False)
    @classmethod
    def _levels(cls, value: list[str] | None) -> list[str]:
        return normalize_levels(v for v in value or [] if v.strip())


class ItemCreate(ItemInput):
    """The ITEM a client posts: name and first_level required, the rest may still be missing."""

    first_level: NonBlank = Field(max_length=200)
    name: NonBlank = Field(max_length=200)
    content: str | None = None
    basis: str | None = None
    time_limit: str | None = None
    responsible_body: str | None = None
    method: str | None = None
    channels: list[str] | None = None
    audience: str | None = None
    levels: list[str] | None = None
    position: int | None = Field(default=None, ge=1, le=1_000_000)

    @model_validator(mode="after")
    def _lists(self) -> "ItemCreate":
        self.channels = self.channels or []
        self.levels = self.levels or []
        return self


class ItemUpdate(ItemInput):
    """PATCH body: only the fields sent change; name and first_level may not be cleared."""

    first_level: NonBlank | None = Field(default=None, max_length=200)
    name: NonBlank | None = Field(default=None, max_length=200)
    content: str | None = None
    basis: str | None = None
    time_limit: str | None = None
    responsible_body: str | None = None
    method: str | None = None
    channels: list[str] | None = None
    audience: str | None = None
    levels: list[str] | None = None
    position: int | None = Field(default=None, ge=1, le=1_000_000)


class Item(ItemFields, table=True):
    __tablename__ = "items"
    __table_args__ = (
        Index("ix_items_catalogue_position", "catalogue_id", "position"),
        # covers the audit's per-catalogue counts and flags without touching the rows
        Index("ix_items_catalogue_lacking", "catalogue_id", "lacking", "flags"),
        # guide coverage: is there an item of this name in this catalogue?
        Index("ix_items_catalogue_name_key", "catalogue_id", "name_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    catalogue_id: int = Field(foreign_key="catalogues.id", ondelete="CASCADE")
    position: int = Field(default=1)
    lacking: int = Field(default=0, description="how many required attributes are missing")
    name_key: str = Field(default="", max_length=200, description="the name as coverage matches it")
    flags: int = Field(default=0, description="quality flags and missing attributes (quality.py)")
    revision: int = Field(default=1, sa_column=Column(Integer, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        # UPDATE … WHERE revision = :seen: a racing writer gets StaleDataError → 412
        return {"version_id_col": cls.__table__.c.revision}  # type: ignore[attr-defined]

    @property
    def missing(self) -> list[str]:
        return missing_attributes(self.model_dump(include=set(DRAFTABLE_ATTRIBUTES)))


@event.listens_for(Item, "before_insert")
@event.listens_for(Item, "before_update")
def _derive_audit_columns(_mapper: Any, _connection: Any, item: Item) -> None:
    """Whatever ORM path writes an item, its audit columns follow its values."""
    quality.refresh_item(item)


class ItemAttributes(SQLModel):
    """The ITEM as every response shows it: 一级事项, the eight attributes, levels, order."""

    first_level: str
    name: str
    content: str | None
    basis: str | None
    time_limit: str | None
    responsible_body: str | None
    method: str | None
    channels: list[str]
    audience: str | None
    levels: list[str]
    position: int


class ItemPublic(ItemAttributes):
    id: int
    missing: list[str]
