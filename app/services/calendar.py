"""工作日历 / the official working-day calendar: years an auditor loaded first, then the package."""

from datetime import date, datetime, timedelta
from importlib.metadata import version
from typing import Any

from sqlalchemy import bindparam, delete
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from app.errors import invalid_all
from app.models.calendar import CalendarArrangement, CalendarDay, CalendarPublic, CalendarYear
from app.models.common import utcnow
from app.principal import Principal
from app.rules.timelimits import WorkCalendar
from app.services import history

PACKAGE = f"chinese-calendar {version('chinese-calendar')}"


_ARRANGEMENTS: dict[tuple[int, int, datetime], dict[date, bool]] = {}
"""A loaded year's days by (year, revision, loaded_at): a load or correction bumps the revision
and the time, so a stale arrangement is never found (a year's stamp is read on every use)."""
_MAX_ARRANGEMENTS = 256
_YEARS = CalendarYear.__table__.c  # type: ignore[attr-defined]
_STAMPS = core_select(_YEARS.year, _YEARS.revision, _YEARS.loaded_at).where(
    _YEARS.year.in_(bindparam("years", expanding=True))
)
"""Which of some years are loaded, at which revision (read on every use; built once)."""


def clear_caches() -> None:
    _ARRANGEMENTS.clear()


class StoredCalendar(WorkCalendar):
    """A WorkCalendar that reads a year's loaded arrangement the first time it meets the year.

    A due date touches one or two years; loading only those keeps a request to a query or
    two however many years have been loaded.
    """

    def __init__(self, session: Session) -> None:
        super().__init__()
        self._session = session
        self._seen: set[int] = set()

    def _load(self, year: int) -> None:
        self.preload(year, year)

    def preload(self, first: int, last: int) -> None:
        """The loaded arrangements of the years first..last: which years are loaded, and at
        which revision, is read on every call (a few rows); their days come from the
        process's memory when that revision was read before, else in one query."""
        wanted = [year for year in range(first, last + 1) if year not in self._seen]
        if not wanted:
            return
        self._seen.update(wanted)
        stamps = {
            year: (year, revision, loaded_at)
            for year, revision, loaded_at in self._session.connection().execute(
                _STAMPS, {"years": wanted}
            )
        }
        if not stamps:
            return
        # local references: another thread may empty the shared dict between two lines here
        known = {year: _ARRANGEMENTS.get(stamp) for year, stamp in stamps.items()}
        missing = [year for year, days in known.items() if days is None]
        if missing:
            read: dict[int, dict[date, bool]] = {year: {} for year in missing}
            for year, day, workday in self._session.exec(
                select(
                    col(CalendarDay.year), col(CalendarDay.day), col(CalendarDay.is_workday)
                ).where(col(CalendarDay.year).in_(missing))
            ).all():
                read[year][day] = workday
            if len(_ARRANGEMENTS) + len(missing) > _MAX_ARRANGEMENTS:
                _ARRANGEMENTS.clear()
            for year, loaded in read.items():
                _ARRANGEMENTS[stamps[year]] = loaded
                known[year] = loaded
        self.override_years = self.override_years | set(stamps)
        for found in known.values():
            self.overrides.update(found or {})

    def knows(self, year: int) -> bool:
        if year not in self._seen:
            self._load(year)
        return super().knows(year)

    def is_workday(self, day: date) -> bool:
        if day.year not in self._seen:  # a due date asks for a day at a time
            self._load(day.year)
        return super().is_workday(day)


def work_calendar(session: Session) -> WorkCalendar:
    return StoredCalendar(session)


def calendar_for(session: Session, first: date, last: date) -> WorkCalendar:
    """The calendar with the years first..last (and the one after, where a time limit may
    end) read in one query; other years are read when met."""
    calendar = StoredCalendar(session)
    calendar.preload(first.year, max(first.year, last.year) + 1)
    return calendar


def _days(year: int) -> list[date]:
    first = date(year, 1, 1)
    return [first + timedelta(days=n) for n in range((date(year + 1, 1, 1) - first).days)]


def etag(year: int, loaded: CalendarYear | None) -> str:
    """A year never loaded is revision 0: a first load needs no If-Match, a later one does."""
    return f'"y{year}.{loaded.revision if loaded is not None else 0}"'


def describe(session: Session, year: int) -> CalendarPublic:
    """What is known of a year: the loaded arrangement, else the package's, else nothing."""
    loaded = session.get(CalendarYear, year)
    if loaded is not None:
        rows = session.exec(
            select(col(CalendarDay.day), col(CalendarDay.is_workday))
            .where(CalendarDay.year == year)
            .order_by(col(CalendarDay.day))
        ).all()
        return CalendarPublic(
            year=year,
            known=True,
            origin="loaded",
            etag=etag(year, loaded),
            source=loaded.source,
            loaded_at=loaded.loaded_at,
            holidays=[day for day, workday in rows if not workday],
            workdays=[day for day, workday in rows if workday],
            note=(
                f"{year} 年按审核人员载入的安排计算 / {year} follows the arrangement an auditor "
                "loaded (it takes precedence over the package)"
            ),
        )
    package = WorkCalendar()
    if package.knows(year):
        days = _days(year)
        return CalendarPublic(
            year=year,
            known=True,
            origin="package",
            etag=etag(year, None),
            source=PACKAGE,
            holidays=[d for d in days if d.weekday() < 5 and not package.is_workday(d)],
            workdays=[d for d in days if d.weekday() >= 5 and package.is_workday(d)],
            note=f"{year} 年按 {PACKAGE} 计算 / {year} follows {PACKAGE}",
        )
    return CalendarPublic(
        year=year,
        known=False,
        origin="unknown",
        etag=etag(year, None),
        source=None,
        holidays=[],
        workdays=[],
        note=(
            f"{year} 年的节假日安排未知，不计算该年的工作日；审核人员可通过 PUT "
            f"/api/v1/calendar/{year} 载入 / the official arrangement for {year} is not known and "
            f"no working day of it is computed; an auditor can load it with PUT "
            f"/api/v1/calendar/{year}"
        ),
    )


def _check_year(year: int, data: CalendarArrangement) -> list[str]:
    """Refuse what cannot be an official arrangement; answer what is only unusual.

    Impossible (422): a day outside the year; a "working day" that is Monday-Friday (only
    a weekend day can be made a working day, 调休上班). Unusual (warnings, stored as sent
    less the no-op): a holiday on a weekend (already a day off; notices list whole
    ranges, so it is dropped, not refused), a make-up working day with no holiday within
    a week of it, a year without holidays, more weekday holidays than any arrangement
    since 2008 has had (the most is 19, in 2020 with the extended Spring Festival).
    """
    errors: list[dict[str, Any]] = []
    for field in ("holidays", "workdays"):
        for index, day in enumerate(getattr(data, field)):
            if day.year != year:
                errors.append(
                    {
                        "loc": ("body", field, index),
                        "msg": f"{day} 不在 {year} 年内 / {day} is not in {year}",
                        "type": "date_outside_year",
                    }
                )
            elif field == "workdays" and day.weekday() < 5:
                errors.append(
                    {
                        "loc": ("body", field, index),
                        "msg": (
                            f"{day} 是周{'一二三四五'[day.weekday()]}，本来就是工作日；"
                            "调休上班日只能是周六或周日 / "
                            f"{day} is a {day:%A}, already a working day; "
                            "only a Saturday or Sunday can be made a working day"
                        ),
                        "type": "workday_not_weekend",
                    }
                )
    if errors:
        raise invalid_all(errors)
    warnings = [
        f"{day} 是周末，本来就休息，已忽略 / {day} is a weekend day, already off; ignored"
        for day in sorted(set(data.holidays))
        if day.weekday() >= 5
    ]
    weekday_holidays = {day for day in data.holidays if day.weekday() < 5}
    if not weekday_holidays:
        warnings.append(
            f"{year} 年没有任何工作日放假，请核对 / {year} has no weekday holiday; check the "
            "arrangement"
        )
    elif len(weekday_holidays) > 19:
        warnings.append(
            f"{year} 年有 {len(weekday_holidays)} 个工作日放假，多于以往任何一年，请核对 / "
            f"{year} has {len(weekday_holidays)} weekday holidays, more than any year so far; "
            "check the arrangement"
        )
    for day in sorted(set(data.workdays)):
        if not any(abs((day - holiday).days) <= 7 for holiday in weekday_holidays):
            warnings.append(
                f"调休上班日 {day} 前后一周内没有假日，请核对 / the make-up working day {day} "
                "has no holiday within a week of it; check the arrangement"
            )
    return warnings


def load(
    session: Session, year: int, data: CalendarArrangement, *, actor: Principal
) -> CalendarPublic:
    """Replace a year's arrangement; from now on the package is not consulted for that year."""
    warnings = _check_year(year, data)
    existing = session.get(CalendarYear, year)
    before = describe(session, year).model_dump(mode="json") if existing else None
    session.exec(delete(CalendarDay).where(col(CalendarDay.year) == year))
    if existing is None:
        existing = CalendarYear(year=year)
    existing.source = data.source
    existing.loaded_at = utcnow()
    session.add(existing)
    session.flush()
    weekday_holidays = [day for day in data.holidays if day.weekday() < 5]
    days = dict.fromkeys(weekday_holidays, False) | dict.fromkeys(data.workdays, True)
    session.add_all(
        CalendarDay(day=day, year=year, is_workday=workday) for day, workday in sorted(days.items())
    )
    session.flush()
    after = describe(session, year)
    history.record(
        session,
        actor,
        action="load",
        entity="calendar",
        entity_id=year,
        before=before,
        after=after.model_dump(mode="json"),
        note=data.source,
    )
    return after.model_copy(update={"warnings": warnings})
