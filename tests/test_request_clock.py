"""The clock against an independent calculation: random event sequences, replayed through
the clock and through HTTP, compared with a day-by-day walk on the package calendar."""

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import chinese_calendar
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session

from app.rules import request_clock
from app.rules.request_clock import Event, SequenceError
from app.rules.timelimits import WorkCalendar
from tests.factories import HULI, token

KINDS = list(request_clock.KINDS)
OUTCOMES = ["granted", "partial", "refused_secret", "unable_not_held", "ignored_repeat", "other"]


def workday(day: date) -> bool:
    return bool(chinese_calendar.is_workday(day))


def nth_workday_after(day: date, n: int) -> date:
    while n:
        day += timedelta(days=1)
        n -= workday(day)
    return day


@dataclass
class Expected:
    state: str
    due_on: date | None
    days_left: int | None
    on_time: bool | None
    extended_days: int
    late_notice: bool


def oracle(received_on: date, events: list[Event], as_of: date) -> Expected:
    """Walks the calendar one day at a time: a day counts when it is a working day after the
    start and inside no consultation (after its first day, up to its reply or 15th day)."""
    start: date | None = received_on
    limit = 20
    pauses: list[list[Any]] = []  # [started, auto_end, ended]
    state = "open"
    answered_on: date | None = None
    late_notice = False
    expired = False
    for e in events:
        if state == "paused" and e.on > pauses[-1][1]:
            state = "open"
        if e.kind == "correction_requested":
            late_notice = e.on > nth_workday_after(received_on, 7)
            state, start = "awaiting_correction", None
        elif e.kind == "correction_received":
            state, start = "open", e.on
        elif e.kind == "correction_expired":
            state, answered_on, expired = "answered", e.on, True
        elif e.kind == "extended":
            limit += e.days or 0
        elif e.kind == "consultation_started":
            pauses.append([e.on, nth_workday_after(e.on, 15), None])
            state = "paused"
        elif e.kind == "consultation_ended":
            pauses[-1][2] = e.on
            state = "open"
        elif e.kind in ("answered", "withdrawn"):
            if state == "paused":
                pauses[-1][2] = e.on
            state = "answered" if e.kind == "answered" else "withdrawn"
            answered_on = e.on

    def paused(day: date) -> bool:
        return any(s < day <= min(end or auto, auto) for s, auto, end in pauses)

    due: date | None = None
    counted_by: dict[date, int] = {}
    if start is not None:
        day, counted = start, 0
        while counted < limit:
            day += timedelta(days=1)
            if workday(day) and not paused(day):
                counted += 1
            counted_by[day] = counted
        due = day
    if state == "paused" and as_of > pauses[-1][1]:
        state = "open"
    days_left: int | None = None
    if state in ("open", "paused") and due is not None:
        if as_of <= due:
            days_left = limit - counted_by.get(as_of, 0)
        else:
            days_left = -sum(
                workday(due + timedelta(days=n)) for n in range(1, (as_of - due).days + 1)
            )
    on_time = None
    if state == "answered" and not expired and due is not None and answered_on is not None:
        on_time = answered_on <= due
    extended = limit - 20
    return Expected(state, due, days_left, on_time, extended, late_notice)


steps = st.lists(
    st.tuples(
        st.sampled_from(KINDS),
        st.integers(min_value=0, max_value=25),
        st.integers(min_value=1, max_value=22),
        st.sampled_from(["third_party", "agency"]),
        st.sampled_from(OUTCOMES),
    ),
    max_size=8,
)
received_days = st.dates(min_value=date(2019, 1, 1), max_value=date(2025, 6, 30))


def make_event(kind: str, on: date, days: int, party: str, outcome: str) -> Event:
    return Event(
        kind=kind,
        on=on,
        days=days if kind == "extended" else None,
        approved_by="负责人" if kind == "extended" else None,
        party=party if kind == "consultation_started" else None,
        outcome=outcome if kind == "answered" else None,
    )


def accepted(received_on: date, plan: list[tuple[str, int, int, str, str]]) -> list[Event]:
    """The events a clerk ends up with: each one tried, the refused ones dropped."""
    calendar = WorkCalendar()
    events: list[Event] = []
    on = received_on
    for kind, gap, days, party, outcome in plan:
        on += timedelta(days=gap)
        candidate = make_event(kind, on, days, party, outcome)
        try:
            request_clock.replay(received_on, [*events, candidate], calendar)
        except SequenceError:
            continue
        events.append(candidate)
    return events


@settings(max_examples=400, deadline=None)
@given(received_days, steps, st.integers(min_value=0, max_value=150))
def test_the_clock_agrees_with_a_day_by_day_walk(
    received_on: date, plan: list[tuple[str, int, int, str, str]], look: int
) -> None:
    events = accepted(received_on, plan)
    as_of = received_on + timedelta(days=look)
    calendar = WorkCalendar()
    clock = request_clock.replay(received_on, events, calendar)
    expected = oracle(received_on, events, as_of)
    assert clock.state_on(as_of) == expected.state
    assert clock.due_on == expected.due_on
    assert clock.days_left(as_of, calendar) == expected.days_left
    assert clock.on_time == expected.on_time
    assert clock.extended_days == expected.extended_days
    assert bool(clock.late_notice) == expected.late_notice


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(received_days, steps, st.integers(min_value=0, max_value=150))
def test_http_replays_agree_with_the_independent_calculation(
    client: TestClient,
    session: Session,
    received_on: date,
    plan: list[tuple[str, int, int, str, str]],
    look: int,
) -> None:
    editor = token(session, "editor", HULI)
    body = {
        "received_on": received_on.isoformat(),
        "channel": "当面",
        "applicant_type": "business",
        "summary": "随机事件序列",
    }
    response = client.post(f"/api/v1/units/{HULI}/requests", json=body, headers=editor)
    assert response.status_code == 201
    request_id, tag = response.json()["id"], response.headers["ETag"]
    events: list[Event] = []
    on = received_on
    for kind, gap, days, party, outcome in plan:
        on += timedelta(days=gap)
        candidate = make_event(kind, on, days, party, outcome)
        payload = {
            k: (v.isoformat() if isinstance(v, date) else v)
            for k, v in vars(candidate).items()
            if v is not None
        }
        response = client.post(
            f"/api/v1/requests/{request_id}/events",
            json=payload,
            headers=editor | {"If-Match": tag},
        )
        assert response.status_code in (200, 422), response.text
        if response.status_code == 200:
            events.append(candidate)
            tag = response.headers["ETag"]
    as_of = received_on + timedelta(days=look)
    got = client.get(
        f"/api/v1/requests/{request_id}", params={"as_of": as_of.isoformat()}, headers=editor
    ).json()
    expected = oracle(received_on, events, as_of)
    assert got["state"] == expected.state
    assert got["due_on"] == (expected.due_on.isoformat() if expected.due_on else None)
    assert got["days_left"] == expected.days_left
    assert got["on_time"] == expected.on_time
    assert got["extended_days"] == expected.extended_days
    assert len(got["events"]) == len(events)


def test_worked_example_national_day_2020() -> None:
    """docs/requests.md, example 1."""
    clock = request_clock.replay(date(2020, 9, 25), [], WorkCalendar())
    assert clock.due_on == date(2020, 10, 29)


def test_an_unknown_year_gives_no_due_date_never_a_wrong_one() -> None:
    calendar = WorkCalendar()
    clock = request_clock.replay(date(2099, 12, 1), [], calendar)
    assert clock.due_on is None
    assert clock.note is not None
    assert "2099" in clock.note
    assert clock.days_left(date(2099, 12, 2), calendar) is None
