"""工作日历 / the working-day calendar: what is known of a year; loading a year's arrangement."""

from typing import Annotated

from fastapi import APIRouter, Path

from app.api.responses import FORBIDDEN, UNAUTHORIZED
from app.auth import Auditor
from app.db import SessionDep
from app.models.calendar import CalendarArrangement, CalendarPublic
from app.services import calendar, records

router = APIRouter(tags=["deadlines"])

Year = Annotated[int, Path(ge=1900, le=2200)]


@router.get("/calendar/{year}", response_model=CalendarPublic)
def read_calendar(year: Year, session: SessionDep) -> CalendarPublic:
    """The year's exceptions to Monday-Friday: holidays on weekdays and working weekend days.

    `origin` says where they come from: `loaded` (an auditor's arrangement, which takes
    precedence), `package` (chinese-calendar), or `unknown` (no working day is computed).
    """
    return calendar.describe(session, year)


@router.put("/calendar/{year}", response_model=CalendarPublic, responses=UNAUTHORIZED | FORBIDDEN)
def load_calendar(
    year: Year, data: CalendarArrangement, auditor: Auditor, session: SessionDep
) -> CalendarPublic:
    """Load (or replace) a year's official arrangement; it then takes precedence over the
    package. Every date must lie in the year, and no date may be in both lists. Records
    formed in the year (or the year before, whose limits may run into it) are judged again."""
    loaded = calendar.load(session, year, data, actor=auditor)
    records.recompute(session, years=[year])
    return loaded
