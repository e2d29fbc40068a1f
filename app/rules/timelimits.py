"""公开时限 / time limits: parse the free text of a guide item into a rule and compute due dates.

Pure and database-free: the caller passes a `WorkCalendar` holding whatever official
holiday arrangements an auditor has loaded; the package `chinese-calendar` covers the rest.
"""

from __future__ import annotations

import calendar as _calendar
import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from functools import lru_cache
from typing import Literal

import chinese_calendar
from pydantic import BaseModel, Field

Kind = Literal[
    "working_days",
    "natural_days",
    "months",
    "realtime",
    "timely",
    "periodic",
    "permanent",
    "statutory",
    "unparsed",
]
Period = Literal["year", "half_year", "quarter", "month", "week"]
OffsetUnit = Literal["working_day", "day", "month"]


class TimeLimitRule(BaseModel):
    """公开时限规则 / a parsed time limit; for compound texts the fields are the first clause's."""

    kind: Kind
    days: int | None = Field(default=None, ge=0)
    months: int | None = Field(default=None, ge=0)
    event: str | None = None
    before_event: bool = False
    scope: str | None = None
    period: Period | None = None
    count: int | None = Field(default=None, ge=0)
    deadline: str | None = Field(default=None, pattern=r"^\d{2}-\d{2}$")
    day_of_month: int | None = Field(default=None, ge=1, le=31)
    offset_unit: OffsetUnit | None = None
    statute: str | None = None
    legal_override: bool = False
    display_days: int | None = Field(default=None, ge=0)
    min_comment_days: int | None = Field(default=None, ge=0)
    clauses: list[TimeLimitRule] = Field(default_factory=list)
    text: str = ""


class UnknownCalendarYear(Exception):
    """Neither the package nor an auditor-loaded arrangement knows this year's holidays."""

    def __init__(self, year: int) -> None:
        super().__init__(f"no official holiday arrangement known for {year}")
        self.year = year


class Evaluation(BaseModel):
    """The answer of GET /time-limits/evaluate."""

    rule: TimeLimitRule
    due_on: date | None
    note: str
    unknown_years: list[int] = Field(default_factory=list)


# --------------------------------------------------------------------------- calendar


@lru_cache(maxsize=256)
def _package_knows(year: int) -> bool:
    # The package raises NotImplementedError outside its data; asking it keeps us in step
    # with whatever range the installed version ships instead of hard-coding 2004-2026.
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


@lru_cache(maxsize=256)
def _package_year(year: int) -> bytes:
    """The package's answer for every day of a year it knows, one byte a day (1 = working
    day), asked once: the package checks each date against its whole table, ~50 µs a call,
    and an overdue application counts every working day since its due date."""
    first = date(year, 1, 1)
    days = (date(year + 1, 1, 1) - first).days
    return bytes(chinese_calendar.is_workday(first + timedelta(days=n)) for n in range(days))


def _weekdays(first: date, last: date) -> int:
    """Monday-to-Friday days from first through last."""
    weeks, extra = divmod((last - first).days + 1, 7)
    start = first.weekday()
    return weeks * 5 + sum(1 for n in range(extra) if (start + n) % 7 < 5)


class WorkCalendar:
    """工作日历 / the official working-day calendar, auditor-loaded years first."""

    def __init__(
        self,
        overrides: Mapping[date, bool] | None = None,
        override_years: Iterable[int] = (),
    ) -> None:
        self.overrides: dict[date, bool] = dict(overrides or {})
        self.override_years: frozenset[int] = frozenset(override_years)

    def knows(self, year: int) -> bool:
        return year in self.override_years or _package_knows(year)

    def is_workday(self, day: date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        if day.year in self.override_years:
            # A loaded arrangement lists only the exceptions; every other day follows the week.
            return day.weekday() < 5
        if _package_knows(day.year):
            return bool(_package_year(day.year)[day.timetuple().tm_yday - 1])
        raise UnknownCalendarYear(day.year)

    def working_days_between(self, after: date, through: date) -> int:
        """Working days d with after < d <= through, a year at a time (not day by day)."""
        count = 0
        first = after + timedelta(days=1)
        while first <= through:
            last = min(through, date(first.year, 12, 31))
            count += self._working_days_in(first, last)
            first = last + timedelta(days=1)
        return count

    def _usual(self, day: date) -> bool:
        """A day's answer before this calendar's overrides: the week, in a loaded year."""
        if day.year in self.override_years:
            return day.weekday() < 5
        return bool(_package_year(day.year)[day.timetuple().tm_yday - 1])

    def _working_days_in(self, first: date, last: date) -> int:
        """Working days from first through last, both in one year."""
        year = first.year
        if not self.knows(year):
            raise UnknownCalendarYear(year)
        if year in self.override_years:
            count = _weekdays(first, last)
        else:
            start = first.timetuple().tm_yday - 1
            count = sum(_package_year(year)[start : start + (last - first).days + 1])
        for day, workday in self.overrides.items():
            if first <= day <= last and workday != self._usual(day):
                count += 1 if workday else -1
        return count

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after `start` (counting begins the day after the event)."""
        day = start
        counted = 0
        while counted < n:
            day += timedelta(days=1)
            if self.is_workday(day):
                counted += 1
        return day

    def before_working_days(self, event: date, n: int) -> date:
        """The n-th working day before `event`: the latest day for 'N个工作日前'."""
        day = event
        counted = 0
        while counted < n:
            day -= timedelta(days=1)
            if self.is_workday(day):
                counted += 1
        return day

    def months_due(self, start: date, n: int) -> date:
        """start + n months, the Chinese way (民法典 第二百零一条至第二百零三条).

        第201条: the period begins the day after the event. 第202条: a period of months
        ends on the corresponding day of the last month, or on that month's last day when
        it has no such day (1月31日 + 1个月 = 2月28/29日). 第203条: an end on a rest day
        moves to the next working day.
        """
        month_index = start.month - 1 + n
        year, month = start.year + month_index // 12, month_index % 12 + 1
        day = date(year, month, min(start.day, _calendar.monthrange(year, month)[1]))
        while not self.is_workday(day):
            day += timedelta(days=1)
        return day

    def natural_days_due(self, start: date, n: int) -> date:
        """start + n days, a rest-day end moved to the next working day (民法典 第203条)."""
        day = start + timedelta(days=n)
        while not self.is_workday(day):
            day += timedelta(days=1)
        return day


# --------------------------------------------------------------------------- parsing

_CN_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7}
_CN_DIGITS |= {"八": 8, "九": 9}
_NUM = r"\d+|[零一二两三四五六七八九十百]+"

_DAYS = re.compile(
    rf"(?<![月\d])(?P<n>{_NUM})\s*个?\s*(?P<unit>工作日|自然日|日|天|周|星期)(?P<before>前)?"
)
# "批准后20内": a 日 lost in the source table; the number right after 后/之日起 still means days.
# "一个月内", "3个月", "半年内", "一年内": months (半个月 is 15 days, as courts read it).
_MONTHS = re.compile(
    rf"(?<![每月\d])(?:(?P<n>{_NUM})\s*个\s*月(?=内|以内|之内|后|前|$)"
    r"|(?P<half>半)年(?=内|以内|之内)"
    r"|(?P<years>\d{1,2}|[一二两三四五六七八九十]{1,2})\s*年(?=内|以内|之内))(?P<before>前)?"
)
_HALF_MONTH = re.compile(r"半个月(?=内|以内|之内|后|前|$)")
_DAYS_TYPO = re.compile(r"(?:后|之日起)\s*(?P<n>\d+)\s*内")
_STATUTE = re.compile(r"《(?P<statute>[^》]+)》[^,;。]*?规定的(?:时限|期限)")
_STATUTORY = re.compile(r"法定(?:时限|期限)")
_OVERRIDE = re.compile(r"另有规定|从其规定")
_DISPLAY = re.compile(rf"^公示(?:期)?(?:不少于)?(?P<n>{_NUM})\s*个?\s*(?:工作日|日|天)$")
_MIN_COMMENT = re.compile(rf"不(?:得)?少于\s*(?P<n>{_NUM})")
_PERMANENT = re.compile(r"永久公开|长期公开|常年公开|长期保留")
_TIMELY = re.compile(r"及时|按实际更新|随时更新|动态更新")
_WITH_EVENT = re.compile(
    r"^(?:在|于)?(?P<event>.+?)(?:时|的同时|同时)$|^随(?P<with>.+?)(?:一并|同时)?公开$"
)
_TRUNCATED = re.compile(r"\((?:其余)?被?截断\)|\.{3,}|…+")
_NUMBERED = re.compile(r"(?:^|(?<=[;,。\s]))\s*\d+[.、](?=\D)")
_PAREN = re.compile(r"\(([^()]*)\)")
_SCOPE_COLON = re.compile(r"^(?P<scope>[^:]{1,30}):(?P<rest>.+)$")
_SCOPE_QIZHONG = re.compile(r"^其中(?P<scope>.+?)(?:应当|应)(?P<rest>.+)$")

_PERIOD_WORDS: dict[str, Period] = {
    "年": "year",
    "半年": "half_year",
    "季度": "quarter",
    "季": "quarter",
    "月": "month",
    "周": "week",
    "星期": "week",
}
_EVERY = re.compile(r"每(?P<p>半年|年|季度|季|月|周|星期)")
_AT_LEAST = re.compile(
    rf"(?P<p>半年|年|季度|月|周)?至少(?:更新|公开)?(?P<c>{_NUM})次(?:/(?P<p2>半年|年|季度|月|周))?"
)
_YEAR_DEADLINE = re.compile(r"每年(?P<m>\d{1,2})月(?:(?P<d>\d{1,2})日|(?P<end>底|末))前?")
_MONTH_DEADLINE = re.compile(r"每月(?P<d>\d{1,2})(?:日|号)(?:前|之前|以前)")
_PERIOD_OFFSET = re.compile(
    rf"每(?:半年|年|季度|季|月|周)(?:结束|期满|终了)?后(?P<n>{_NUM})\s*个?\s*(?P<unit>工作日|日|天|月)"
)


def _number(token: str) -> int | None:
    """Arabic or Chinese numerals up to the hundreds (二十, 十五, 七); None if unreadable."""
    if len(token) > 6:
        # No time limit runs to a million days; long digit runs are noise (and int() caps them).
        return None
    if token.isdigit():
        return int(token)
    total = 0
    current = 0
    for char in token:
        if char in _CN_DIGITS:
            current = _CN_DIGITS[char]
        elif char == "十":
            total += (current or 1) * 10
            current = 0
        elif char == "百":
            total += (current or 1) * 100
            current = 0
        else:
            return None
    return total + current


def _normalise(text: str) -> str:
    # NFKC folds full-width digits, brackets and punctuation (２０, （）, ，；：) to ASCII.
    folded = unicodedata.normalize("NFKC", text)
    return re.sub(r"\s+", "", folded)


def _segments(text: str) -> list[str]:
    """Split a compound text into clause candidates: parts, numbered items, side notes."""
    side_notes: list[str] = []

    def pull(match: re.Match[str]) -> str:
        inner = match.group(1)
        # Only brackets that carry a clause of their own become one; "(变更)" stays inline.
        if _DAYS.search(inner) or _OVERRIDE.search(inner) or ":" in inner:
            side_notes.append(inner)
            return ""
        return match.group(0)

    body = _PAREN.sub(pull, _TRUNCATED.sub("", text))
    body = _NUMBERED.sub(";", body)
    parts = re.split(r"[;,。]", body) + side_notes
    return [part.strip() for part in parts if part.strip()]


def _canonical_event(trigger: str) -> str | None:
    """Name the trigger in the guide's own words, folding the spelling variants together."""
    event = trigger
    if "在" in event:
        event = event.rsplit("在", 1)[1]
    event = re.sub(r"^(?:应当|应)?(?:自|从|于)", "", event)
    event = re.sub(r"(?:之日起|之日|以后|之后|后|起|时|个|之内)+$", "", event)
    event = event.replace("该", "").strip()
    if not event or event == "提前":
        return None
    if "变更" in event and re.search(r"形成|产生|获取", event):
        return "信息形成或变更"
    if "决定" in event and re.search(r"作出|形成|做出", event):
        return "作出行政决定"
    if re.search(r"(?:制作|制定)或获取", event):
        return "制作或获取信息"
    if "收到申请" in event:
        return "收到申请"
    if re.fullmatch(r"信息形成", event):
        return "信息形成"
    for word in ("批准", "批复"):
        if event.endswith(word) and "文件" not in event:
            return word
    return event


def _days_clause(segment: str, match: re.Match[str]) -> TimeLimitRule | None:
    n = _number(match.group("n"))
    if n is None:
        return None
    unit = match.group("unit")
    before = bool(match.group("before")) or "提前" in segment[: match.start()]
    kind: Kind = "working_days" if unit == "工作日" else "natural_days"
    days = n * 7 if unit in ("周", "星期") else n
    return TimeLimitRule(
        kind=kind,
        days=days,
        event=_canonical_event(segment[: match.start()]),
        before_event=before,
        text=segment,
    )


def _periodic_clause(segment: str) -> TimeLimitRule | None:
    every = _EVERY.search(segment)
    at_least = _AT_LEAST.search(segment)
    if every is not None:
        word: str | None = every.group("p")
    elif at_least is not None:
        word = at_least.group("p") or at_least.group("p2")
    else:
        return None
    if word is None:
        return None
    rule = TimeLimitRule(kind="periodic", period=_PERIOD_WORDS[word], text=segment)
    if at_least is not None:
        rule.count = _number(at_least.group("c"))
    if (deadline := _YEAR_DEADLINE.search(segment)) is not None:
        month = int(deadline.group("m"))
        if 1 <= month <= 12:
            last = _calendar.monthrange(2001, month)[1]
            day = last if deadline.group("end") else min(int(deadline.group("d")), last)
            rule.deadline = f"{month:02d}-{day:02d}"
    if word == "月" and (monthly := _MONTH_DEADLINE.search(segment)) is not None:
        day_of_month = int(monthly.group("d"))
        if 1 <= day_of_month <= 31:
            rule.day_of_month = day_of_month
    if (offset := _PERIOD_OFFSET.search(segment)) is not None:
        rule.days = _number(offset.group("n"))
        units: dict[str, OffsetUnit] = {"工作日": "working_day", "月": "month"}
        rule.offset_unit = units.get(offset.group("unit"), "day")
    return rule


def _months_clause(segment: str, match: re.Match[str]) -> TimeLimitRule | None:
    if match.group("half"):
        months: int | None = 6
    elif match.group("years"):
        years = _number(match.group("years"))
        months = years * 12 if years is not None else None
    else:
        months = _number(match.group("n"))
    if months is None:
        return None
    return TimeLimitRule(
        kind="months",
        months=months,
        event=_canonical_event(segment[: match.start()]),
        before_event=bool(match.group("before")) or "提前" in segment[: match.start()],
        text=segment,
    )


def _clause(segment: str) -> TimeLimitRule | None:
    """One clause of a time limit, or None when the segment carries no time limit."""
    scope: str | None = None
    if (qizhong := _SCOPE_QIZHONG.match(segment)) is not None:
        scope, segment = qizhong.group("scope"), qizhong.group("rest")
    elif (colon := _SCOPE_COLON.match(segment)) is not None and not _DAYS.search(
        colon.group("scope")
    ):
        scope, segment = colon.group("scope"), colon.group("rest")
    rule = _clause_body(segment)
    if rule is not None:
        rule.scope = scope
    return rule


def _clause_body(segment: str) -> TimeLimitRule | None:
    if "*" in segment or segment in ("同上", "同前", "/", "-", "无"):
        return TimeLimitRule(kind="unparsed", text=segment)
    if _STATUTORY.search(segment):
        return TimeLimitRule(kind="statutory", text=segment)
    if (statute := _STATUTE.search(segment)) is not None:
        return TimeLimitRule(kind="statutory", statute=statute.group("statute"), text=segment)
    if (periodic := _periodic_clause(segment)) is not None:
        return periodic
    if (days := _DAYS.search(segment)) is not None:
        return _days_clause(segment, days)
    if (half_month := _HALF_MONTH.search(segment)) is not None:
        return TimeLimitRule(
            kind="natural_days",
            days=15,
            event=_canonical_event(segment[: half_month.start()]),
            text=segment,
        )
    if (months := _MONTHS.search(segment)) is not None:
        return _months_clause(segment, months)
    if (typo := _DAYS_TYPO.search(segment)) is not None:
        return TimeLimitRule(
            kind="natural_days",
            days=int(typo.group("n")),
            event=_canonical_event(segment[: typo.start() + 1]),
            text=segment,
        )
    if _PERMANENT.search(segment):
        return TimeLimitRule(kind="permanent", text=segment)
    if "实时" in segment:
        return TimeLimitRule(kind="realtime", text=segment)
    if _TIMELY.search(segment):
        # Only "X作出后及时" names an event; "按进展情况及时" is a manner, not a trigger.
        after = re.match(r"^(?P<event>.+?)后及时", segment)
        event = _canonical_event(after.group("event")) if after else None
        return TimeLimitRule(kind="timely", event=event, text=segment)
    if (with_event := _WITH_EVENT.match(segment)) is not None:
        # "在实地启动…时", "随采购公告公开": due the day the event happens, like 实时.
        event = with_event.group("event") or with_event.group("with")
        return TimeLimitRule(kind="realtime", event=event, text=segment)
    return None


def parse(text: str | None) -> TimeLimitRule:
    """Parse 公开时限 text into a rule; never raises, unreadable text gives kind 'unparsed'."""
    raw = text or ""
    normalised = _normalise(raw)
    legal_override = bool(_OVERRIDE.search(normalised))
    clauses: list[TimeLimitRule] = []
    display_days: int | None = None
    min_comment_days: int | None = None
    for segment in _segments(normalised):
        if _OVERRIDE.search(segment) and not _DAYS.search(segment):
            continue
        if (display := _DISPLAY.match(segment)) is not None:
            display_days = _number(display.group("n"))
        elif (comment := _MIN_COMMENT.search(segment)) is not None and "意见" in segment:
            min_comment_days = _number(comment.group("n"))
        elif (clause := _clause(segment)) is not None:
            clauses.append(clause)
    if not clauses:
        clauses = [TimeLimitRule(kind="unparsed")]
    primary = clauses[0].model_copy(
        update={
            "text": raw,
            "legal_override": legal_override,
            "display_days": display_days,
            "min_comment_days": min_comment_days,
            "clauses": clauses if len(clauses) > 1 else [],
        }
    )
    return primary


# --------------------------------------------------------------------------- evaluation

_NO_DUE_DATE: dict[str, str] = {
    "timely": "及时公开，无固定天数，按事件进展尽快公开 / timely: no fixed number of days",
    "permanent": "长期公开，随时保持可查，无截止日 / permanent: kept public, no due date",
    "statutory": "法定时限内，期限由法律法规规定 / statutory: the limit is set by law",
    "unparsed": "无法识别的公开时限，需人工判断 / unparsed: the text needs a human reading",
}


def _period_end(day: date, period: Period) -> date:
    if period == "year":
        return date(day.year, 12, 31)
    if period == "half_year":
        return date(day.year, 6, 30) if day.month <= 6 else date(day.year, 12, 31)
    if period == "quarter":
        month = (day.month - 1) // 3 * 3 + 3
        return date(day.year, month, _calendar.monthrange(day.year, month)[1])
    if period == "month":
        return date(day.year, day.month, _calendar.monthrange(day.year, day.month)[1])
    return day + timedelta(days=6 - day.weekday())


def _yearly_deadline(start: date, deadline: str) -> date:
    month, day = (int(part) for part in deadline.split("-"))

    def in_year(year: int) -> date:
        return date(year, month, min(day, _calendar.monthrange(year, month)[1]))

    candidate = in_year(start.year)
    return candidate if candidate >= start else in_year(start.year + 1)


def _monthly_deadline(start: date, day_of_month: int) -> date:
    def in_month(year: int, month: int) -> date:
        return date(year, month, min(day_of_month, _calendar.monthrange(year, month)[1]))

    candidate = in_month(start.year, start.month)
    if candidate >= start:
        return candidate
    return in_month(start.year + start.month // 12, start.month % 12 + 1)


def _periodic_due(rule: TimeLimitRule, start: date, calendar: WorkCalendar) -> tuple[date, str]:
    period = rule.period or "year"
    if rule.deadline is not None and period == "year":
        due = _yearly_deadline(start, rule.deadline)
        return (
            due,
            f"{start} 起下一个 {rule.deadline} 截止 / next {rule.deadline} on or after {start}",
        )
    if rule.day_of_month is not None and period == "month":
        due = _monthly_deadline(start, rule.day_of_month)
        return (
            due,
            f"{start} 起下一个每月 {rule.day_of_month} 日截止 / next day {rule.day_of_month} of "
            f"a month on or after {start}",
        )
    if rule.days is None:
        due = _period_end(start, period)
        return due, f"{start} 所在周期的最后一天 / last day of the {period} containing {start}"
    # A report due N days after each period closes: the last period's may still be open.
    current_end = _period_end(start, period)
    previous_end = _period_start(start, period) - timedelta(days=1)
    due = _offset(calendar, previous_end, rule)
    if due < start:
        due = _offset(calendar, current_end, rule)
    return due, f"周期结束后 {rule.days} 日 / {rule.days} days after the {period} ends"


def _period_start(day: date, period: Period) -> date:
    if period == "year":
        return date(day.year, 1, 1)
    if period == "half_year":
        return date(day.year, 1 if day.month <= 6 else 7, 1)
    if period == "quarter":
        return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    if period == "month":
        return date(day.year, day.month, 1)
    return day - timedelta(days=day.weekday())


def _offset(calendar: WorkCalendar, end: date, rule: TimeLimitRule) -> date:
    days = rule.days or 0
    if rule.offset_unit == "working_day":
        return calendar.add_working_days(end, days)
    if rule.offset_unit == "month":
        return calendar.months_due(end, days)
    return calendar.natural_days_due(end, days)


def _due(rule: TimeLimitRule, start: date, calendar: WorkCalendar) -> tuple[date | None, str]:
    days = rule.days or 0
    if rule.kind == "working_days" and rule.before_event:
        due = calendar.before_working_days(start, days)
        return due, f"{start} 前第 {days} 个工作日 / {days} working days before {start}"
    if rule.kind == "working_days":
        due = calendar.add_working_days(start, days)
        return due, f"{start} 后第 {days} 个工作日 / {_ordinal(days)} working day after {start}"
    if rule.kind == "natural_days" and rule.before_event:
        # Moving a 'before' deadline later onto a working day would break it; keep it as is.
        due = start - timedelta(days=days)
        return due, f"{start} 前 {days} 日 / {days} days before {start}"
    if rule.kind == "natural_days":
        due = calendar.natural_days_due(start, days)
        note = f"{start} 后 {days} 日 / {days} days after {start}"
        if due != start + timedelta(days=days):
            note += "，末日为休息日顺延至次一工作日（民法典第二百零三条）"
            note += " / last day is a rest day, moved to the next working day (Civil Code art. 203)"
        return due, note
    if rule.kind == "months" and rule.before_event:
        due = calendar.months_due(start, -(rule.months or 0))
        return due, f"{start} 前 {rule.months} 个月 / {rule.months} months before {start}"
    if rule.kind == "months":
        months = rule.months or 0
        due = calendar.months_due(start, months)
        note = (
            f"{start} 后 {months} 个月，到期月的对应日（无对应日为月末）；末日为休息日顺延"
            f"（民法典第二百零二、二百零三条） / {months} months after {start}: the same day "
            "of the last month, or its last day; a rest day moves to the next working day "
            "(Civil Code arts. 202-203)"
        )
        return due, note
    if rule.kind == "realtime":
        return start, "实时公开，事件当日 / realtime: due on the day of the event"
    if rule.kind == "periodic":
        return _periodic_due(rule, start, calendar)
    return None, _NO_DUE_DATE[rule.kind]


def _ordinal(n: int) -> str:
    if 10 <= n % 100 <= 20:
        return f"{n}th"
    return f"{n}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th') }"


def evaluate(rule: TimeLimitRule, start: date, calendar: WorkCalendar) -> Evaluation:
    """Due date of `rule` for an event on `start`; never raises, unknown years are reported."""
    try:
        due, note = _due(rule, start, calendar)
    except UnknownCalendarYear as unknown:
        note = (
            f"{unknown.year} 年的节假日安排未知，无法计算；审核人员可通过接口载入该年安排"
            f" / the official holiday arrangement for {unknown.year} is not known;"
            " an auditor can load it through the API"
        )
        return Evaluation(rule=rule, due_on=None, note=note, unknown_years=[unknown.year])
    except (OverflowError, ValueError):
        note = "日期超出可计算范围 / the date falls outside the representable range"
        return Evaluation(rule=rule, due_on=None, note=note)
    if rule.legal_override:
        note += "；法律法规另有规定的从其规定 / a different statutory limit prevails"
    if rule.clauses:
        note += f"；另有 {len(rule.clauses) - 1} 项分项时限见 clauses"
        note += f" / {len(rule.clauses) - 1} more clause(s) in rule.clauses"
    return Evaluation(rule=rule, due_on=due, note=note)
