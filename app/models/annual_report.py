"""政府信息公开工作年度报告 / annual reports: the working copy, its published versions, due dates.

The tables are stored as JSON `{ROW: {COLUMN: number}}` with the row and column codes of
app/rules/annual_report.py, which also holds both official templates as data.
"""

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, StringConstraints, field_validator, model_validator
from pydantic import Field as Bound
from sqlalchemy import JSON, Column, Integer, UniqueConstraint
from sqlalchemy.orm import declared_attr
from sqlmodel import Field, SQLModel

from app.models.common import HttpUrl, UnitKind, string_enum, utcnow
from app.models.milestone import MilestoneState
from app.rules import annual_report as rules

TemplateCode = Literal["2019", "2021"]
# Bounded so that a typo cannot become a number no database column or spreadsheet keeps.
Count = Annotated[int, Bound(ge=-(10**12), le=10**12)]
Figure = Count | Annotated[float, Bound(ge=-1e15, le=1e15, allow_inf_nan=False)]
ActiveTable = dict[str, dict[str, Figure]]
CountTable = dict[str, dict[str, Count]]


class ReportStatus(StrEnum):
    draft = "draft"
    """breaks at least one rule: kept, but cannot be published"""
    ready = "ready"
    """breaks no rule; not published as it stands"""
    published = "published"
    """the working copy is the latest published version"""


class AnnualReport(SQLModel, table=True):
    """One unit's report for one year: the working copy the editors change."""

    __tablename__ = "annual_reports"
    __table_args__ = (UniqueConstraint("unit_code", "year"),)

    id: int | None = Field(default=None, primary_key=True)
    unit_code: str = Field(foreign_key="units.code", max_length=32, index=True)
    year: int = Field(index=True)
    template: str = Field(max_length=4)
    active: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    requests: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    reviews: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: ReportStatus = Field(default=ReportStatus.draft, sa_type=string_enum(ReportStatus))
    version: int = Field(default=0, description="the latest published version; 0 = never")
    first_published_on: date | None = None
    """what the deadline judges: a correction published later does not make a report late"""
    revision: int = Field(default=1, sa_column=Column(Integer, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.__table__.c.revision}  # type: ignore[attr-defined]


class AnnualReportVersion(SQLModel, table=True):
    """A published version: immutable; a correction is the next number."""

    __tablename__ = "annual_report_versions"
    __table_args__ = (UniqueConstraint("report_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="annual_reports.id", index=True)
    number: int
    template: str = Field(max_length=4)
    unit_name: str = Field(max_length=100)
    """the name the unit had when it published"""
    active: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    requests: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    reviews: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    published_on: date
    url: str = Field(max_length=1000)
    published_at: datetime = Field(default_factory=utcnow)


class AnnualReportDueDate(SQLModel, table=True):
    """When a kind of unit must publish the report for year Y: on month-day of Y + 1.

    A kind without a row has the default (DUE_DEFAULTS); the auditor's change adds the row.
    """

    __tablename__ = "annual_report_due_dates"

    unit_kind: str = Field(primary_key=True, max_length=20)
    month: int
    day: int
    revision: int = Field(default=1, sa_column=Column(Integer, nullable=False))

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.__table__.c.revision}  # type: ignore[attr-defined]


DUE_DEFAULTS: dict[UnitKind, tuple[int, int]] = {
    # 条例 第49条: governments by 3月31日; departments by 1月31日; streets and towns by local rule
    UnitKind.city: (3, 31),
    UnitKind.district: (3, 31),
    UnitKind.street: (1, 31),
    UnitKind.town: (1, 31),
    UnitKind.department: (1, 31),
}


# ---- bodies ----------------------------------------------------------------------------


class AnnualReportPut(SQLModel):
    """The whole report: a row or cell left out counts as 0."""

    model_config = ConfigDict(  # type: ignore[assignment]
        extra="forbid",
        json_schema_extra={
            "examples": [{"template": "2021", "active": {}, "requests": {}, "reviews": {}}]
        },
    )

    template: TemplateCode = Field(
        description="2019 = 国办公开办函〔2019〕60号 (2019, 2020); 2021 = 〔2021〕30号 (2021 on)"
    )
    active: ActiveTable = Field(default_factory=dict, description="table 二")
    requests: CountTable = Field(default_factory=dict, description="table 三")
    reviews: CountTable = Field(default_factory=dict, description="table 四")

    @model_validator(mode="after")
    def _codes(self) -> "AnnualReportPut":
        template = rules.TEMPLATES[self.template]
        for name in ("active", "requests", "reviews"):
            wrong = rules.shape_errors(template, name, getattr(self, name))
            if wrong:
                raise ValueError(
                    f"{name}：模板 {template.document} 没有这些行或列 {', '.join(wrong)} / "
                    f"{name}: the template {self.template} has no rows or columns "
                    f"{', '.join(wrong)}"
                )
        return self


class PublishReport(SQLModel):
    """发布: the day the annual report went public and where."""

    model_config = ConfigDict(  # type: ignore[assignment]
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"published_on": "2022-01-25", "url": "http://www.huli.gov.cn/xxgk/ndbg/2021/"}
            ]
        },
    )

    published_on: date = Field(description="发布日期: not in the future")
    url: HttpUrl = Field(description="where the report is published (http or https)")


class Issue(SQLModel):
    loc: list[str]
    rule: str
    msg: str


class AnnualReportPublic(SQLModel):
    """The working copy, with every rule it breaks and every warning."""

    unit_code: str
    year: int
    template: str
    status: ReportStatus
    active: dict[str, dict[str, float | int]]
    requests: dict[str, dict[str, int]]
    reviews: dict[str, dict[str, int]]
    errors: list[Issue]
    warnings: list[Issue]
    version: int = Field(description="the latest published version; 0 = never published")
    first_published_on: date | None
    published_on: date | None = Field(description="the latest version's")
    url: str | None = Field(description="the latest version's")
    updated_at: datetime


class PublishedReport(SQLModel):
    """A published version, as the public reads it."""

    unit_code: str
    unit_name: str
    year: int
    template: str
    document: str
    version: int
    published_on: date
    url: str
    active: dict[str, dict[str, float | int]]
    requests: dict[str, dict[str, int]]
    reviews: dict[str, dict[str, int]]


class LevelFigures(SQLModel):
    """The catalogue paragraph's figures at one level (县级 or 乡级)."""

    level: str
    units: int
    domains: int
    first_level_items: int
    second_level_items: int


class DraftSources(SQLModel):
    from_register: bool = Field(description="table 三 came from the request register")
    from_last_year: bool = Field(description="二 came from last year's report's 四")
    catalogue_as_of: date


class AnnualReportDraft(SQLModel):
    """What the service already knows, to start the year's report from."""

    unit_code: str
    year: int
    template: str
    active: dict[str, dict[str, float | int]]
    requests: dict[str, dict[str, int]]
    reviews: dict[str, dict[str, int]]
    catalogue: list[LevelFigures]
    sources: DraftSources
    errors: list[Issue]
    warnings: list[Issue]


class DueDatePublic(SQLModel):
    unit_kind: UnitKind
    due: str = Field(description="MM-DD of the year after the report's year")
    is_default: bool


class DueDateUpdate(SQLModel):
    model_config = ConfigDict(  # type: ignore[assignment]
        extra="forbid", json_schema_extra={"examples": [{"due": "01-31"}]}
    )

    due: Annotated[str, StringConstraints(pattern=r"^\d{2}-\d{2}$")] = Field(
        description="MM-DD of the year after the report's year (02-29 is refused)"
    )

    @field_validator("due")
    @classmethod
    def _real_day(cls, value: str) -> str:
        month, day = (int(part) for part in value.split("-"))
        try:
            date(2021, month, day)  # a common year: 02-29 would not exist every year
        except ValueError:
            raise ValueError(
                f"{value} 不是每年都有的日期 / {value} is not a day every year has"
            ) from None
        return value


class AuditReportRow(SQLModel):
    unit_code: str
    unit_name: str
    unit_kind: str
    district_code: str | None
    due_on: date
    state: MilestoneState
    days: int
    status: ReportStatus | None = Field(description="null: no report yet")
    version: int
    published_on: date | None = Field(description="the first publication (what is judged)")
    url: str | None
    errors: list[Issue]
    warnings: list[Issue]


class AnnualReportAudit(SQLModel):
    year: int
    as_of: date
    district: str | None
    template: str
    total_units: int
    offset: int
    limit: int
    next_offset: int | None
    units: list[AuditReportRow]
    requests_total: dict[str, dict[str, int]] = Field(
        description="table 三 summed over every unit in scope that has a report (its latest "
        "published version, else its working copy)"
    )
    reports_counted: int
