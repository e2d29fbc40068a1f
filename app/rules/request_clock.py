"""依申请公开的答复期限 / the statutory clock of an application for disclosure.

Pure and database-free: the day of receipt, the events in order and a working-day calendar
give the state, the due date and whether the answer was on time, as the 中华人民共和国政府
信息公开条例 (2019 revision) sets them:

- 第33条第2款: answer within 20 working days of receipt; one extension of at most 20
  working days, approved by the head of the disclosure office and notified to the applicant.
- 第31条: the receipt date depends on the channel; the clerk enters the legally effective
  day, the clock only reads it.
- 第30条: one correction notice (补正) within 7 working days of receipt (a later one is
  flagged `late_notice`); the answer period then runs from the day the corrected application
  arrives; no correction within the period given closes the application (三(六) 逾期不补正).
- 第32条 / 第34条 with 第33条第3款: the time spent consulting a third party or another
  agency does not count; either has 15 working days to reply, so a consultation ends by
  itself on the 15th working day after it started.

Day counting: the working day after an event is day 1 (the common reading of 第33条), so
the answer is due on the 20th working day after receipt, and a consultation that started
on day S and ended on day E stops the clock for the working days after S up to E.

A year the calendar does not know gives no due date (`due_on` None and a note), never a
wrong one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Protocol

from app.rules.timelimits import UnknownCalendarYear

ANSWER_DAYS = 20
"""第33条第2款: 自收到申请之日起20个工作日内予以答复."""
MAX_EXTENSION_DAYS = 20
"""第33条第2款: 延长的期限最长不得超过20个工作日 (once, approved)."""
CORRECTION_NOTICE_DAYS = 7
"""第30条: 自收到申请之日起7个工作日内一次性告知申请人作出补正."""
CONSULTATION_DAYS = 15
"""第32条 (third party) and 第34条 (another agency): 15个工作日内提出意见."""

KINDS = (
    "correction_requested",
    "correction_received",
    "correction_expired",
    "extended",
    "consultation_started",
    "consultation_ended",
    "answered",
    "withdrawn",
)
PARTIES = ("third_party", "agency")
OPEN_STATES = ("open", "paused")
CORRECTION_EXPIRED_OUTCOME = "other_no_correction"
"""三(六) 逾期不补正: row 三(六)1 of the 2021 template, 三(六) of the 2019 one."""

# Which optional fields each kind takes (required ones first).
_REQUIRED: dict[str, tuple[str, ...]] = {
    "extended": ("days", "approved_by"),
    "consultation_started": ("party",),
    "answered": ("outcome",),
}
_ALLOWED: dict[str, tuple[str, ...]] = {
    "extended": ("days", "approved_by"),
    "consultation_started": ("party",),
    "consultation_ended": ("party",),
    "answered": ("outcome",),
}
OPTIONAL_FIELDS = ("days", "approved_by", "party", "outcome")


class Calendar(Protocol):
    """The working-day engine (app.rules.timelimits.WorkCalendar satisfies it)."""

    def is_workday(self, day: date) -> bool: ...

    def add_working_days(self, start: date, n: int) -> date: ...

    def working_days_between(self, after: date, through: date) -> int:
        """Working days d with after < d <= through."""
        ...


@dataclass(frozen=True)
class Event:
    """One thing that happened to an application, as the clerk recorded it."""

    kind: str
    on: date
    days: int | None = None
    approved_by: str | None = None
    party: str | None = None
    outcome: str | None = None


class SequenceError(Exception):
    """An event that cannot happen after the ones before it: `rule` names why."""

    def __init__(self, index: int, field: str, rule: str, message: str) -> None:
        super().__init__(message)
        self.index = index
        self.field = field
        self.rule = rule
        self.message = message


@dataclass
class Pause:
    """A consultation (第32条/第34条): the working days after `started_on` up to its last day
    do not count."""

    party: str
    started_on: date
    until: date | None
    """the 15th working day after the start, when it ends by itself (None: unknown year)"""
    ended_on: date | None = None
    """the day it ended: the reply arrived, or the application was answered or withdrawn"""

    @property
    def last_day(self) -> date | None:
        """The last paused day; None when it cannot be known (its year is not on the calendar)."""
        if self.ended_on is not None and (self.until is None or self.ended_on <= self.until):
            return self.ended_on
        return self.until


@dataclass
class Clock:
    """Everything the events decide; `days_left` and `state_on` add the day you look."""

    state: str = "open"
    clock_start: date | None = None
    """the day the 20 working days run from: receipt, or the corrected application's arrival"""
    extended_days: int = 0
    due_on: date | None = None
    late_notice: bool | None = False
    pauses: list[Pause] = field(default_factory=list)
    answered_on: date | None = None
    """the day of the answer (or of closing it for want of a correction)"""
    closed_on: date | None = None
    """answered, closed for want of a correction, or withdrawn: the day it left the open list"""
    outcome: str | None = None
    on_time: bool | None = None
    note: str | None = None

    @property
    def limit_days(self) -> int:
        return ANSWER_DAYS + self.extended_days

    @property
    def paused_until(self) -> date | None:
        """While paused: the day the consultation ends by itself."""
        if self.state == "paused" and self.pauses:
            return self.pauses[-1].until
        return None

    def state_on(self, as_of: date) -> str:
        """The state on a day: a consultation past its 15 working days no longer pauses."""
        until = self.paused_until
        if self.state == "paused" and until is not None and as_of > until:
            return "open"
        return self.state

    def days_left(self, as_of: date, calendar: Calendar) -> int | None:
        """Working days left to answer on `as_of` (0 on the due date), negative when overdue:
        minus the working days since the due date. None once closed or without a due date."""
        if self.state not in OPEN_STATES or self.due_on is None or self.clock_start is None:
            return None
        try:
            if as_of > self.due_on:
                return -calendar.working_days_between(self.due_on, as_of)
            left = 0
            day = max(as_of, self.clock_start)
            while day < self.due_on:
                day += timedelta(days=1)
                if calendar.is_workday(day) and not self._paused(day):
                    left += 1
            return left
        except UnknownCalendarYear:
            return None

    def _paused(self, day: date) -> bool:
        for pause in self.pauses:
            last = pause.last_day
            if last is not None and pause.started_on < day <= last:
                return True
        return False


def _unknown_note(year: int) -> str:
    return (
        f"{year} 年的节假日安排未知，无法计算答复期限；审核人员可通过 PUT /api/v1/calendar/"
        f"{year} 载入 / the official holiday arrangement for {year} is not known, so no due "
        f"date is computed; an auditor can load it with PUT /api/v1/calendar/{year}"
    )


def due_date(calendar: Calendar, start: date, limit: int, pauses: Sequence[Pause]) -> date | None:
    """The `limit`-th counted working day after `start`, each pause that begins before the
    clock runs out pushing it back by its paused working days (第33条第3款)."""
    due = calendar.add_working_days(start, limit)
    for pause in sorted(pauses, key=lambda p: p.started_on):
        if pause.started_on < start or pause.started_on >= due:
            continue
        last = pause.last_day
        if last is None:
            return None
        # The clock stood still from the start; what was left of it runs after the last day.
        remaining = calendar.working_days_between(pause.started_on, due)
        due = calendar.add_working_days(max(last, pause.started_on), remaining)
    return due


def _check_fields(index: int, event: Event) -> None:
    if event.kind not in KINDS:
        raise SequenceError(
            index, "kind", "unknown_kind", f"未知的事件 {event.kind} / unknown event kind"
        )
    for name in _REQUIRED.get(event.kind, ()):
        value = getattr(event, name)
        if value is None or (isinstance(value, str) and not value.strip()):
            raise SequenceError(
                index,
                name,
                "missing",
                f"{event.kind} 事件须填写 {name} / a {event.kind} event needs {name}",
            )
    for name in OPTIONAL_FIELDS:
        if getattr(event, name) is not None and name not in _ALLOWED.get(event.kind, ()):
            raise SequenceError(
                index,
                name,
                "field_not_allowed",
                f"{event.kind} 事件不填写 {name} / a {event.kind} event takes no {name}",
            )
    if event.party is not None and event.party not in PARTIES:
        raise SequenceError(
            index,
            "party",
            "unknown_party",
            "征求意见对象须为 third_party（第三方，第32条）或 agency（其他机关，第34条）"
            " / party must be third_party (art. 32) or agency (art. 34)",
        )


class _Replay:
    """Applies events one by one, refusing the first one that cannot follow the others."""

    def __init__(self, received_on: date, calendar: Calendar) -> None:
        self.calendar = calendar
        self.received_on = received_on
        self.clock = Clock(clock_start=received_on)
        self.correction_requested_on: date | None = None
        self.last_on = received_on

    def fail(self, index: int, field: str, rule: str, message: str) -> SequenceError:
        return SequenceError(index, field, rule, message)

    def apply(self, index: int, event: Event) -> None:
        clock = self.clock
        _check_fields(index, event)
        if clock.state in ("answered", "withdrawn"):
            raise self.fail(
                index,
                "kind",
                "closed",
                f"申请已于 {clock.closed_on} 办结（{clock.state}），不能再记录事件 / the "
                f"application was closed ({clock.state}) on {clock.closed_on}; no event can "
                "follow",
            )
        if event.on < self.received_on:
            what = "答复" if event.kind == "answered" else "事件"
            raise self.fail(
                index,
                "on",
                "before_receipt",
                f"{what}日期 {event.on} 早于收到申请之日 {self.received_on} / the {event.kind} "
                f"date {event.on} is before the application was received ({self.received_on})",
            )
        if event.kind == "correction_received" and (
            self.correction_requested_on is not None and event.on < self.correction_requested_on
        ):
            raise self.fail(
                index,
                "on",
                "correction_before_request",
                f"补正申请的收到日 {event.on} 早于补正告知日 {self.correction_requested_on} / "
                f"the corrected application ({event.on}) cannot arrive before the correction "
                f"was requested ({self.correction_requested_on})",
            )
        if event.on < self.last_on:
            raise self.fail(
                index,
                "on",
                "out_of_order",
                f"事件须按日期先后记录：{event.on} 早于上一事件 {self.last_on} / events are "
                f"recorded in date order: {event.on} is before the previous one ({self.last_on})",
            )
        self._end_lapsed_pause(event.on)
        getattr(self, "_" + event.kind)(index, event)
        self.last_on = event.on

    def _end_lapsed_pause(self, on: date) -> None:
        clock = self.clock
        until = clock.paused_until
        if clock.state == "paused" and until is not None and on > until:
            clock.state = "open"  # 第32条/第34条: 15 working days, then it ends by itself

    def _awaiting(self, index: int, event: Event) -> None:
        if self.clock.state == "awaiting_correction":
            raise self.fail(
                index,
                "kind",
                "awaiting_correction",
                "正在等待申请人补正（第30条）：先记录 correction_received 或 correction_expired"
                f" / waiting for the applicant's correction (art. 30): record "
                f"correction_received or correction_expired before {event.kind}",
            )

    def _correction_requested(self, index: int, event: Event) -> None:
        if self.correction_requested_on is not None:
            raise self.fail(
                index,
                "kind",
                "second_correction",
                "补正只能告知一次（第30条“一次性告知”）/ a correction can be requested only "
                f"once (art. 30); it was requested on {self.correction_requested_on}",
            )
        if self.clock.state == "paused":
            raise self.fail(
                index,
                "kind",
                "correction_during_consultation",
                "征求意见期间不能告知补正，先记录 consultation_ended / a correction cannot be "
                "requested while a consultation is running; record consultation_ended first",
            )
        self.correction_requested_on = event.on
        try:
            latest = self.calendar.add_working_days(self.received_on, CORRECTION_NOTICE_DAYS)
            self.clock.late_notice = event.on > latest
        except UnknownCalendarYear:
            self.clock.late_notice = None
        self.clock.state = "awaiting_correction"
        self.clock.clock_start = None

    def _correction_received(self, index: int, event: Event) -> None:
        if self.clock.state != "awaiting_correction":
            raise self.fail(
                index,
                "kind",
                "correction_not_requested",
                "没有待补正的告知，不能记录收到补正 / no correction was requested, so none can "
                "be received",
            )
        # 第30条: 答复期限自行政机关收到补正的申请之日起计算.
        self.clock.clock_start = event.on
        self.clock.state = "open"

    def _correction_expired(self, index: int, event: Event) -> None:
        if self.clock.state != "awaiting_correction":
            raise self.fail(
                index,
                "kind",
                "correction_not_requested",
                "没有待补正的告知，不能按逾期不补正办结 / no correction is awaited, so the "
                "application cannot be closed for want of one",
            )
        clock = self.clock
        clock.state = "answered"
        clock.outcome = CORRECTION_EXPIRED_OUTCOME
        clock.answered_on = clock.closed_on = event.on

    def _extended(self, index: int, event: Event) -> None:
        clock = self.clock
        if clock.extended_days:
            raise self.fail(
                index,
                "kind",
                "second_extension",
                f"答复期限只能延长一次（第33条第2款），已延长 {clock.extended_days} 个工作日 / "
                f"the period can be extended only once (art. 33); it already was, by "
                f"{clock.extended_days} working days",
            )
        days = event.days or 0
        if not 1 <= days <= MAX_EXTENSION_DAYS:
            raise self.fail(
                index,
                "days",
                "extension_days",
                f"延长的期限为1至{MAX_EXTENSION_DAYS}个工作日（第33条第2款），不能是 {days} / an "
                f"extension is 1 to {MAX_EXTENSION_DAYS} working days (art. 33), not {days}",
            )
        self._awaiting(index, event)
        try:
            due = self._due()
        except UnknownCalendarYear:
            due = None
        if due is not None and event.on > due:
            raise self.fail(
                index,
                "on",
                "extension_after_due",
                f"答复期限已于 {due} 届满，不能再延长 / the period ran out on {due}; an "
                "extension must be decided before it does",
            )
        clock.extended_days = days

    def _consultation_started(self, index: int, event: Event) -> None:
        self._awaiting(index, event)
        if self.clock.state == "paused":
            raise self.fail(
                index,
                "kind",
                "already_paused",
                "已在征求意见，先记录 consultation_ended / a consultation is already running;"
                " record consultation_ended first",
            )
        try:
            until: date | None = self.calendar.add_working_days(event.on, CONSULTATION_DAYS)
        except UnknownCalendarYear as unknown:
            until = None
            self.clock.note = _unknown_note(unknown.year)
        assert event.party is not None
        self.clock.pauses.append(Pause(party=event.party, started_on=event.on, until=until))
        self.clock.state = "paused"

    def _consultation_ended(self, index: int, event: Event) -> None:
        clock = self.clock
        if clock.state != "paused":
            lapsed = clock.pauses[-1] if clock.pauses else None
            if lapsed is not None and lapsed.ended_on is None and lapsed.until is not None:
                raise self.fail(
                    index,
                    "on",
                    "consultation_lapsed",
                    f"征求意见已于 {lapsed.until} 满15个工作日自行结束（第32条、第34条）/ the "
                    f"consultation ended by itself on {lapsed.until}, its 15th working day "
                    "(arts. 32, 34)",
                )
            raise self.fail(
                index,
                "kind",
                "no_consultation",
                "没有进行中的征求意见 / no consultation is running",
            )
        pause = clock.pauses[-1]
        if event.party is not None and event.party != pause.party:
            raise self.fail(
                index,
                "party",
                "party_mismatch",
                f"进行中的征求意见对象是 {pause.party} / the running consultation is with "
                f"{pause.party}",
            )
        pause.ended_on = event.on
        clock.state = "open"

    def _close_pause(self, on: date) -> None:
        if self.clock.state == "paused":
            self.clock.pauses[-1].ended_on = on

    def _answered(self, index: int, event: Event) -> None:
        self._awaiting(index, event)
        self._close_pause(event.on)
        clock = self.clock
        clock.state = "answered"
        clock.outcome = event.outcome
        clock.answered_on = clock.closed_on = event.on

    def _withdrawn(self, index: int, event: Event) -> None:
        self._close_pause(event.on)
        self.clock.state = "withdrawn"
        self.clock.closed_on = event.on

    def _due(self) -> date | None:
        clock = self.clock
        if clock.clock_start is None:
            return None
        return due_date(self.calendar, clock.clock_start, clock.limit_days, clock.pauses)

    def finish(self) -> Clock:
        clock = self.clock
        try:
            clock.due_on = self._due()
        except UnknownCalendarYear as unknown:
            clock.due_on = None
            clock.note = _unknown_note(unknown.year)
        if clock.clock_start is None:
            clock.note = clock.note or (
                "等待补正，答复期限自收到补正申请之日起重新计算（第30条）/ awaiting the "
                "correction; the period runs from the day the corrected application arrives "
                "(art. 30)"
                if clock.state == "awaiting_correction"
                else None
            )
        elif clock.due_on is None and clock.note is None:
            clock.note = _unknown_note(clock.clock_start.year)
        if clock.state == "answered" and clock.outcome != CORRECTION_EXPIRED_OUTCOME:
            assert clock.answered_on is not None
            clock.on_time = None if clock.due_on is None else clock.answered_on <= clock.due_on
        return clock


def replay(received_on: date, events: Sequence[Event], calendar: Calendar) -> Clock:
    """The clock after `events` (in the order recorded); SequenceError names the first event
    that cannot follow the ones before it."""
    state = _Replay(received_on, calendar)
    for index, event in enumerate(events):
        state.apply(index, event)
    return state.finish()
