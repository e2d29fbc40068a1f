"""标准指引 / the national standard guide's items per domain, and a catalogue's waivers."""

from datetime import datetime
from typing import Any

from pydantic import ConfigDict
from sqlalchemy import Column, Integer, UniqueConstraint, event
from sqlalchemy.orm import declared_attr
from sqlmodel import Field, SQLModel

from app.models.common import NonBlank, utcnow
from app.models.item import ItemAttributes, ItemFields
from app.rules import quality


class GuideItem(ItemFields, table=True):
    __tablename__ = "guide_items"
    __table_args__ = (UniqueConstraint("domain_code", "first_level", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    domain_code: str = Field(foreign_key="domains.code", max_length=3, index=True)
    position: int = 1
    source_url: str | None = Field(default=None, max_length=1000)
    name_key: str = Field(default="", max_length=200, description="the name as coverage matches it")
    level_mask: int = Field(default=3, description="1 = 县级 (district), 2 = 乡级 (street/town)")


@event.listens_for(GuideItem, "before_insert")
@event.listens_for(GuideItem, "before_update")
def _derive_audit_columns(_mapper: Any, _connection: Any, guide: GuideItem) -> None:
    quality.refresh_guide_item(guide)


class GuideWaiver(SQLModel, table=True):
    """A guide item a catalogue leaves out on purpose, with the reason."""

    __tablename__ = "guide_waivers"
    __table_args__ = (UniqueConstraint("catalogue_id", "guide_item_id"),)

    id: int | None = Field(default=None, primary_key=True)
    catalogue_id: int = Field(foreign_key="catalogues.id", ondelete="CASCADE")
    guide_item_id: int = Field(foreign_key="guide_items.id", ondelete="CASCADE")
    reason: str = Field(max_length=1000)
    created_at: datetime = Field(default_factory=utcnow)
    revision: int = Field(default=1, sa_column=Column(Integer, nullable=False, server_default="1"))

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.__table__.c.revision}  # type: ignore[attr-defined]


class GuideItemPublic(ItemAttributes):
    id: int
    domain_code: str
    source_url: str | None


class WaiverRequest(SQLModel):
    """Why the catalogue leaves a standard-guide item out."""

    model_config = ConfigDict(  # type: ignore[assignment]
        extra="forbid", json_schema_extra={"examples": [{"reason": "本街道不承担征收实施工作"}]}
    )

    reason: NonBlank = Field(max_length=1000, description="why the guide item does not apply")


class WaiverPublic(SQLModel):
    guide_item_id: int
    first_level: str
    name: str
    reason: str
    created_at: datetime
    etag: str = Field(description="send it back as If-Match to change or remove the waiver")
