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
    visible_text,
)
from app.rules import quality
from app.rules.attributes import (
    ATTRIBUTES,
    DRAFTABLE_ATTRIBUTES,
    LIST_ATTRIBUTES,
    SCALAR_ATTRIBUTES,
    TEXT_ATTRIBUTES,
    TEXT_LIMITS,
    missing_attributes,
)

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


def attribute(name: str, *, limit: bool = False, **kwargs: Any) -> Any:
    """The Field of ITEM attribute `name`, described as app/rules/attributes.py declares it
    (with its max_length where the shape enforces it by schema: `limit`)."""
    spec = ATTRIBUTES[name]
    if limit and spec.max_length:
        kwargs["max_length"] = spec.max_length
    return Field(description=spec.description, **kwargs)


# Every shape of an item takes its attributes from app/rules/attributes.py (ATTRIBUTES):
# names, Chinese labels, descriptions, limits and which validator applies. A new attribute
# is one entry there plus one line in each of the three typed shapes below (stored,
# written, read); tests/test_item_fields.py fails until every shape carries it.


class ItemFields(SQLModel):
    """The stored attributes an item and a standard-guide item share."""

    first_level: str = attribute("first_level", limit=True)
    name: str = attribute("name", limit=True)
    content: str | None = attribute("content", default=None, limit=True)
    basis: str | None = attribute("basis", default=None, limit=True)
    time_limit: str | None = attribute("time_limit", default=None, limit=True)
    responsible_body: str | None = attribute("responsible_body", default=None, limit=True)
    method: str | None = attribute("method", default=None, limit=True)
    channels: list[str] = attribute("channels", default_factory=list, sa_type=JSON, nullable=False)
    audience: str | None = attribute("audience", default=None, limit=True)
    levels: list[str] = attribute("levels", default_factory=list, sa_type=JSON, nullable=False)


POSITION_DESCRIPTION = (
    "The item's place in its catalogue (1..n, no gaps). On create: 1..n+1, the later items "
    "move down; absent appends. On PATCH: 1..n, the items between move up or down."
)


class ItemInput(SQLModel):
    """What a client writes (ItemCreate, ItemUpdate): blank means absent, present means
    valid. Every attribute is optional here; ItemCreate requires name and first_level."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    first_level: NonBlank | None = attribute("first_level", default=None, limit=True)
    name: NonBlank | None = attribute("name", default=None, limit=True)
    content: str | None = attribute("content", default=None)
    basis: str | None = attribute("basis", default=None)
    time_limit: str | None = attribute("time_limit", default=None)
    responsible_body: str | None = attribute("responsible_body", default=None)
    method: str | None = attribute("method", default=None)
    channels: list[str] | None = attribute("channels", default=None)
    audience: str | None = attribute("audience", default=None)
    levels: list[str] | None = attribute("levels", default=None)
    position: int | None = Field(default=None, ge=1, le=1_000_000, description=POSITION_DESCRIPTION)

    @field_validator(*SCALAR_ATTRIBUTES, mode="before", check_fields=False)
    @classmethod
    def _visible(cls, value: Any) -> Any:
        """Zero-width characters and BOMs are not text: "\u200b" is blank (then absent)."""
        return visible_text(value) if isinstance(value, str) else value

    @field_validator(*LIST_ATTRIBUTES, mode="before", check_fields=False)
    @classmethod
    def _visible_each(cls, value: Any) -> Any:
        if not isinstance(value, list):
            return value
        return [visible_text(v) if isinstance(v, str) else v for v in value]

    @field_validator("first_level", "name", mode="before", check_fields=False)
    @classmethod
    def _required_text(cls, value: Any, info: Any) -> Any:
        if value is None:
            raise ValueError(
                f"{info.field_name} 为必填项，不能为空 / {info.field_name} is required and "
                "must not be blank"
            )
        return value

    @field_validator(*TEXT_ATTRIBUTES, check_fields=False)
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


ITEM_EXAMPLE: dict[str, Any] = {
    "first_level": "批准服务信息",
    "name": "办事指南",
    "content": "申报材料清单、批准流程、办理时限",
    "basis": "《中华人民共和国政府信息公开条例》",
    "time_limit": "信息形成或变更之日起20个工作日内",
    "responsible_body": "区发展改革局",
    "method": "主动",
    "channels": ["政府网站", "政务服务中心"],
    "audience": "全社会",
    "levels": ["县级"],
}


class ItemCreate(ItemInput):
    """The ITEM a client posts: name and first_level required, the rest may still be missing."""

    model_config = ConfigDict(json_schema_extra={"examples": [ITEM_EXAMPLE]})

    first_level: NonBlank = attribute("first_level", limit=True)
    name: NonBlank = attribute("name", limit=True)

    @model_validator(mode="after")
    def _lists(self) -> "ItemCreate":
        self.channels = self.channels or []
        self.levels = self.levels or []
        return self


class ItemUpdate(ItemInput):
    """PATCH body: only the fields sent change; name and first_level may not be cleared."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"basis": "《厦门市城乡规划条例》", "position": 2}]}
    )


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

    first_level: str = attribute("first_level")
    name: str = attribute("name")
    content: str | None = attribute("content")
    basis: str | None = attribute("basis")
    time_limit: str | None = attribute("time_limit")
    responsible_body: str | None = attribute("responsible_body")
    method: str | None = attribute("method")
    channels: list[str] = attribute("channels")
    audience: str | None = attribute("audience")
    levels: list[str] = attribute("levels")
    position: int = Field(description="the item's place in its catalogue, 1..n")


class ItemPublic(ItemAttributes):
    id: int
    missing: list[str]
