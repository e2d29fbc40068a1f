"""工作日历 / the working-day calendar: what is known of a year; loading a year's arrangement."""

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Response

from app.api.deps import require_match
from app.api.responses import FORBIDDEN, STALE, UNAUTHORIZED
from app.auth import Auditor
from app.db import SessionDep
from app.errors import Stale, etag_matches
from app.models.calendar import CalendarArrangement, CalendarPublic, CalendarYear
from app.principal import Principal
from app.services import calendar, records

router = APIRouter(tags=["deadlines"])

Year = Annotated[int, Path(ge=1900, le=2200)]
CHANGED = "日历年度已被他人修改 / the calendar year"


def fresh_year(
    year: Year,
    auditor: Auditor,
    session: SessionDep,
    if_match: Annotated[str | None, Header()] = None,
) -> Principal:
    """A loaded year is replaced only with If-Match (428 without, 412 when stale); a first
    load creates it, so If-Match is optional then (when sent it must be the year's ETag)."""
    loaded = session.get(CalendarYear, year)
    if loaded is not None:
        require_match(if_match, calendar.etag(year, loaded), CHANGED)
    elif if_match is not None and not etag_matches(if_match, calendar.etag(year, None)):
        raise Stale(f"{CHANGED} was changed by someone else")
    return auditor


@router.get("/calendar/{year}", response_model=CalendarPublic)
def read_calendar(year: Year, response: Response, session: SessionDep) -> CalendarPublic:
    """The year's exceptions to Monday-Friday: holidays on weekdays and working weekend days.

    `origin` says where they come from: `loaded` (an auditor's arrangement, which takes
    precedence), `package` (chinese-calendar), or `unknown` (no working day is computed).
    The `ETag` (also in the body) is what a load of the year sends as If-Match.
    """
    described = calendar.describe(session, year)
    response.headers["ETag"] = described.etag
    return described


@router.put(
    "/calendar/{year}",
    response_model=CalendarPublic,
    responses=UNAUTHORIZED | FORBIDDEN | STALE,
)
def load_calendar(
    year: Year,
    data: CalendarArrangement,
    auditor: Annotated[Principal, Depends(fresh_year)],
    response: Response,
    session: SessionDep,
) -> CalendarPublic:
    """Load (or replace) a year's official arrangement; it then takes precedence over the
    package. Every date must lie in the year, and no date may be in both lists. Replacing a
    year already loaded needs If-Match (its ETag from GET or the last load). Records
    formed in the year (or the year before, whose limits may run into it) are judged again."""
    loaded = calendar.load(session, year, data, actor=auditor)
    records.recompute(session, years=[year])
    response.headers["ETag"] = loaded.etag
    return loaded
