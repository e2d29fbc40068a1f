"""公开时限 / time limits: parse a text into a rule and compute its due date (public)."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from app.db import SessionDep
from app.rules import timelimits
from app.services import calendar

router = APIRouter(tags=["deadlines"])


@router.get("/time-limits/evaluate", response_model=timelimits.Evaluation)
def evaluate_time_limit(
    text: Annotated[str, Query(max_length=2000, description="公开时限 as written")],
    start: Annotated[date, Query(description="the date of the triggering event")],
    session: SessionDep,
) -> timelimits.Evaluation:
    """The rule and its due date on the official working-day calendar.

    Working days count from the day after `start`; a natural-day period ending on a rest
    day or holiday ends on the next working day. A year whose holiday arrangement is
    unknown (neither loaded by an auditor nor in the package) is never guessed: the answer
    is still 200, with `due_on` null, a `note` naming the year and the year in
    `unknown_years`; `PUT /api/v1/calendar/{year}` loads it.
    """
    rule = timelimits.parse(text)
    return timelimits.evaluate(rule, start, calendar.work_calendar(session))
