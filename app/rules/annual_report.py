"""政府信息公开工作年度报告 / the annual report's tables as data, and the rules they obey.

Both official templates are written down here as data, not as branches in code:
国办公开办函〔2019〕60号 (the 2019 and 2020 reports) and 国办公开办函〔2021〕30号 (2021 on).
Each template says its table 二 sections (rows × columns, with the kind of number each
column holds), its table 三 rows (〔2021〕30号 splits （六）其他处理 into three) and, the same in
both, the columns of table 三 and the blocks of table 四. Validation, rendering (HTML, XLSX)
and the draft all read the same definitions.

Pure: no database, no HTTP. A report is three mappings `{ROW: {COLUMN: number}}`:
`active` (table 二), `requests` (table 三) and `reviews` (table 四); `check` answers every
rule a report breaks, each with its rule code, the cell (`loc`) and a message in Chinese and
English; `compare` answers the warnings that need last year's report or the register.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal, TypedDict

Number = int | float
Table = dict[str, dict[str, Number]]
"""{ROW: {COLUMN: number}}"""
IntTable = dict[str, dict[str, int]]


class Kind(StrEnum):
    """What a column of table 二 holds."""

    whole = "whole"
    """a non-negative integer (件, 项, 个)"""
    signed = "signed"
    """an integer that may be negative: 本年增/减"""
    amount = "amount"
    """a non-negative decimal: money (元, 万元)"""


@dataclass(frozen=True)
class Column:
    code: str
    label: str
    kind: Kind = Kind.whole


@dataclass(frozen=True)
class Row:
    code: str
    label: str


@dataclass(frozen=True)
class Section:
    """One block of table 二: the 条例 第二十条 item it reports, its rows and columns."""

    heading: str
    rows: tuple[Row, ...]
    columns: tuple[Column, ...]


@dataclass(frozen=True)
class RequestRow:
    """A row of table 三: its code, its label, and where it sits in the official layout.

    `part` is the top-level heading (一 … 四); `group` the outcome group inside 三
    （三）不予公开 etc., None where the row is a group of its own; `outcome` is True for the
    rows that add up to 三(七) 总计.
    """

    code: str
    label: str
    part: str
    group: str | None = None
    outcome: bool = False


@dataclass(frozen=True)
class Template:
    code: Literal["2019", "2021"]
    document: str
    """the State Council office's letter that sets the format"""
    first_year: int
    last_year: int | None
    sections: tuple[Section, ...]
    request_rows: tuple[RequestRow, ...]
    active_rows: dict[str, Section] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # row code → its section: every row of table 二 is in exactly one section
        object.__setattr__(self, "active_rows", {r.code: s for s in self.sections for r in s.rows})

    @property
    def outcome_rows(self) -> tuple[str, ...]:
        return tuple(r.code for r in self.request_rows if r.outcome)

    @property
    def request_codes(self) -> tuple[str, ...]:
        return tuple(r.code for r in self.request_rows)


# ---- table 三: the same columns in both templates --------------------------------------

APPLICANTS: tuple[Column, ...] = (
    Column("natural", "自然人"),
    Column("business", "商业企业"),
    Column("research", "科研机构"),
    Column("nonprofit", "社会公益组织"),
    Column("legal", "法律服务机构"),
    Column("other_org", "其他"),
)
"""The six applicant columns; all but 自然人 sit under 法人或其他组织."""
TOTAL = "total"
REQUEST_COLUMNS: tuple[Column, ...] = (*APPLICANTS, Column(TOTAL, "总计"))
APPLICANT_CODES: tuple[str, ...] = tuple(c.code for c in APPLICANTS)
REQUEST_COLUMN_CODES: tuple[str, ...] = tuple(c.code for c in REQUEST_COLUMNS)
REQUESTS_CAPTION = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"
APPLICANT_HEADER = "申请人情况"
ORGANISATIONS_HEADER = "法人或其他组织"

RECEIVED, CARRIED_IN, CARRIED_OUT = "received", "carried_in", "carried_out"
PART_OUTCOMES = "三、本年度办理结果"
_REFUSED = "（三）不予公开"
_UNABLE = "（四）无法提供"
_IGNORED = "（五）不予处理"
_OTHER = "（六）其他处理"


def _outcome(code: str, label: str, group: str | None = None) -> RequestRow:
    return RequestRow(code, label, PART_OUTCOMES, group, outcome=True)


_HEAD_ROWS: tuple[RequestRow, ...] = (
    RequestRow(RECEIVED, "一、本年新收政府信息公开申请数量", "一"),
    RequestRow(CARRIED_IN, "二、上年结转政府信息公开申请数量", "二"),
    _outcome("granted", "（一）予以公开"),
    _outcome("partial", "（二）部分公开（区分处理的，只计这一情形，不计其他情形）"),
    _outcome("refused_secret", "1.属于国家秘密", _REFUSED),
    _outcome("refused_law", "2.其他法律行政法规禁止公开", _REFUSED),
    _outcome("refused_safety", "3.危及“三安全一稳定”", _REFUSED),
    _outcome("refused_third_party", "4.保护第三方合法权益", _REFUSED),
    _outcome("refused_internal", "5.属于三类内部事务信息", _REFUSED),
    _outcome("refused_process", "6.属于四类过程性信息", _REFUSED),
    _outcome("refused_enforcement", "7.属于行政执法案卷", _REFUSED),
    _outcome("refused_inquiry", "8.属于行政查询事项", _REFUSED),
    _outcome("unable_not_held", "1.本机关不掌握相关政府信息", _UNABLE),
    _outcome("unable_needs_making", "2.没有现成信息需要另行制作", _UNABLE),
    _outcome("unable_unclear", "3.补正后申请内容仍不明确", _UNABLE),
    _outcome("ignored_petition", "1.信访举报投诉类申请", _IGNORED),
    _outcome("ignored_repeat", "2.重复申请", _IGNORED),
    _outcome("ignored_publication", "3.要求提供公开出版物", _IGNORED),
    _outcome("ignored_excessive", "4.无正当理由大量反复申请", _IGNORED),
    _outcome("ignored_confirm", "5.要求行政机关确认或重新出具已获取信息", _IGNORED),
)
_TAIL_ROWS: tuple[RequestRow, ...] = (
    RequestRow(TOTAL, "（七）总计", PART_OUTCOMES),
    RequestRow(CARRIED_OUT, "四、结转下年度继续办理", "四"),
)

# ---- table 四: the same in both templates ----------------------------------------------

REVIEW_COLUMNS: tuple[Column, ...] = (
    Column("upheld", "结果维持"),
    Column("corrected", "结果纠正"),
    Column("other", "其他结果"),
    Column("pending", "尚未审结"),
    Column(TOTAL, "总计"),
)
REVIEW_PARTS: tuple[str, ...] = ("upheld", "corrected", "other", "pending")
REVIEW_COLUMN_CODES: tuple[str, ...] = tuple(c.code for c in REVIEW_COLUMNS)
REVIEW_BLOCKS: tuple[Row, ...] = (
    Row("review", "行政复议"),
    Row("litigation_direct", "未经复议直接起诉"),
    Row("litigation_after_review", "复议后起诉"),
)
REVIEW_BLOCK_CODES: tuple[str, ...] = tuple(b.code for b in REVIEW_BLOCKS)
LITIGATION_HEADER = "行政诉讼"
"""Spans the two litigation blocks in the header; 行政复议 stands alone."""

# ---- the two templates -----------------------------------------------------------------

_YEAR_ITEMS = (Column("last_year", "上一年项目数量"), Column("change", "本年增/减", Kind.signed))

TEMPLATE_2019 = Template(
    code="2019",
    document="国办公开办函〔2019〕60号",
    first_year=2019,
    last_year=2020,
    sections=(
        Section(
            "第二十条第（一）项",
            (Row("regulations", "规章"), Row("normative_documents", "规范性文件")),
            (
                Column("made", "本年新制作数量"),
                Column("published", "本年新公开数量"),
                Column("total", "对外公开总数量"),
            ),
        ),
        Section(
            "第二十条第（五）项",
            (Row("licensing", "行政许可"), Row("other_services", "其他对外管理服务事项")),
            (*_YEAR_ITEMS, Column("decisions", "处理决定数量")),
        ),
        Section(
            "第二十条第（六）项",
            (Row("penalties", "行政处罚"), Row("enforcement", "行政强制")),
            (*_YEAR_ITEMS, Column("decisions", "处理决定数量")),
        ),
        Section("第二十条第（八）项", (Row("fees", "行政事业性收费"),), _YEAR_ITEMS),
        Section(
            "第二十条第（九）项",
            (Row("procurement", "政府集中采购"),),
            (Column("projects", "采购项目数量"), Column("amount", "采购总金额（元）", Kind.amount)),
        ),
    ),
    request_rows=(*_HEAD_ROWS, _outcome("other", "（六）其他处理"), *_TAIL_ROWS),
)

_DECISIONS = (Column("decisions", "本年处理决定数量"),)

TEMPLATE_2021 = Template(
    code="2021",
    document="国办公开办函〔2021〕30号",
    first_year=2021,
    last_year=None,
    sections=(
        Section(
            "第二十条第（一）项",
            (Row("regulations", "规章"), Row("normative_documents", "行政规范性文件")),
            (
                Column("issued", "本年制发件数"),
                Column("repealed", "本年废止件数"),
                Column("in_force", "现行有效件数"),
            ),
        ),
        Section("第二十条第（五）项", (Row("licensing", "行政许可"),), _DECISIONS),
        Section(
            "第二十条第（六）项",
            (Row("penalties", "行政处罚"), Row("enforcement", "行政强制")),
            _DECISIONS,
        ),
        Section(
            "第二十条第（八）项",
            (Row("fees", "行政事业性收费"),),
            (Column("amount", "本年收费金额（单位：万元）", Kind.amount),),
        ),
    ),
    request_rows=(
        *_HEAD_ROWS,
        _outcome(
            "other_no_correction",
            "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
            _OTHER,
        ),
        _outcome(
            "other_no_fee",
            "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
            _OTHER,
        ),
        _outcome("other_misc", "3.其他", _OTHER),
        *_TAIL_ROWS,
    ),
)

TEMPLATES: dict[str, Template] = {"2019": TEMPLATE_2019, "2021": TEMPLATE_2021}
TABLE_TITLES = {
    "active": "二、主动公开政府信息情况",
    "requests": "三、收到和处理政府信息公开申请情况",
    "reviews": "四、政府信息公开行政复议、行政诉讼情况",
}


def template_for(year: int) -> Template:
    """The template a report for `year` must use."""
    return TEMPLATE_2019 if year <= TEMPLATE_2019.last_year else TEMPLATE_2021  # type: ignore[operator]


# ---- shapes ----------------------------------------------------------------------------


def shape_errors(
    template: Template, table: str, data: Mapping[str, Mapping[str, Any]]
) -> list[str]:
    """Row and column codes the template does not have (the body is then refused, 422)."""
    if table == "active":
        allowed = {
            row.code: tuple(c.code for c in section.columns)
            for section in template.sections
            for row in section.rows
        }
    elif table == "requests":
        allowed = dict.fromkeys(template.request_codes, REQUEST_COLUMN_CODES)
    else:
        allowed = dict.fromkeys(REVIEW_BLOCK_CODES, REVIEW_COLUMN_CODES)
    wrong: list[str] = []
    for row, cells in data.items():
        if row not in allowed:
            wrong.append(row)
            continue
        wrong.extend(f"{row}.{column}" for column in cells if column not in allowed[row])
    return wrong


def full_active(template: Template, data: Mapping[str, Mapping[str, Number]] | None) -> Table:
    """Table 二 with every row and column of the template; a cell left out is 0."""
    data = data or {}
    return {
        row.code: {c.code: data.get(row.code, {}).get(c.code, 0) for c in section.columns}
        for section in template.sections
        for row in section.rows
    }


def full_requests(template: Template, data: Mapping[str, Mapping[str, int]] | None) -> IntTable:
    data = data or {}
    return {
        row: {column: int(data.get(row, {}).get(column, 0)) for column in REQUEST_COLUMN_CODES}
        for row in template.request_codes
    }


def full_reviews(data: Mapping[str, Mapping[str, int]] | None) -> IntTable:
    data = data or {}
    return {
        block: {column: int(data.get(block, {}).get(column, 0)) for column in REVIEW_COLUMN_CODES}
        for block in REVIEW_BLOCK_CODES
    }


# ---- rules -----------------------------------------------------------------------------


class Issue(TypedDict):
    """One broken rule (an error) or one thing to look at (a warning)."""

    loc: list[str]
    rule: str
    msg: str


RULES: dict[str, str] = {
    "balance": "一 + 二 = 三(七) + 四，每一列 / received + carried in = handled + carried out, "
    "in every column",
    "outcome_sum": "三(七)总计 = 各办理结果之和 / 3(7) total = the sum of the outcome rows",
    "column_sum": "总计 = 六类申请人之和 / total = the sum of the six applicant columns",
    "review_sum": "总计 = 维持 + 纠正 + 其他 + 尚未审结 / total = upheld + corrected + other + "
    "pending",
    "non_negative": "不得为负数 / may not be negative",
    "integer": "须为整数 / must be a whole number",
}
"""Every rule an error can name, with what it says."""

WARNINGS: dict[str, str] = {
    "carried_in_differs": "二（上年结转）与上一年报告的四（结转下年度）不一致 / 二 (carried in) "
    "differs from last year's 四 (carried out)",
    "copied_from_last_year": "所有数字与上一年报告相同 / every figure equals last year's report",
    "register_count_differs": "本年新收申请数与依申请公开台账不一致 / the requests received "
    "differ from the request register",
}
"""Every warning: none blocks publishing."""


def _fmt(value: Number) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _row_label(template: Template, code: str) -> str:
    return next((r.label for r in template.request_rows if r.code == code), code)


def _column_label(code: str) -> str:
    return next((c.label for c in REQUEST_COLUMNS if c.code == code), code)


def check(
    template: Template,
    active: Mapping[str, Mapping[str, Number]],
    requests: Mapping[str, Mapping[str, int]],
    reviews: Mapping[str, Mapping[str, int]],
) -> list[Issue]:
    """Every rule the report breaks: cell kinds first, then table 三's sums, then table 四's.

    The tables are read as full tables (a cell left out is 0).
    """
    active_t = full_active(template, active)
    requests_t = full_requests(template, requests)
    reviews_t = full_reviews(reviews)
    issues: list[Issue] = []

    def issue(loc: list[str], rule: str, zh: str, en: str) -> None:
        issues.append({"loc": loc, "rule": rule, "msg": f"{zh} / {en}"})

    # cell kinds
    for section in template.sections:
        for row in section.rows:
            for column in section.columns:
                value = active_t[row.code][column.code]
                where = f"{row.label}·{column.label}"
                if column.kind is not Kind.amount and value != int(value):
                    issue(
                        ["active", row.code, column.code],
                        "integer",
                        f"表二 {where} 须为整数，实为 {_fmt(value)}",
                        f"table 2 {row.code}.{column.code} must be a whole number, "
                        f"not {_fmt(value)}",
                    )
                if column.kind is not Kind.signed and value < 0:
                    issue(
                        ["active", row.code, column.code],
                        "non_negative",
                        f"表二 {where} 不得为负数，实为 {_fmt(value)}",
                        f"table 2 {row.code}.{column.code} may not be negative ({_fmt(value)})",
                    )
    for row_code, counts in requests_t.items():
        for code, count in counts.items():
            if count < 0:
                issue(
                    ["requests", row_code, code],
                    "non_negative",
                    f"表三 {_row_label(template, row_code)}·{_column_label(code)} 不得为负数，"
                    f"实为 {count}",
                    f"table 3 {row_code}.{code} may not be negative ({count})",
                )
    for block_code, counts in reviews_t.items():
        for code, count in counts.items():
            if count < 0:
                issue(
                    ["reviews", block_code, code],
                    "non_negative",
                    f"表四 {block_code} {code} 不得为负数，实为 {count}",
                    f"table 4 {block_code}.{code} may not be negative ({count})",
                )

    # table 三: 总计 column = the six applicant columns, row by row
    for request_row in template.request_rows:
        counts = requests_t[request_row.code]
        parts = sum(counts[c] for c in APPLICANT_CODES)
        if counts[TOTAL] != parts:
            issue(
                ["requests", request_row.code, TOTAL],
                "column_sum",
                f"表三 {request_row.label} 的总计 {counts[TOTAL]} 不等于六类申请人之和 {parts}",
                f"table 3 {request_row.code}: total {counts[TOTAL]} is not the sum of the "
                f"applicant columns, {parts}",
            )
    # table 三: 三(七) = its outcome rows, column by column
    for code in REQUEST_COLUMN_CODES:
        parts = sum(requests_t[r][code] for r in template.outcome_rows)
        total = requests_t[TOTAL][code]
        if total != parts:
            issue(
                ["requests", TOTAL, code],
                "outcome_sum",
                f"表三 {_column_label(code)} 列：三(七)总计 {total} 不等于各办理结果之和 {parts}",
                f"table 3 column {code}: 3(7) total {total} is not the sum of the outcome "
                f"rows, {parts}",
            )
    # table 三: 一 + 二 = 三(七) + 四, column by column; named at 四, the figure that balances
    for code in REQUEST_COLUMN_CODES:
        came = requests_t[RECEIVED][code] + requests_t[CARRIED_IN][code]
        went = requests_t[TOTAL][code] + requests_t[CARRIED_OUT][code]
        if came != went:
            issue(
                ["requests", CARRIED_OUT, code],
                "balance",
                f"表三 {_column_label(code)} 列不平衡：一 {requests_t[RECEIVED][code]} + 二 "
                f"{requests_t[CARRIED_IN][code]} = {came}，三(七) {requests_t[TOTAL][code]}"
                f" + 四 {requests_t[CARRIED_OUT][code]} = {went}",
                f"table 3 column {code} does not balance: received + carried in = {came}, "
                f"handled + carried out = {went}",
            )
    # table 四: each block's 总计 = its four results
    for block in REVIEW_BLOCKS:
        counts = reviews_t[block.code]
        parts = sum(counts[c] for c in REVIEW_PARTS)
        if counts[TOTAL] != parts:
            issue(
                ["reviews", block.code, TOTAL],
                "review_sum",
                f"表四 {block.label} 总计 {counts[TOTAL]} 不等于维持、纠正、其他、尚未审结之和 "
                f"{parts}",
                f"table 4 {block.code}: total {counts[TOTAL]} is not upheld + corrected + other "
                f"+ pending, {parts}",
            )
    return issues


def _figures(
    template: Template,
    active: Mapping[str, Mapping[str, Number]] | None,
    requests: Mapping[str, Mapping[str, int]],
    reviews: Mapping[str, Mapping[str, int]],
) -> list[Number]:
    figures: list[Number] = []
    if active is not None:
        figures += [v for cells in full_active(template, active).values() for v in cells.values()]
    figures += [v for cells in full_requests(template, requests).values() for v in cells.values()]
    figures += [v for cells in full_reviews(reviews).values() for v in cells.values()]
    return figures


class Report(TypedDict):
    """The tables of one report, as the rules read them."""

    template: str
    active: Table
    requests: IntTable
    reviews: IntTable


def compare(
    report: Report,
    *,
    last_year: Report | None,
    register_received: int | None,
) -> list[Issue]:
    """Warnings: 二 differs from last year's 四; every figure equals last year's (a copied
    report; a report of nothing but zeros is not called a copy); the requests received
    differ from the register's count (`register_received`, None when not known)."""
    template = TEMPLATES[report["template"]]
    requests = full_requests(template, report["requests"])
    warnings: list[Issue] = []
    if last_year is not None:
        before = TEMPLATES[last_year["template"]]
        carried_out = full_requests(before, last_year["requests"])[CARRIED_OUT]
        for column in REQUEST_COLUMN_CODES:
            if requests[CARRIED_IN][column] != carried_out[column]:
                warnings.append(
                    {
                        "loc": ["requests", CARRIED_IN, column],
                        "rule": "carried_in_differs",
                        "msg": f"表三 {_column_label(column)} 列：二（上年结转）"
                        f"{requests[CARRIED_IN][column]} 与上一年报告的四（结转下年度）"
                        f"{carried_out[column]} 不一致 / table 3 column {column}: carried in "
                        f"{requests[CARRIED_IN][column]}, last year's report carried out "
                        f"{carried_out[column]}",
                    }
                )
        same_template = before.code == template.code
        now = _figures(
            template, report["active"] if same_template else None, requests, report["reviews"]
        )
        then = _figures(
            before,
            last_year["active"] if same_template else None,
            last_year["requests"],
            last_year["reviews"],
        )
        # the common rows only, when the templates differ (table 三's （六） splits in 2021)
        if not same_template:
            common = [r for r in template.request_codes if r in before.request_codes]
            now = [requests[r][c] for r in common for c in REQUEST_COLUMN_CODES]
            then = [
                full_requests(before, last_year["requests"])[r][c]
                for r in common
                for c in REQUEST_COLUMN_CODES
            ]
            now += [v for cells in full_reviews(report["reviews"]).values() for v in cells.values()]
            then += [
                v for cells in full_reviews(last_year["reviews"]).values() for v in cells.values()
            ]
        if now == then and any(now):
            warnings.append(
                {
                    "loc": ["report"],
                    "rule": "copied_from_last_year",
                    "msg": "所有数字与上一年报告完全相同，是否照抄了上一年的报告？ / every figure "
                    "equals last year's report: was it copied?",
                }
            )
    if register_received is not None and register_received != requests[RECEIVED][TOTAL]:
        warnings.append(
            {
                "loc": ["requests", RECEIVED, TOTAL],
                "rule": "register_count_differs",
                "msg": f"本年新收申请 {requests[RECEIVED][TOTAL]} 件，依申请公开台账登记 "
                f"{register_received} 件 / the report says {requests[RECEIVED][TOTAL]} requests "
                f"were received, the register holds {register_received}",
            }
        )
    return warnings


def sum_requests(template: Template, tables: Sequence[Mapping[str, Mapping[str, Any]]]) -> IntTable:
    """Table 三 of several reports added cell by cell (the city's combined figures)."""
    total = full_requests(template, None)
    for table in tables:
        for row, cells in table.items():
            if row in total:
                for column, value in cells.items():
                    if column in total[row]:
                        total[row][column] += int(value)
    return total
