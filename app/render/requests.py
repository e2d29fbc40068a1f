"""The request register's audit as rows for CSV and XLSX (rendered by app.render.audit)."""

from typing import Any

from app.models.request import RequestAuditReport
from app.render.audit import Table

STATE_LABELS = {
    "open": "办理中",
    "awaiting_correction": "待补正",
    "paused": "征求意见中",
    "answered": "已答复",
    "withdrawn": "已撤回",
}


def unit_rows(report: RequestAuditReport) -> Table:
    headers = ["单位代码", "单位名称", "未办结", "5个工作日内到期", "已逾期", "本年逾期答复"]
    body: list[list[Any]] = [
        [row.unit_code, row.unit_name, row.open, row.due_within_5, row.overdue, row.answered_late]
        for row in report.units
    ]
    return headers, body


def overdue_rows(report: RequestAuditReport) -> Table:
    headers = [
        "单位代码",
        "单位名称",
        "申请编号",
        "受理编号",
        "收到日期",
        "答复期限",
        "逾期工作日",
        "状态",
    ]
    body: list[list[Any]] = [
        [
            row.unit_code,
            row.unit_name,
            late.id,
            late.reference or "",
            late.received_on.isoformat(),
            late.due_on.isoformat() if late.due_on else "",
            late.days_overdue,
            STATE_LABELS.get(late.state, late.state),
        ]
        for row in report.units
        for late in row.overdue_requests
    ]
    return headers, body
