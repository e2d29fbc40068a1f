"""The official working-day arrangement the city office loads for years the package lacks."""

from datetime import date, datetime

from sqlmodel import Field, SQLModel

from app.models.common import utcnow


class CalendarYear(SQLModel, table=True):
    """A year whose arrangement was loaded: for it the package is not consulted."""

    __tablename__ = "calendar_years"

    year: int = Field(primary_key=True)
    source: str | None = Field(default=None, max_length=500)
    loaded_at: datetime = Field(default_factory=utcnow)


class CalendarDay(SQLModel, table=True):
    """A day that differs from Monday-Friday: a holiday or a make-up working day (调休)."""

    __tablename__ = "calendar_days"

    day: date = Field(primary_key=True)
    year: int = Field(foreign_key="calendar_years.year", index=True, ondelete="CASCADE")
    is_workday: bool
    note: str | None = Field(default=None, max_length=100)
