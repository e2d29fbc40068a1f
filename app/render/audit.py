"""The audit's reports as CSV (UTF-8 with BOM, so Excel opens it) and XLSX, Chinese headers.

Pure functions of the reports (the completeness report is plain dicts, the statistics one
pydantic models): the same rows as the JSON, flattened one per line.
"""

import csv
import io
import unicodedata
from collections.abc import Sequence
from datetime import date
from typing import Any, NamedTuple
from urllib.parse import quote

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from app.models.annual_report import AnnualReportAudit
from app.models.audit import CompletenessReport, CompletenessRow, StatisticsReport
from app.models.common import ATTRIBUTE_LABELS
from app.models.milestone import MilestoneStatus
from app.render.spreadsheet_safety import neutralise
from app.rules import annual_report as report_rules
from app.rules.quality import FLAG_LABELS

Table = tuple[list[str], list[list[Any]]]
CELL_MAX = 32_000  # Excel keeps at most 32,767 characters in a cell
KIND_LABELS = {"district": "区", "street": "街道", "town": "镇", "city": "市", "department": "部门"}
STATUS_LABELS = {
    "missing": "缺失",
    "draft": "草稿",
    "compiled": "已编制",
    "published": "已发布",
}
STATE_LABELS = {"on_time": "按时", "late": "逾期完成", "pending": "未到期", "overdue": "已逾期"}
WIDTH_MAX = 60  # characters; longer text wraps in its cell


class MilestoneLabel(NamedTuple):
    """What a milestone's columns are headed with, in due-date order."""

    code: str
    title: str
    due_on: date


def _yes(value: bool) -> str:
    return "是" if value else "否"


def _cut(text: str) -> str:
    return text if len(text) <= CELL_MAX else text[: CELL_MAX - 1] + "…"


def _lacking(row: CompletenessRow) -> str:
    parts = []
    for item in row["lacking_items"]:
        what = [ATTRIBUTE_LABELS.get(m, m) for m in item["missing"]]
        what += [FLAG_LABELS.get(f, f) for f in item["flags"]]
        parts.append(f"{item['id']} {item['name']}（{'、'.join(what)}）")
    return _cut("；".join(parts))


def completeness_rows(
    report: CompletenessReport, milestones: Sequence[MilestoneLabel] = ()
) -> Table:
    """`milestones` orders and names the milestone columns (by due date, Chinese titles);
    a milestone the rows carry but the list lacks is appended under its code."""
    seen = {code for row in report["rows"] for code in row["milestones"]}
    ordered = sorted((m for m in milestones if m.code in seen), key=lambda m: (m.due_on, m.code))
    labels = {m.code: f"{m.title}（{m.due_on:%Y-%m-%d}）" for m in ordered}
    codes = [m.code for m in ordered] + sorted(seen - set(labels))
    headers = [
        "单位代码",
        "单位名称",
        "单位类型",
        "所属区代码",
        "领域代码",
        "领域名称",
        "试点领域",
        "是否适用",
        "不适用理由",
        "是否有目录",
        "目录状态",
        "二级事项数",
        "缺要素事项数",
        "有质量问题事项数",
        "公开时限含糊",
        "公开时限无法识别",
        "公开依据未引用文件",
        "公开主体空白或笼统",
        "缺要素的事项（缺少的要素）",
        "标准指引事项数",
        "已覆盖",
        "已说明不适用（豁免）",
        "未覆盖",
        "未覆盖的标准指引事项",
        "豁免事项及理由",
        "发布版本",
        "发布日期",
        "发布网址",
        "首次发布日期",
        "时效：已发布事项数",
        "公开记录数",
        "按时记录",
        "逾期记录",
        "空白栏目",
        "不更新栏目",
    ]
    for code in codes:
        label = labels.get(code, f"节点 {code}")
        headers += [f"{label} 状态", f"{label} 天数", f"{label} 完成日期"]
    body: list[list[Any]] = []
    for row in report["rows"]:
        quality = row["quality"]
        coverage = row["coverage"]
        published = row["published"]
        line: list[Any] = [
            row["unit_code"],
            row["unit_name"],
            KIND_LABELS.get(row["unit_kind"], row["unit_kind"]),
            row["district_code"],
            row["domain_code"],
            row["domain_name"],
            _yes(row["is_pilot"]),
            _yes(row["applicable"]),
            row["not_applicable_reason"] or "",
            _yes(row["exists"]),
            STATUS_LABELS.get(row["status"], row["status"]),
            row["items"],
            row["lacking"],
            quality["flagged"],
            quality["vague_time_limit"],
            quality["unparsed_time_limit"],
            quality["basis_without_document"],
            quality["generic_responsible_body"],
            _lacking(row),
            coverage["guide_items"],
            coverage["present"],
            coverage["waived"],
            coverage["absent"],
            _cut("；".join(g["name"] for g in coverage["absent_items"])),
            _cut("；".join(f"{w['name']}（{w['reason']}）" for w in coverage["waived_items"])),
            published["version"] if published else "",
            published["published_on"].isoformat() if published else "",
            published["url"] if published else "",
            published["first_published_on"].isoformat() if published else "",
        ]
        timely = row["timeliness"]
        line += (
            [
                timely["items"],
                timely["records"],
                timely["on_time"],
                timely["late"],
                timely["blank"],
                timely["stale"],
            ]
            if timely
            else [""] * 6
        )
        for code in codes:
            state = row["milestones"].get(code)
            done_on = state["done_on"] if state else None
            line += [
                STATE_LABELS.get(state["state"], state["state"]) if state else "",
                state["days"] if state else "",
                done_on.isoformat() if done_on else "",
            ]
        body.append(line)
    return headers, body


def unit_score_rows(report: CompletenessReport) -> Table:
    weights = report["weights"]
    names = list(weights)
    headers = ["单位代码", "单位名称", "单位类型", "所属区代码", "领域数", "适用领域数", "得分"]
    headers += [f"{label}（满分{weights[n]:g}）" for n, label in _labels(report).items()]
    headers += ["失分原因", "得分说明（分母为零的项）"]
    labels = _labels(report)
    body = [
        [
            unit["unit_code"],
            unit["unit_name"],
            KIND_LABELS.get(unit["unit_kind"], unit["unit_kind"]),
            unit["district_code"],
            unit["domains"],
            unit["applicable"],
            unit["score"],
            *[next(c["points"] for c in unit["components"] if c["name"] == n) for n in names],
            _cut("；".join(unit["reasons"])),
            "；".join(
                f"{labels.get(c['name'], c['name'])}：{c['reason']}"
                for c in unit["components"]
                if c["reason"]
            ),
        ]
        for unit in report["units"]
    ]
    return headers, body


def _labels(report: CompletenessReport) -> dict[str, str]:
    first = report["units"][0]["components"] if report["units"] else []
    labels = {c["name"]: c["label"] for c in first}
    return {name: labels.get(name, name) for name in report["weights"]}


def district_rows(report: CompletenessReport) -> Table:
    headers = ["排名", "区代码", "区名称", "单位数", "综合得分", "区本级得分", "街镇平均得分"]
    body = [
        [
            d["rank"],
            d["district_code"],
            d["district_name"],
            d["units"],
            d["score"],
            d["district_score"] if d["district_score"] is not None else "",
            d["townships_score"] if d["townships_score"] is not None else "",
        ]
        for d in report["districts"]
    ]
    return headers, body


def milestone_status_rows(
    rows: Sequence[MilestoneStatus], units: dict[str, str], domains: dict[str, str]
) -> Table:
    """One line per obliged unit × domain of a milestone's status, with the names."""
    headers = ["单位代码", "单位", "领域代码", "领域", "状态", "state", "天数 days", "完成日期"]
    body = [
        [
            row.unit_code,
            units.get(row.unit_code, ""),
            row.domain_code,
            domains.get(row.domain_code, ""),
            STATE_LABELS[row.state],
            str(row.state),
            row.days,
            row.done_on.isoformat() if row.done_on else "",
        ]
        for row in rows
    ]
    return headers, body


def statistics_rows(report: StatisticsReport) -> Table:
    headers = ["单位代码", "单位名称", "单位类型", "层级", "所属区代码", "领域数（类）"]
    headers += ["一级事项（项）", "二级事项（项）"]
    body = [
        [
            u.unit_code,
            u.unit_name,
            KIND_LABELS.get(u.unit_kind, u.unit_kind),
            u.level,
            u.district_code,
            u.domains,
            u.first_level_items,
            u.second_level_items,
        ]
        for u in report.units
    ]
    return headers, body


def level_rows(report: StatisticsReport) -> Table:
    headers = ["区代码", "区名称", "层级", "单位数", "有已发布目录的单位数", "领域数（类）"]
    headers += ["一级事项（项）", "二级事项（项）"]
    body = [
        [
            level.district_code or "合计",
            level.district_name or "",
            level.level,
            level.units,
            level.units_with_catalogues,
            level.domains,
            level.first_level_items,
            level.second_level_items,
        ]
        for level in report.levels
    ]
    return headers, body


def to_csv(table: Table) -> bytes:
    headers, body = table
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(map(neutralise, headers))
    writer.writerows(map(neutralise, row) for row in body)
    return buffer.getvalue().encode("utf-8-sig")


def _width(value: Any) -> int:
    """Display width in Excel's character units: a CJK character takes two."""
    text = value.isoformat() if isinstance(value, date) else str(value if value is not None else "")
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def to_xlsx(sheets: Sequence[tuple[str, Table]], about: Sequence[tuple[str, str]] = ()) -> bytes:
    """One sheet per table, headers bold and frozen, columns as wide as their content (up to
    WIDTH_MAX, then wrapped); `about` (label, value) pairs go first on a sheet of their own
    (the query, its as_of date, when it was made), so a file read later says what it is."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    if about:
        info = workbook.create_sheet("说明")
        for label, value in about:
            info.append([label, ILLEGAL_CHARACTERS_RE.sub("", value)])
            info.cell(row=info.max_row, column=1).font = Font(bold=True)
        info.column_dimensions["A"].width = max(_width(label) for label, _ in about) + 2
        info.column_dimensions["B"].width = min(max(_width(v) for _, v in about) + 2, 100)
    for title, (headers, body) in sheets:
        sheet = workbook.create_sheet(title)
        sheet.append(headers)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for r, line in enumerate(body, start=2):
            for c, value in enumerate(line, start=1):
                cell = sheet.cell(row=r, column=c)
                if isinstance(value, str):
                    # Text stays text: openpyxl would turn a leading "=" into a formula.
                    cell.value = ILLEGAL_CHARACTERS_RE.sub("", value) or None
                    cell.data_type = "s"
                else:
                    cell.value = value
        sheet.freeze_panes = "A2"
        wrap = Alignment(wrap_text=True, vertical="top")
        for c, header in enumerate(headers, start=1):
            widest = max([_width(header), *(_width(line[c - 1]) for line in body[:2000])])
            letter = get_column_letter(c)
            sheet.column_dimensions[letter].width = min(widest, WIDTH_MAX) + 2
            if widest > WIDTH_MAX:
                for cell in sheet[letter][1:]:
                    cell.alignment = wrap
        for cell in sheet[1]:
            cell.alignment = Alignment(wrap_text=True, vertical="center")
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def disposition(filename: str) -> str:
    """Content-Disposition with an ASCII fallback and the UTF-8 name (RFC 6266 filename*)."""
    fallback = filename.encode("ascii", "replace").decode().replace("?", "_")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"


# ---- annual reports ------------------------------------------------------------------

REPORT_STATUS_LABELS = {"draft": "草稿（不符合规则）", "ready": "待发布", "published": "已发布"}


def annual_report_rows(report: AnnualReportAudit) -> Table:
    """One line per unit: due date, state, status, rule breaks and warnings."""
    headers = ["单位代码", "单位名称", "单位类型", "所属区代码", "截止日期", "状态", "天数"]
    headers += ["报告状态", "发布版本", "首次发布日期", "发布网址", "不符合规则", "提示"]
    body = [
        [
            u.unit_code,
            u.unit_name,
            KIND_LABELS.get(u.unit_kind, u.unit_kind),
            u.district_code or "",
            u.due_on.isoformat(),
            STATE_LABELS.get(u.state, u.state),
            u.days,
            REPORT_STATUS_LABELS.get(u.status, u.status) if u.status else "无报告",
            u.version,
            u.published_on.isoformat() if u.published_on else "",
            u.url or "",
            _cut("；".join(f"{e.rule} {'.'.join(e.loc)}" for e in u.errors)),
            _cut("；".join(f"{w.rule} {'.'.join(w.loc)}" for w in u.warnings)),
        ]
        for u in report.units
    ]
    return headers, body


def request_total_rows(report: AnnualReportAudit) -> Table:
    """Table 三 summed over the units listed, with the template's row labels."""
    template = report_rules.TEMPLATES[report.template]
    headers = ["行", "行名称", *(c.label for c in report_rules.REQUEST_COLUMNS)]
    body = [
        [
            row.code,
            f"{row.group or ''}{row.label}",
            *(report.requests_total[row.code][c] for c in report_rules.REQUEST_COLUMN_CODES),
        ]
        for row in template.request_rows
    ]
    return headers, body
