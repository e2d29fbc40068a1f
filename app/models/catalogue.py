"""标准目录 / one unit's catalogue for one domain, and its immutable published versions."""

from datetime import date, datetime
from typing import Any

from pydantic import ConfigDict, model_validator
from sqlalchemy import JSON, Column, Integer, Text, UniqueConstraint
from sqlalchemy.orm import declared_attr
from sqlmodel import Field, SQLModel

from app.models.common import HttpUrl, Status, string_enum, utcnow
from app.models.item import ItemPublic


class Catalogue(SQLModel, table=True):
    __tablename__ = "catalogues"
    __table_args__ = (UniqueConstraint("unit_code", "domain_code"),)

    id: int | None = Field(default=None, primary_key=True)
    unit_code: str = Field(foreign_key="units.code", max_length=32, index=True)
    domain_code: str = Field(foreign_key="domains.code", max_length=3, index=True)
    applicable: bool = True
    not_applicable_reason: str | None = Field(default=None, max_length=1000)
    status: Status = Field(default=Status.draft, sa_type=string_enum(Status))
    compiled_on: date | None = None
    published_on: date | None = None
    published_url: str | None = Field(default=None, max_length=1000)
    # The first dates are what the milestones judge; the plain ones are the latest.
    first_compiled_on: date | None = None
    first_published_on: date | None = None
    version: int = Field(default=0, description="the latest published version; 0 = never")
    revision: int = Field(default=1, sa_column=Column(Integer, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    # What the audit counts, stored so that it never reads the items of a city or a nation
    # per request. Server-owned: recomputed from the items, waivers, guide and versions by
    # app/services/stats.py in the transaction of every write that changes them, under this
    # row's lock; never set through the ORM (a new catalogue counts nothing).
    item_count: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    lacking_count: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    flagged_count: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    vague_time_limit_count: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    unparsed_time_limit_count: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    basis_without_document_count: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    generic_body_count: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    present_county: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    present_township: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    waived_county: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    waived_township: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    first_version_on: date | None = Field(
        default=None, description="the earliest published_on of its versions"
    )

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.__table__.c.revision}  # type: ignore[attr-defined]


class CatalogueLists(SQLModel, table=True):
    """What the audit lists per catalogue, as the JSON text its report embeds (kept on write
    by app/services/stats.py with the counts, see stats.details). A table of its own, so the
    catalogue row every writer loads and every audit aggregate reads stays small. No row:
    nothing written yet (no item, no waiver)."""

    __tablename__ = "catalogue_lists"

    catalogue_id: int = Field(
        foreign_key="catalogues.id",
        primary_key=True,
        ondelete="CASCADE",
        sa_column_kwargs={"autoincrement": False},
    )
    lacking_items: str = Field(sa_type=Text)
    absent_items: str = Field(sa_type=Text)
    waived_items: str = Field(sa_type=Text)


class CatalogueVersion(SQLModel, table=True):
    """An immutable published version: the catalogue's items as they were at publish."""

    __tablename__ = "catalogue_versions"
    __table_args__ = (UniqueConstraint("catalogue_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    catalogue_id: int = Field(foreign_key="catalogues.id", index=True, ondelete="CASCADE")
    unit_code: str = Field(max_length=32, index=True)
    domain_code: str = Field(max_length=3)
    # The names as they were at publish: a later rename must not change an old version's
    # bytes or ETag (every rendering of the version reads these, never units/domains).
    unit_name: str = Field(max_length=100)
    domain_name: str = Field(max_length=100)
    number: int
    published_on: date
    published_url: str = Field(max_length=1000)
    published_at: datetime = Field(default_factory=utcnow)
    item_count: int = 0
    first_level_count: int = Field(default=0, description="distinct 一级事项 names")
    # 发布序号: gap-free and in commit order (publishes are serialised), so the change
    # feed's cursor "after feed_seq N" never skips a publish that commits late.
    feed_seq: int = Field(unique=True, index=True)
    items: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )


class CatalogueSummary(SQLModel):
    unit_code: str
    domain_code: str
    domain_name: str
    status: Status
    applicable: bool
    item_count: int
    lacking_count: int
    version: int


class CataloguePublic(SQLModel):
    unit_code: str
    domain_code: str
    status: Status
    applicable: bool
    not_applicable_reason: str | None
    compiled_on: date | None
    published_on: date | None
    published_url: str | None
    first_compiled_on: date | None
    first_published_on: date | None
    version: int
    items: list[ItemPublic]


class Applicability(SQLModel):
    """Whether the domain applies to the unit; a reason is required when it does not."""

    model_config = ConfigDict(  # type: ignore[assignment]
        extra="forbid",
        json_schema_extra={"examples": [{"applicable": False, "reason": "辖区无农村集体土地"}]},
    )

    applicable: bool = Field(description="false: the unit has nothing to disclose in it")
    reason: str | None = Field(
        default=None, max_length=1000, description="why not (required when applicable is false)"
    )

    @model_validator(mode="after")
    def _reason_when_not_applicable(self) -> "Applicability":
        self.reason = (self.reason or "").strip() or None
        if not self.applicable and self.reason is None:
            raise ValueError(
                "声明不适用时必须填写理由 / a reason is required when the domain is not applicable"
            )
        return self


class CompileRequest(SQLModel):
    """编制完成: every item complete; the date the catalogue was compiled."""

    model_config = ConfigDict(  # type: ignore[assignment]
        extra="forbid", json_schema_extra={"examples": [{"compiled_on": "2020-10-20"}]}
    )

    compiled_on: date = Field(description="编制完成日期: not in the future, not before 2000")


class PublishRequest(SQLModel):
    """发布: the day the catalogue went public and where."""

    model_config = ConfigDict(  # type: ignore[assignment]
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"published_on": "2020-11-05", "url": "http://www.huli.gov.cn/zwgk/ghml/01/"}
            ]
        },
    )

    published_on: date = Field(
        description="发布日期: not in the future, not before compiled_on or the previous version's"
    )
    url: HttpUrl = Field(description="where the office published it (http or https)")


class CatalogueDates(SQLModel):
    """A correction of the recorded first compile / publish dates (the milestone events)."""

    model_config = ConfigDict(  # type: ignore[assignment]
        extra="forbid", json_schema_extra={"examples": [{"first_published_on": "2020-11-06"}]}
    )

    first_compiled_on: date | None = Field(
        default=None, description="the corrected first compile date (one already recorded)"
    )
    first_published_on: date | None = Field(
        default=None, description="the corrected first publish date (one already recorded)"
    )

    @model_validator(mode="after")
    def _something(self) -> "CatalogueDates":
        if self.first_compiled_on is None and self.first_published_on is None:
            raise ValueError(
                "至少更正一个日期 / send first_compiled_on, first_published_on or both"
            )
        return self


class PublishResult(SQLModel):
    unit_code: str
    domain_code: str
    version: int
    published_on: date
    published_url: str
    href: str = Field(description="this version's public address (no token needed)")
