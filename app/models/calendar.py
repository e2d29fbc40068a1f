"""The official working-day arrangement the city office loads for years the package lacks."""

from datetime import date, datetime
from typing import Any, Literal

from pydantic import ConfigDict, model_validator
from sqlalchemy import Column, Integer
from sqlalchemy.orm import declared_attr
from sqlmodel import Field, SQLModel

from app.models.common import NonBlank, utcnow


class CalendarYear(SQLModel, table=True):
    """A year whose arrangement was loaded: for it the package is not consulted."""

    __tablename__ = "calendar_years"

    year: int = Field(primary_key=True)
    source: str | None = Field(default=None, max_length=500)
    loaded_at: datetime = Field(default_factory=utcnow)
    revision: int = Field(default=1, sa_column=Column(Integer, nullable=False, server_default="1"))

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.__table__.c.revision}  # type: ignore[attr-defined]


class CalendarDay(SQLModel, table=True):
    """A day that differs from Monday-Friday: a holiday or a make-up working day (调休)."""

    __tablename__ = "calendar_days"

    day: date = Field(primary_key=True)
    year: int = Field(foreign_key="calendar_years.year", index=True, ondelete="CASCADE")
    is_workday: bool
    note: str | None = Field(default=None, max_length=100)


class CalendarArrangement(SQLModel):
    """PUT body: a year's official arrangement (国务院办公厅关于…部分节假日安排的通知)."""

    model_config = ConfigDict(  # type: ignore[assignment]
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "source": "国办发明电〔2020〕27号",
                    "holidays": ["2021-01-01", "2021-02-11", "2021-02-12", "2021-02-15"],
                    "workdays": ["2021-02-07", "2021-02-20"],
                }
            ]
        },
    )

    source: NonBlank = Field(max_length=500, description="the notice it comes from")
    holidays: list[date] = Field(max_length=366, description="days off (法定节假日及调休放假)")
    workdays: list[date] = Field(
        default_factory=list,
        max_length=366,
        description="weekend days made working days (调休上班)",
    )

    @model_validator(mode="after")
    def _disjoint(self) -> "CalendarArrangement":
        if both := sorted(set(self.holidays) & set(self.workdays)):
            raise ValueError(
                f"日期不能同时是节假日和工作日：{', '.join(map(str, both))} / a day cannot be both "
                f"a holiday and a working day: {', '.join(map(str, both))}"
            )
        return self


class CalendarPublic(SQLModel):
    """What the service knows of a year: an auditor's arrangement, the package's, or nothing."""

    year: int
    known: bool
    origin: Literal["loaded", "package", "unknown"]
    source: str | None
    loaded_at: datetime | None = None
    holidays: list[date] = Field(description="Monday-Friday days off (and loaded weekend ones)")
    workdays: list[date] = Field(description="Saturdays and Sundays that are working days")
    note: str
    etag: str = Field(description="send it back as If-Match to load the year again")
    warnings: list[str] = Field(
        default_factory=list,
        description="on a load: what was unusual in the arrangement sent (it was stored)",
    )
