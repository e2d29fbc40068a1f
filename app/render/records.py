"""The timeliness audit as CSV and XLSX rows (Chinese headers), with the audit's writers."""

from typing import Any

from app.render.audit import Table

STATE_LABELS = {"on_time": "按时", "late": "逾期", "no_limit": "无时限", "unknown": "无法判断"}


def timeliness_rows(report: dict[str, Any]) -> Table:
    flagged = {unit["unit_code"]: unit["flagged"] for unit in report["units"]}
    headers = [
        "单位代码",
        "单位名称",
        "领域代码",
        "发布版本",
        "事项数",
        "记录数",
        "按时",
        "逾期",
        "无法判断",
        "空白栏目",
        "不更新栏目",
        "单位空白与不更新栏目达5个及以上",
    ]
    rows = [
        [
            row["unit_code"],
            row["unit_name"],
            row["domain_code"],
            row["version"],
            row["items"],
            row["records"],
            row["on_time"],
            row["late"],
            row["unknown"],
            row["blank"],
            row["stale"],
            "是" if flagged.get(row["unit_code"]) else "否",
        ]
        for row in report["rows"]
    ]
    return headers, rows


def timeliness_item_rows(report: dict[str, Any]) -> Table:
    headers = ["单位代码", "领域代码", "事项ID", "一级事项", "二级事项", "问题", "应有记录的周期"]
    rows: list[list[Any]] = []
    for row in report["rows"]:
        for item in row["blank_items"]:
            rows.append(
                [
                    row["unit_code"],
                    row["domain_code"],
                    item["id"],
                    item["first_level"],
                    item["name"],
                    "空白栏目",
                    "",
                ]
            )
        for item in row["stale_items"]:
            period = f"{item['period_start']}~{item['period_end']}（{item['due_on']} 前）"
            rows.append(
                [
                    row["unit_code"],
                    row["domain_code"],
                    item["id"],
                    item["first_level"],
                    item["name"],
                    "不更新栏目",
                    period,
                ]
            )
    return headers, rows


def late_record_rows(report: dict[str, Any]) -> Table:
    headers = [
        "单位代码",
        "领域代码",
        "记录ID",
        "事项ID",
        "标题",
        "链接",
        "应公开日期",
        "发布日期",
        "逾期工作日",
    ]
    rows = [
        [
            row["unit_code"],
            row["domain_code"],
            record["id"],
            record["item_id"],
            record["title"],
            record["url"],
            record["due_on"],
            record["published_on"],
            record["late_days"],
        ]
        for row in report["rows"]
        for record in row["late_records"]
    ]
    return headers, rows
