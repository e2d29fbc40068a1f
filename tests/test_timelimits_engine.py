"""公开时限 engine: every phrasing seen in the guides, and due dates on the real calendar."""

import random
from datetime import date, timedelta

import pytest

from app.rules.timelimits import (
    TimeLimitRule,
    UnknownCalendarYear,
    WorkCalendar,
    evaluate,
    parse,
)

# Every phrasing of shared/data/guides.md §4 (A-I), plus the patterns the issue names.
PHRASINGS: list[tuple[str, str, int | None]] = [
    # A. event-triggered, working days
    ("信息形成或变更之日起20个工作日内", "working_days", 20),
    ("信息形成或者变更之日起20个工作日内", "working_days", 20),
    ("自该信息形成或者变更之日起20个工作日内", "working_days", 20),
    ("自信息形成或者变更之日起20个工作日内予以公开", "working_days", 20),
    ("形成或者变更之日起20个工作日内予以公开", "working_days", 20),
    ("公开事项信息形成或变更之日起20个工作日内公开", "working_days", 20),
    ("自该政府信息形成或者变更之日起20个工作日内及时公开", "working_days", 20),
    ("信息形成之日起20个工作日内", "working_days", 20),
    ("信息形成之后20个工作日内", "working_days", 20),
    ("信息形成20个工作日内公开", "working_days", 20),
    ("信息形成(变更)20个工作日内", "working_days", 20),
    ("信息形成(变更) 20 个工作日内", "working_days", 20),
    ("信息形成(变更)下发至本单位20个工作日内", "working_days", 20),
    ("信息获取(形成变更)20个工作日内", "working_days", 20),
    ("信息获取(形成、变更)20个工作日内", "working_days", 20),
    (
        "信息产生、变更之日起20个工作日内公开,保持长期公开(相关政策法规另有规定的应从其规定)",
        "working_days",
        20,
    ),
    ("信息形成或变更之日起20工作日内", "working_days", 20),
    ("信息形成个20个工作日内公开", "working_days", 20),
    ("20个工作日", "working_days", 20),
    ("自制作或获取该信息之日起20个工作日内公开", "working_days", 20),
    ("制作或获取信息之日起7个工作日内", "working_days", 7),
    ("制定或获取信息之日起10个工作日内", "working_days", 10),
    ("制定或获取文件之日起10个工作日内", "working_days", 10),
    ("制定或获取扶持政策措施之日起10个工作日内", "working_days", 10),
    ("制定或获取指南之日起10个工作日内", "working_days", 10),
    ("制定或获取备案政策之日起10个工作日内", "working_days", 10),
    ("信息形成或变更之日起10个工作日内", "working_days", 10),
    ("自作出行政决定之日起7个工作日内公示", "working_days", 7),
    ("行政许可和行政处罚决定作出后7个工作日内", "working_days", 7),
    ("执法决定信息在决定作出之日起7个工作日内公开", "working_days", 7),
    ("自信息形成或者变更之日起7个工作日内予以公开", "working_days", 7),
    ("行政处罚决定形成之日起20个工作日…（截断）", "working_days", 20),
    ("处罚决定:20个工作日内", "working_days", 20),
    ("自收到申请之日起20个工作日内(公开)", "working_days", 20),
    ("自收到申请之日起20个工作日内公开", "working_days", 20),
    ("收到征地批准文件之日起10个工作日内公开", "working_days", 10),
    ("分配结果确定后20个工作日内", "working_days", 20),
    ("资金分配结果下达15个工作日内", "working_days", 15),
    ("拟征收土地现状调查结束后5个工作日内,在村公示栏公开", "working_days", 5),
    # B. event-triggered, natural days
    ("本级人民代表大会或其常务委员会批准后20日内", "natural_days", 20),
    ("本级政府财政部门批复后20日内", "natural_days", 20),
    ("本级人民代表大会或其常务委员会批准后20内", "natural_days", 20),
    # C. before an event
    ("《听证通知书》在组织听证7个工作日前予以公开", "working_days", 7),
    ("提前一周发通知邀请", "natural_days", 7),
    # D. with an event
    ("在实地启动拟征收土地工作时,在村公示栏公开。", "realtime", None),
    ("随采购公告、采购文件公开", "realtime", None),
    # E. immediate
    ("实时公开", "realtime", None),
    ("及时公开", "timely", None),
    ("按进展情况及时公开", "timely", None),
    ("重大决策作出后及时公开", "timely", None),
    # F. periodic
    ("半年至少更新1次", "periodic", None),
    ("每年1月31日前", "periodic", None),
    ("至少1次/年", "periodic", None),
    ("至少1次/半年", "periodic", None),
    ("按实际更新", "timely", None),
    ("每年3月底前", "periodic", None),
    ("每季度", "periodic", None),
    ("每月", "periodic", None),
    # G. standing
    ("永久公开", "permanent", None),
    ("长期公开(动态调整)", "permanent", None),
    ("常年公开", "permanent", None),
    # H. compound: the rule is the first clause
    (
        "信息形成20个工作日内公开;其中行政许可、行政处罚事项应自作出行政决定之日起7个工作日内公示",
        "working_days",
        20,
    ),
    ("信息形成之日起20个工作日内;行政许可和行政处罚决定作出后7个工作日内", "working_days", 20),
    ("1.除处罚决定外其他内容:长期公开(动态调整); 2.处罚决定:20个工作日内。", "permanent", None),
    ("制定或获取信息之日起10个工作日内,公示7个工作日", "working_days", 10),
    ("信息形成或者变更之日起20个工作日内予以公开;征求意见期限不得少于30日", "working_days", 20),
    (
        "执法决定信息在决定作出之日起7个工作日内公开,其他相关信息形成或变更之日起20个工作日内公开",
        "working_days",
        7,
    ),
    (
        "信息形成或者变更之日起20个工作日内。法律、法规对政府信息公开的期限另有规定的,从其规定。",
        "working_days",
        20,
    ),
    # statutory
    ("法定时限内", "statutory", None),
    ("法定期限内", "statutory", None),
    ("《政府信息公开条例》规定的期限内", "statutory", None),
    # full-width digits and Chinese numerals
    ("信息形成或变更之日起２０个工作日内", "working_days", 20),
    ("二十个工作日内", "working_days", 20),
    ("七个工作日内", "working_days", 7),
    ("十五日内", "natural_days", 15),
    # I. placeholders
    ("同上", "unparsed", None),
    ("", "unparsed", None),
    ("信息形成或者变更之日起 * 个工作日内", "unparsed", None),
    ("自该信息形成…（截断）", "unparsed", None),
]


@pytest.mark.parametrize(("text", "kind", "days"), PHRASINGS)
def test_every_seen_phrasing_parses_to_its_kind(text: str, kind: str, days: int | None) -> None:
    rule = parse(text)
    assert (rule.kind, rule.days) == (kind, days)
    assert rule.text == text


@pytest.mark.parametrize(
    ("text", "event"),
    [
        ("信息形成或者变更之日起20个工作日内", "信息形成或变更"),
        ("信息获取(形成、变更)20个工作日内", "信息形成或变更"),
        ("信息产生、变更之日起20个工作日内公开", "信息形成或变更"),
        ("自作出行政决定之日起7个工作日内公示", "作出行政决定"),
        ("行政许可和行政处罚决定作出后7个工作日内", "作出行政决定"),
        ("自收到申请之日起20个工作日内公开", "收到申请"),
        ("本级人民代表大会或其常务委员会批准后20日内", "批准"),
        ("本级政府财政部门批复后20日内", "批复"),
        ("分配结果确定后20个工作日内", "分配结果确定"),
        ("《听证通知书》在组织听证7个工作日前予以公开", "组织听证"),
        ("20个工作日", None),
    ],
)
def test_event_is_named_in_one_spelling(text: str, event: str | None) -> None:
    assert parse(text).event == event


def test_none_is_unparsed_with_empty_text() -> None:
    assert parse(None) == TimeLimitRule(kind="unparsed", text="")


def test_before_event_phrasings_are_flagged() -> None:
    assert parse("《听证通知书》在组织听证7个工作日前予以公开").before_event
    assert parse("提前一周发通知邀请").before_event
    assert not parse("信息形成之日起20个工作日内").before_event


@pytest.mark.parametrize(
    ("text", "period", "count", "deadline"),
    [
        ("半年至少更新1次", "half_year", 1, None),
        ("每年1月31日前", "year", None, "01-31"),
        ("每年3月底前", "year", None, "03-31"),
        ("至少1次/年", "year", 1, None),
        ("至少1次/半年", "half_year", 1, None),
        ("每季度", "quarter", None, None),
        ("每月", "month", None, None),
    ],
)
def test_periodic_keeps_period_count_and_deadline(
    text: str, period: str, count: int | None, deadline: str | None
) -> None:
    rule = parse(text)
    assert (rule.period, rule.count, rule.deadline) == (period, count, deadline)


def test_periodic_offset_after_period_end() -> None:
    rule = parse("每季度结束后15日内")
    assert (rule.kind, rule.period, rule.days, rule.offset_unit) == (
        "periodic",
        "quarter",
        15,
        "day",
    )


def test_statute_is_named_where_written() -> None:
    assert parse("《政府信息公开条例》规定的期限内").statute == "政府信息公开条例"
    assert parse("法定时限内").statute is None


@pytest.mark.parametrize(
    "text",
    [
        "信息形成或者变更之日起20个工作日内。法律、法规对政府信息公开的期限另有规定的,从其规定。",
        "自该信息形成或者变更之日起20个工作日内予以公开,法律法规另有规定的除外。",
        "信息产生、变更之日起20个工作日内公开,保持长期公开(相关政策法规另有规定的应从其规定)",
    ],
)
def test_legal_override_clause_sets_the_flag(text: str) -> None:
    assert parse(text).legal_override


def test_compound_text_keeps_every_clause_with_its_scope() -> None:
    rule = parse(
        "信息形成20个工作日内公开;其中行政许可、行政处罚事项应自作出行政决定之日起7个工作日内公示"
    )
    assert [(c.kind, c.days, c.event, c.scope) for c in rule.clauses] == [
        ("working_days", 20, "信息形成", None),
        ("working_days", 7, "作出行政决定", "行政许可、行政处罚事项"),
    ]


def test_numbered_compound_splits_on_the_numbers() -> None:
    rule = parse("1.除处罚决定外其他内容:长期公开(动态调整); 2.处罚决定:20个工作日内。")
    assert [(c.kind, c.days, c.scope) for c in rule.clauses] == [
        ("permanent", None, "除处罚决定外其他内容"),
        ("working_days", 20, "处罚决定"),
    ]


def test_bracketed_clause_becomes_a_clause() -> None:
    text = (
        "自信息形成或者变更之日起20个工作日内予以公开"
        "（结果信息：自信息形成或者变更之日起7个工作日内予以公开）"
    )
    assert [(c.days, c.scope) for c in parse(text).clauses] == [(20, None), (7, "结果信息")]


def test_display_and_comment_durations_are_not_deadlines() -> None:
    assert parse("制定或获取信息之日起10个工作日内,公示7个工作日").display_days == 7
    assert parse("…20个工作日内予以公开;征求意见期限不得少于30…（截断）").min_comment_days == 30


@pytest.mark.parametrize(
    "text", ["（", "每", "个工作日", "《", "1.", "每年13月底前", "9" * 5000 + "个工作日"]
)
def test_parse_never_raises(text: str) -> None:
    assert parse(text).text == text


# --------------------------------------------------------------------------- calendar

PACKAGE = WorkCalendar()


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2020, 9, 27), True),  # Sunday made a working day for National Day
        (date(2020, 10, 1), False),
        (date(2020, 10, 8), False),
        (date(2020, 10, 9), True),
        (date(2020, 10, 10), True),  # Saturday made a working day
        (date(2021, 2, 7), True),  # Sunday before Spring Festival
        (date(2021, 2, 11), False),
        (date(2021, 2, 17), False),
        (date(2021, 2, 20), True),  # Saturday after Spring Festival
        (date(2021, 4, 25), True),  # Sunday before May Day
        (date(2021, 5, 1), False),
        (date(2021, 5, 5), False),
        (date(2021, 5, 8), True),  # Saturday after May Day
        (date(2021, 5, 9), False),
    ],
)
def test_package_calendar_knows_holidays_and_make_up_days(day: date, working: bool) -> None:
    assert PACKAGE.is_workday(day) is working


@pytest.mark.parametrize(
    ("start", "n", "due"),
    [
        (date(2020, 9, 28), 20, date(2020, 11, 2)),  # the issue's example
        (date(2020, 9, 26), 1, date(2020, 9, 27)),  # a working Sunday counts
        (date(2020, 9, 30), 1, date(2020, 10, 9)),
        (date(2021, 2, 5), 5, date(2021, 2, 18)),
        (date(2021, 4, 29), 3, date(2021, 5, 7)),
        (date(2021, 4, 29), 4, date(2021, 5, 8)),
        (date(2020, 9, 28), 0, date(2020, 9, 28)),
    ],
)
def test_working_days_count_from_the_day_after(start: date, n: int, due: date) -> None:
    assert PACKAGE.add_working_days(start, n) == due


def test_before_working_days_skips_the_national_day_holiday() -> None:
    # A hearing on Monday 2020-10-12: 10-10, 10-09, 09-30, 09-29, 09-28, 09-27, 09-25.
    assert PACKAGE.before_working_days(date(2020, 10, 12), 7) == date(2020, 9, 25)


@pytest.mark.parametrize(
    ("start", "n", "due"),
    [
        (date(2020, 9, 11), 20, date(2020, 10, 9)),  # ends 10-01, holiday until 10-08
        (date(2021, 1, 27), 15, date(2021, 2, 18)),  # ends 02-11, Spring Festival
        (date(2021, 4, 24), 7, date(2021, 5, 6)),  # ends 05-01, May Day
        (date(2021, 2, 18), 10, date(2021, 3, 1)),  # ends on an ordinary Sunday
        (date(2020, 9, 20), 7, date(2020, 9, 27)),  # ends on a working Sunday: no move
        (date(2020, 9, 1), 20, date(2020, 9, 21)),  # ends on a working Monday
    ],
)
def test_natural_days_ending_on_a_rest_day_move_to_next_working_day(
    start: date, n: int, due: date
) -> None:
    assert PACKAGE.natural_days_due(start, n) == due


def test_unknown_year_raises_in_the_calendar() -> None:
    with pytest.raises(UnknownCalendarYear) as raised:
        PACKAGE.is_workday(date(2031, 3, 3))
    assert raised.value.year == 2031


def test_loaded_year_is_used_and_unlisted_days_follow_the_week() -> None:
    overrides = {date(2031, 10, day): False for day in range(1, 8)} | {date(2031, 9, 28): True}
    calendar = WorkCalendar(overrides=overrides, override_years={2031})
    assert calendar.is_workday(date(2031, 9, 28))  # a loaded working Sunday
    assert not calendar.is_workday(date(2031, 10, 3))
    assert calendar.is_workday(date(2031, 10, 8))  # not listed, a Wednesday
    assert not calendar.is_workday(date(2031, 10, 11))  # not listed, a Saturday
    # 09-29, 09-30, then 10-08 after the loaded holiday.
    assert calendar.add_working_days(date(2031, 9, 28), 3) == date(2031, 10, 8)


def test_loaded_year_takes_precedence_over_the_package() -> None:
    # An auditor's 2020 without the National Day arrangement: the package is not consulted.
    calendar = WorkCalendar(overrides={}, override_years={2020})
    assert calendar.is_workday(date(2020, 10, 1))
    assert not calendar.is_workday(date(2020, 9, 27))
    assert calendar.add_working_days(date(2020, 9, 28), 20) == date(2020, 10, 26)


def test_single_override_beats_the_package_in_a_known_year() -> None:
    calendar = WorkCalendar(overrides={date(2020, 10, 9): False})
    assert calendar.add_working_days(date(2020, 9, 30), 1) == date(2020, 10, 10)


# --------------------------------------------------------------------------- evaluate


def test_evaluate_issue_example() -> None:
    result = evaluate(parse("信息形成或变更之日起20个工作日内"), date(2020, 9, 28), PACKAGE)
    assert result.due_on == date(2020, 11, 2)
    assert result.unknown_years == []
    assert "2020-09-28 后第 20 个工作日" in result.note
    assert "20th working day after 2020-09-28" in result.note


def test_evaluate_natural_days_note_cites_the_civil_code() -> None:
    result = evaluate(parse("本级政府财政部门批复后20日内"), date(2020, 9, 11), PACKAGE)
    assert result.due_on == date(2020, 10, 9)
    assert "第二百零三条" in result.note


def test_evaluate_unknown_year_gives_no_date() -> None:
    result = evaluate(parse("20个工作日"), date(2031, 3, 3), PACKAGE)
    assert result.due_on is None
    assert result.unknown_years == [2031]
    assert "2031" in result.note


def test_evaluate_reports_the_unknown_year_it_runs_into() -> None:
    calendar = WorkCalendar(override_years={2030})
    result = evaluate(parse("20个工作日"), date(2030, 12, 20), calendar)
    assert (result.due_on, result.unknown_years) == (None, [2031])


def test_evaluate_in_a_loaded_year() -> None:
    calendar = WorkCalendar(overrides={date(2031, 3, 4): False}, override_years={2031})
    result = evaluate(parse("2个工作日"), date(2031, 3, 3), calendar)
    assert (result.due_on, result.unknown_years) == (date(2031, 3, 6), [])


def test_evaluate_before_event() -> None:
    rule = parse("《听证通知书》在组织听证7个工作日前予以公开")
    assert evaluate(rule, date(2020, 10, 12), PACKAGE).due_on == date(2020, 9, 25)


def test_evaluate_realtime_is_due_on_the_event_day() -> None:
    assert evaluate(parse("实时公开"), date(2021, 2, 12), PACKAGE).due_on == date(2021, 2, 12)


@pytest.mark.parametrize(
    "text", ["及时公开", "长期公开(动态调整)", "法定时限内", "同上", "", "永久公开"]
)
def test_evaluate_without_a_fixed_limit_has_no_date_but_a_reason(text: str) -> None:
    result = evaluate(parse(text), date(2021, 2, 12), PACKAGE)
    assert result.due_on is None
    assert result.unknown_years == []
    assert result.note


@pytest.mark.parametrize(
    ("text", "start", "due"),
    [
        ("每年3月底前", date(2020, 9, 28), date(2021, 3, 31)),
        ("每年3月底前", date(2021, 3, 31), date(2021, 3, 31)),
        ("每年1月31日前", date(2021, 1, 5), date(2021, 1, 31)),
        ("每季度", date(2020, 9, 28), date(2020, 9, 30)),
        ("半年至少更新1次", date(2021, 7, 1), date(2021, 12, 31)),
        ("每月", date(2021, 2, 10), date(2021, 2, 28)),
        ("至少1次/年", date(2021, 5, 6), date(2021, 12, 31)),
        ("每季度结束后15日内", date(2020, 10, 10), date(2020, 10, 15)),
        ("每季度结束后15日内", date(2020, 10, 16), date(2021, 1, 15)),
    ],
)
def test_evaluate_periodic(text: str, start: date, due: date) -> None:
    assert evaluate(parse(text), start, PACKAGE).due_on == due


def test_evaluate_mentions_override_and_other_clauses() -> None:
    text = (
        "信息形成20个工作日内公开;其中行政许可、行政处罚事项应自作出行政决定之日起7个工作日内公示"
    )
    note = evaluate(parse(text), date(2020, 9, 28), PACKAGE).note
    assert "clauses" in note
    override = parse("自该信息形成或者变更之日起20个工作日内予以公开,法律法规另有规定的除外。")
    assert "另有规定" in evaluate(override, date(2020, 9, 28), PACKAGE).note


@pytest.mark.parametrize(
    ("rule", "start"),
    [
        (TimeLimitRule(kind="natural_days", days=20), date.max - timedelta(days=3)),
        (TimeLimitRule(kind="working_days", days=3), date.max - timedelta(days=1)),
        (TimeLimitRule(kind="natural_days", days=7, before_event=True), date.min),
        (TimeLimitRule(kind="working_days"), date(2020, 9, 28)),
        (TimeLimitRule(kind="periodic"), date(9999, 12, 31)),
        (TimeLimitRule(kind="periodic", period="year", deadline="02-29"), date(2021, 3, 1)),
        (TimeLimitRule(kind="periodic", period="week", days=3), date.max),
    ],
)
def test_evaluate_never_raises(rule: TimeLimitRule, start: date) -> None:
    result = evaluate(rule, start, PACKAGE)
    assert result.note


@pytest.mark.parametrize(
    ("text", "start", "due"),
    [
        ("信息形成之日起1个月内", "2020-03-15", "2020-04-15"),  # the corresponding day
        ("一个月内", "2020-01-31", "2020-03-02"),  # no 02-31: 02-29, a Saturday → Monday
        ("3个月内", "2020-07-08", "2020-10-09"),  # 10-08 is a National Day holiday
        ("自收到申请之日起两个月内公开", "2020-12-31", "2021-03-01"),  # 02-28 is a Sunday
        ("半年内", "2020-01-31", "2020-07-31"),
        ("一年内", "2020-01-31", "2021-02-01"),  # 2021-01-31 is a Sunday
        ("半个月内", "2020-09-01", "2020-09-16"),  # 15 days
        ("每月10日前", "2020-09-11", "2020-10-10"),  # a Saturday made a working day
        ("每月10日前", "2020-09-10", "2020-09-10"),
        ("每季度结束后一个月内", "2020-01-31", "2020-02-03"),  # Spring Festival, extended
    ],
)
def test_months_are_counted_the_chinese_way(text: str, start: str, due: str) -> None:
    rule = parse(text)
    assert rule.kind != "unparsed"
    answer = evaluate(rule, date.fromisoformat(start), WorkCalendar())
    assert answer.due_on == date.fromisoformat(due)


@pytest.mark.parametrize("text", ["2020年", "3月内", "每年3月"])
def test_a_year_or_a_month_name_is_not_a_number_of_months(text: str) -> None:
    assert parse(text).kind != "months"


def test_working_days_between_counts_as_the_day_by_day_walk() -> None:
    """The year-at-a-time count (an overdue application's days) equals walking every day,
    on the package's years, a loaded year and loaded exceptions in a package year."""
    rng = random.Random(11)
    calendars = [
        PACKAGE,
        WorkCalendar(
            overrides={date(2031, 3, 4): False, date(2031, 3, 8): True}, override_years={2031}
        ),
        WorkCalendar(overrides={date(2020, 10, 9): False, date(2020, 10, 10): True}),
    ]
    for calendar in calendars:
        for _ in range(60):
            after = date(2019, 1, 1) + timedelta(days=rng.randint(0, 1500))
            through = after + timedelta(days=rng.randint(0, 900))
            if isinstance(calendar, WorkCalendar) and calendar.override_years:
                after = date(2031, 1, 1) + timedelta(days=rng.randint(0, 200))
                through = after + timedelta(days=rng.randint(0, 160))
            walked, day = 0, after
            while day < through:
                day += timedelta(days=1)
                walked += calendar.is_workday(day)
            assert calendar.working_days_between(after, through) == walked, (after, through)
