"""The annual report's rules, pure: the four seed reports as published, and every rule broken
on each of them in one known cell."""

import copy
from typing import Any

import pytest

from app.rules import annual_report as rules
from tests.factories import SEED_REPORTS, seed_report


def check(body: dict[str, Any]) -> list[rules.Issue]:
    template = rules.TEMPLATES[body["template"]]
    return rules.check(template, body["active"], body["requests"], body["reviews"])


def broken(body: dict[str, Any]) -> list[tuple[str, tuple[str, ...]]]:
    return sorted((issue["rule"], tuple(issue["loc"])) for issue in check(body))


@pytest.mark.parametrize("name", SEED_REPORTS)
def test_seed_report_validates_as_published(name: str) -> None:
    assert check(seed_report(name)["body"]) == []


@pytest.mark.parametrize("name", SEED_REPORTS)
def test_seed_report_fixture_has_every_cell_of_its_template(name: str) -> None:
    body = seed_report(name)["body"]
    template = rules.TEMPLATES[body["template"]]
    assert list(body["requests"]) == list(template.request_codes)
    assert all(
        list(cells) == list(rules.REQUEST_COLUMN_CODES) for cells in body["requests"].values()
    )
    assert rules.full_active(template, body["active"]) == body["active"]
    for table in ("active", "requests", "reviews"):
        assert rules.shape_errors(template, table, body[table]) == []


@pytest.mark.parametrize("name", SEED_REPORTS)
def test_balance_is_broken_at_four_of_the_column(name: str) -> None:
    body = copy.deepcopy(seed_report(name)["body"])
    body["requests"]["carried_out"]["business"] += 1
    body["requests"]["carried_out"]["total"] += 1  # 总计 still the sum of its row
    assert broken(body) == [
        ("balance", ("requests", "carried_out", "business")),
        ("balance", ("requests", "carried_out", "total")),
    ]


@pytest.mark.parametrize("name", SEED_REPORTS)
def test_outcome_sum_is_broken_at_total_of_the_column(name: str) -> None:
    body = copy.deepcopy(seed_report(name)["body"])
    body["requests"]["refused_process"]["legal"] += 2
    body["requests"]["refused_process"]["total"] += 2
    assert broken(body) == [
        ("outcome_sum", ("requests", "total", "legal")),
        ("outcome_sum", ("requests", "total", "total")),
    ]


@pytest.mark.parametrize("name", SEED_REPORTS)
def test_column_sum_is_broken_at_total_of_the_row(name: str) -> None:
    body = copy.deepcopy(seed_report(name)["body"])
    # one more natural person's request received and carried out: every column still
    # balances, but neither row's 总计 is the sum of its applicant columns any more
    body["requests"]["received"]["natural"] += 1
    body["requests"]["carried_out"]["natural"] += 1
    assert broken(body) == [
        ("column_sum", ("requests", "carried_out", "total")),
        ("column_sum", ("requests", "received", "total")),
    ]


@pytest.mark.parametrize("name", SEED_REPORTS)
@pytest.mark.parametrize("block", rules.REVIEW_BLOCK_CODES)
def test_review_sum_is_broken_at_the_blocks_total(name: str, block: str) -> None:
    body = copy.deepcopy(seed_report(name)["body"])
    body["reviews"][block]["pending"] += 1
    assert broken(body) == [("review_sum", ("reviews", block, "total"))]


@pytest.mark.parametrize("name", SEED_REPORTS)
def test_negative_and_fractional_figures_are_named(name: str) -> None:
    body = copy.deepcopy(seed_report(name)["body"])
    body["active"]["licensing"]["decisions"] = -1
    body["active"]["regulations"]["made"] = 1.5
    body["active"]["procurement"]["amount"] = 12.5  # an amount may be a decimal
    body["active"]["fees"]["change"] = -7  # 本年增/减 may be negative
    body["reviews"]["review"]["other"] -= 100
    body["reviews"]["review"]["total"] -= 100
    assert broken(body) == [
        ("integer", ("active", "regulations", "made")),
        ("non_negative", ("active", "licensing", "decisions")),
        ("non_negative", ("reviews", "review", "other")),
        ("non_negative", ("reviews", "review", "total")),
    ]


def test_every_error_names_its_rule_in_both_languages() -> None:
    body = copy.deepcopy(seed_report("000_xiamen_city_2020")["body"])
    body["requests"]["received"]["natural"] = 0
    body["requests"]["granted"]["natural"] = -1
    body["reviews"]["review"]["total"] = 0
    body["active"]["regulations"]["made"] = 0.5
    issues = check(body)
    assert {issue["rule"] for issue in issues} == set(rules.RULES)
    for issue in issues:
        zh, _, en = issue["msg"].partition(" / ")
        assert any("\u4e00" <= ch <= "\u9fff" for ch in zh)
        assert en.isascii()
        assert issue["rule"] in rules.RULES


def test_a_cell_left_out_counts_as_zero() -> None:
    template = rules.TEMPLATE_2021
    assert rules.check(template, {}, {}, {}) == []
    issues = rules.check(template, {}, {"received": {"natural": 1}}, {})
    assert sorted((i["rule"], tuple(i["loc"])) for i in issues) == [
        ("balance", ("requests", "carried_out", "natural")),
        ("column_sum", ("requests", "received", "total")),
    ]


def test_the_2021_template_splits_other_into_three_rows_that_count_in_the_total() -> None:
    template = rules.TEMPLATE_2021
    assert "other" not in template.request_codes
    assert template.outcome_rows[-3:] == ("other_no_correction", "other_no_fee", "other_misc")
    requests = {
        "received": {"research": 3, "total": 3},
        "other_no_correction": {"research": 1, "total": 1},
        "other_no_fee": {"research": 1, "total": 1},
        "other_misc": {"research": 1, "total": 1},
        "total": {"research": 3, "total": 3},
    }
    assert rules.check(template, {}, requests, {}) == []
    assert len(rules.TEMPLATE_2019.request_rows) + 2 == len(template.request_rows)


def test_table_two_differs_between_the_templates() -> None:
    old = {
        r.code: [c.code for c in s.columns] for s in rules.TEMPLATE_2019.sections for r in s.rows
    }
    new = {
        r.code: [c.code for c in s.columns] for s in rules.TEMPLATE_2021.sections for r in s.rows
    }
    assert old["regulations"] == ["made", "published", "total"]
    assert new["regulations"] == ["issued", "repealed", "in_force"]
    assert old["licensing"] == ["last_year", "change", "decisions"]
    assert new["licensing"] == ["decisions"]
    assert "other_services" not in new
    assert "procurement" not in new
    assert old["fees"] == ["last_year", "change"]
    assert new["fees"] == ["amount"]
    assert rules.template_for(2020) is rules.TEMPLATE_2019
    assert rules.template_for(2021) is rules.TEMPLATE_2021


def _report(body: dict[str, Any]) -> rules.Report:
    return {
        "template": body["template"],
        "active": body["active"],
        "requests": body["requests"],
        "reviews": body["reviews"],
    }


def test_carried_in_that_differs_from_last_years_carried_out_is_a_warning() -> None:
    last = _report(seed_report("000_xiamen_city_2020")["body"])  # carried out 29, 2, … 31
    this = copy.deepcopy(last)
    this["requests"]["carried_in"] = {"natural": 29, "business": 1, "total": 30}
    warnings = rules.compare(this, last_year=last, register_received=None)
    assert [(w["rule"], w["loc"]) for w in warnings] == [
        ("carried_in_differs", ["requests", "carried_in", "business"]),
        ("carried_in_differs", ["requests", "carried_in", "total"]),
    ]


def test_a_report_equal_to_last_years_is_flagged_as_copied() -> None:
    last = _report(seed_report("001_huli_district_2020")["body"])
    this = copy.deepcopy(last)
    this["requests"]["carried_in"] = copy.deepcopy(last["requests"]["carried_out"])
    assert "copied_from_last_year" not in {
        w["rule"] for w in rules.compare(this, last_year=last, register_received=None)
    }
    rules_hit = {w["rule"] for w in rules.compare(last, last_year=last, register_received=None)}
    assert "copied_from_last_year" in rules_hit


def test_an_all_zero_report_is_not_called_a_copy() -> None:
    zero = _report({"template": "2019", "active": {}, "requests": {}, "reviews": {}})
    assert rules.compare(zero, last_year=zero, register_received=None) == []


def test_register_count_that_differs_is_a_warning() -> None:
    report = _report(seed_report("004_shishi_city_2020")["body"])  # 7 received
    assert rules.compare(report, last_year=None, register_received=7) == []
    (warning,) = rules.compare(report, last_year=None, register_received=6)
    assert warning["rule"] == "register_count_differs"
    assert warning["loc"] == ["requests", "received", "total"]


def test_the_citys_sum_adds_table_three_cell_by_cell() -> None:
    bodies = [seed_report(name)["body"]["requests"] for name in SEED_REPORTS]
    total = rules.sum_requests(rules.TEMPLATE_2019, bodies)
    assert total["received"]["total"] == 1609 + 76 + 0 + 7
    assert total["unable_not_held"]["natural"] == 502 + 19 + 0 + 4
    assert rules.check(rules.TEMPLATE_2019, {}, total, {}) == []  # sums of balanced tables balance
