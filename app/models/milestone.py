"""节点 / milestones (dated obligations) and 落实意见 (implementation opinions)."""

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, StringConstraints, field_validator
from sqlalchemy import JSON, Column, Integer
from sqlalchemy.orm import declared_attr
from sqlmodel import Field, SQLModel

from app.models.common import HttpUrl, NonBlank, UnitCode, UnitKind, utcnow


class MilestoneEvent(StrEnum):
    """The event that meets a milestone."""

    opinion = "opinion"
    """落实意见印发 / an implementation opinion issued (the earliest counts)"""
    compiled = "compiled"
    """目录首次编制完成 / the catalogue's first compile date"""
    published = "published"
    """目录首次发布 / the catalogue's first publish date"""


class MilestoneState(StrEnum):
    on_time = "on_time"
    late = "late"
    pending = "pending"
    overdue = "overdue"


DomainSet = Literal["pilot", "all"]


class Milestone(SQLModel, table=True):
    __tablename__ = "milestones"

    code: str = Field(primary_key=True, max_length=40)
    title: str = Field(max_length=200)
    due_on: date
    event: str = Field(max_length=20, description="opinion | compiled | published")
    unit_kinds: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    domains: str = Field(
        default="pilot", max_length=10, description="pilot | all: how the domain set was chosen"
    )
    position: int = 0
    counts_from: date | None = Field(
        default=None, description="only an event on or after this date meets the milestone"
    )
    revision: int = Field(default=1, sa_column=Column(Integer, nullable=False, server_default="1"))

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.__table__.c.revision}  # type: ignore[attr-defined]


class MilestoneDomain(SQLModel, table=True):
    """The domains a milestone obliges, fixed when it is set: a domain added later is not
    obliged by it (nor by any milestone until an auditor names it in one)."""

    __tablename__ = "milestone_domains"

    milestone_code: str = Field(
        foreign_key="milestones.code", primary_key=True, max_length=40, ondelete="CASCADE"
    )
    domain_code: str = Field(
        foreign_key="domains.code", primary_key=True, max_length=3, ondelete="CASCADE"
    )


def _domain_codes(values: list[str] | None) -> list[str] | None:
    if values is None:
        return None
    if not values:
        raise ValueError(
            "domain_codes 至少要有一个领域 / domain_codes must name at least one domain"
        )
    return sorted(set(values))


COUNTS_FROM = (
    "只有此日及以后的事件才算完成（如“调整完善”只认 2021 年起的发布） / only an event on or "
    "after this date meets the milestone (e.g. the revision counts publishes from 2021 on)"
)
DOMAIN_CODES = (
    "该节点约束的领域，设定时确定；不填则按 domains 取当前的试点领域或全部领域 / the domains "
    "obliged, fixed when set; when left out, `domains` picks today's pilot domains or all"
)


def _unit_kinds(values: list[UnitKind]) -> list[UnitKind]:
    if not values:
        raise ValueError(
            "unit_kinds 至少要有一种单位类型 / unit_kinds must name at least one kind of unit"
        )
    chosen = set(values)
    return [kind for kind in UnitKind if kind in chosen]


class MilestoneCreate(SQLModel):
    """A new milestone: who is obliged (unit kinds × domains), by when, met by which event."""

    model_config = ConfigDict(  # type: ignore[assignment]
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "code": "2021-review",
                    "title": "2021年目录复核发布",
                    "due_on": "2021-06-30",
                    "event": "published",
                    "unit_kinds": ["district", "street", "town"],
                    "domains": "pilot",
                    "position": 10,
                }
            ]
        },
    )

    code: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")] = Field(
        description="lower-case letters, digits, - and _; unique"
    )
    title: NonBlank = Field(max_length=200, description="what is due, as the notice says it")
    due_on: date = Field(description="the deadline")
    event: MilestoneEvent = Field(description="the event that meets it")
    unit_kinds: list[UnitKind] = Field(description="the kinds of unit it obliges")
    domains: DomainSet = Field(default="pilot", description="pilot: domains 01..26; all: every")
    domain_codes: list[Annotated[str, StringConstraints(max_length=3)]] | None = Field(
        default=None, max_length=1000, description=DOMAIN_CODES
    )
    position: int = Field(default=0, ge=0, le=1000, description="order in listings")
    counts_from: date | None = Field(default=None, description=COUNTS_FROM)

    @field_validator("unit_kinds")
    @classmethod
    def _kinds(cls, values: list[UnitKind]) -> list[UnitKind]:
        return _unit_kinds(values)

    @field_validator("domain_codes")
    @classmethod
    def _codes(cls, values: list[str] | None) -> list[str] | None:
        return _domain_codes(values)


class MilestoneUpdate(SQLModel):
    """PATCH body: move a date, retitle, change who is obliged; only the fields sent change."""

    model_config = ConfigDict(  # type: ignore[assignment]
        extra="forbid", json_schema_extra={"examples": [{"due_on": "2020-12-31"}]}
    )

    title: NonBlank | None = Field(default=None, max_length=200, description="a new title")
    due_on: date | None = Field(default=None, description="a new deadline")
    event: MilestoneEvent | None = Field(default=None, description="the event that meets it")
    unit_kinds: list[UnitKind] | None = Field(default=None, description="who is obliged")
    domains: DomainSet | None = Field(
        default=None, description="pilot | all: chooses the domain set again from today's domains"
    )
    domain_codes: list[Annotated[str, StringConstraints(max_length=3)]] | None = Field(
        default=None, max_length=1000, description="the domains obliged, replacing the set"
    )
    position: int | None = Field(default=None, ge=0, le=1000, description="order in listings")
    counts_from: date | None = Field(default=None, description=COUNTS_FROM + "; null: any date")

    @field_validator("unit_kinds")
    @classmethod
    def _kinds(cls, values: list[UnitKind] | None) -> list[UnitKind] | None:
        return None if values is None else _unit_kinds(values)

    @field_validator("domain_codes", mode="before")
    @classmethod
    def _codes_not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("不能为 null / may not be null")
        return value

    @field_validator("domain_codes")
    @classmethod
    def _codes(cls, values: list[str] | None) -> list[str] | None:
        return _domain_codes(values)

    @field_validator("title", "due_on", "event", "domains", "position", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("不能为 null / may not be null")
        return value


class MilestonePublic(SQLModel):
    code: str
    title: str
    due_on: date
    event: MilestoneEvent
    unit_kinds: list[UnitKind]
    domains: DomainSet
    domain_codes: list[str] = Field(description="the domains obliged, fixed when set")
    counts_from: date | None = Field(description="only an event on or after it counts")
    position: int
    etag: str = Field(description="send it back as If-Match to change the milestone")


class MilestoneStatus(SQLModel):
    """One obliged unit × domain as of a date; `days` depends on the state (see docs)."""

    unit_code: str
    domain_code: str
    state: MilestoneState
    days: int = Field(
        description="late: days late; pending: days left; overdue: days overdue; on_time: 0"
    )
    done_on: date | None = Field(description="the event's date, when it happened by as_of")


class Opinion(SQLModel, table=True):
    __tablename__ = "opinions"

    id: int | None = Field(default=None, primary_key=True)
    domain_code: str = Field(foreign_key="domains.code", max_length=3, index=True)
    issuer_unit_code: str = Field(foreign_key="units.code", max_length=32, index=True)
    title: str = Field(max_length=500)
    doc_number: str | None = Field(default=None, max_length=100)
    issued_on: date
    url: str | None = Field(default=None, max_length=1000)
    revision: int = Field(default=1, sa_column=Column(Integer, nullable=False, server_default="1"))
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.__table__.c.revision}  # type: ignore[attr-defined]


class OpinionCreate(SQLModel):
    """落实意见: issued by the city or a district, or one of their domain departments."""

    model_config = ConfigDict(  # type: ignore[assignment]
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "domain_code": "01",
                    "issuer_unit_code": "350206",
                    "title": "湖里区城乡规划领域基层政务公开标准目录落实意见",
                    "doc_number": "厦湖政办〔2020〕12号",
                    "issued_on": "2020-07-20",
                    "url": "http://www.huli.gov.cn/xxgk/zfxxgk/",
                }
            ]
        },
    )

    domain_code: str = Field(max_length=3, description="the domain it implements")
    issuer_unit_code: UnitCode = Field(
        description="the city, a district, or one of their domain departments"
    )
    title: NonBlank = Field(max_length=500, description="the document's title")
    doc_number: str | None = Field(default=None, max_length=100, description="文号")
    issued_on: date = Field(description="印发日期: not in the future, not before 2000")
    url: HttpUrl | None = Field(default=None, description="where it is published")


class OpinionUpdate(SQLModel):
    """A correction: only the fields sent change (the domain and issuer stay)."""

    model_config = ConfigDict(  # type: ignore[assignment]
        extra="forbid", json_schema_extra={"examples": [{"doc_number": "厦湖政办〔2020〕13号"}]}
    )

    title: NonBlank | None = Field(default=None, max_length=500, description="the title")
    doc_number: str | None = Field(default=None, max_length=100, description="文号")
    issued_on: date | None = Field(default=None, description="印发日期")
    url: HttpUrl | None = Field(default=None, description="where it is published")

    @field_validator("title", "issued_on", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("不能为 null / may not be null")
        return value


class OpinionPublic(SQLModel):
    id: int
    domain_code: str
    issuer_unit_code: str
    title: str
    doc_number: str | None
    issued_on: date
    url: str | None
    created_at: datetime
    updated_at: datetime
