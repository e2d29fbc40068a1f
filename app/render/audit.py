"""The audit's reports as CSV (UTF-8 with BOM, so Excel opens it) and XLSX, Chinese headers.

Pure functions of the reports (the completeness report is plain dicts, the statistics one
pydantic models): the same rows as the JSON, flattened one per line.
"""

import csv
import io
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from app.models.audit import CompletenessReport, CompletenessRow, StatisticsReport
from app.models.common import ATTRIBUTE_LABELS
from app.rules.quality import FLAG_LABELS

Table = tuple[list[str], list[list[Any]]]
CELL_MAX = 32_000  # Excel keeps at most 32,767 characters in a cell
KIND_LABELS = {"district": "区", "street": "街道", "town": "镇"}
STATUS_LABELS = {
    "missing": "缺失",
    "draft": "草稿",
    "compiled": "已编制",
    "published": "已发布",
}
STATE_LABELS = {"on_time": "按时", "late": "逾期完成", "pending": "未到期", "overdue": "已逾期"}


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


def completeness_rows(report: CompletenessReport) -> Table:
    milestones = sorted({code for row in report["rows"] for code in row["milestones"]})
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
    ]
    for code in milestones:
        headers += [f"节点 {code} 状态", f"节点 {code} 天数", f"节点 {code} 完成日期"]
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
        for code in milestones:
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
    headers += ["失分原因"]
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
    writer.writerow(headers)
    writer.writerows(body)
    return buffer.getvalue().encode("utf-8-sig")


def to_xlsx(sheets: Sequence[tuple[str, Table]]) -> bytes:
    workbook = Workbook()
    workbook.remove(workbook.active)
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
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def disposition(filename: str) -> str:
    """Content-Disposition with an ASCII fallback and the UTF-8 name (RFC 6266 filename*)."""
    fallback = filename.encode("ascii", "replace").decode().replace("?", "_")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"
