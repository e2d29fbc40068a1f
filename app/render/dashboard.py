"""The pages' HTML: Jinja2 templates under templates/dashboard, CSS and the table-sorting
script under static/ (served from this repository: the pages load nothing from elsewhere)."""

from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from app.render.table import TEXT_COLUMNS

CELL_STATES: dict[str, str] = {
    "missing": "未建",
    "draft": "草稿",
    "compiled": "已编制",
    "published": "已发布",
    "not_applicable": "不适用",
}
"""The grid's colours, in the order of the legend."""
CELL_MARKS: dict[str, str] = {
    "missing": "缺",
    "draft": "草",
    "compiled": "编",
    "published": "发",
    "not_applicable": "无",
}
"""One character per state inside a grid cell, so the grid reads without colour too."""

MILESTONE_STATES: dict[str, str] = {
    "on_time": "按时",
    "late": "逾期完成",
    "pending": "未到期",
    "overdue": "已逾期",
}

TIMELINESS_STATES: dict[str, str] = {"late": "逾期发布", "blank": "空白栏目", "stale": "未更新"}
"""The timeliness bar's segments: records published late, active items with no record, items
not updated for their last period."""
REQUEST_STATES: dict[str, str] = {
    "overdue": "已逾期",
    "due_within_5": "5个工作日内到期",
    "later": "其余在办",
}
"""The request bar's segments: open applications overdue, due within 5 working days, the rest."""

Segment = tuple[str, float, float, int]


def segments(counts: dict[str, int], states: Iterable[str], scale: int) -> list[Segment]:
    """(state, x, width, count) on a 0..100 axis where 100 is `scale` (a row's or the largest
    row's total, so bars of one chart compare)."""
    x, result = 0.0, []
    for state in states:
        count = counts.get(state, 0)
        if count and scale:
            width = 100.0 * count / scale
            result.append((state, round(x, 3), round(width, 3), count))
            x += width
    return result


AGENDA_KINDS: dict[str, str] = {
    "milestone": "节点",
    "lacking": "补要素",
    "request": "答复申请",
    "blank": "空白栏目",
    "stale": "更新栏目",
}


STATIC = Path(__file__).parent / "static"

_templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates" / "dashboard"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def url(path: str, **query: object) -> str:
    """A link with its query string; parameters that are None are left out."""
    given = {k: v for k, v in query.items() if v is not None}
    return f"{path}?{urlencode(given)}" if given else path


ATTRIBUTE_LABELS: dict[str, str] = {
    **{key: label for label, key in TEXT_COLUMNS},
    "channels": "公开渠道和载体",
    "audience": "公开对象",
    "method": "公开方式",
    "levels": "公开层级",
}
"""An ITEM attribute's column in the standard table, to name what an item lacks."""

COMPONENT_LABELS: dict[str, str] = {
    "catalogues": "目录齐全",
    "attributes": "要素齐全",
    "coverage": "指引覆盖",
    "quality": "内容质量",
    "published": "按时发布",
    "blank": "无空白栏目",
    "stale": "按期更新",
    "late": "按时限公开",
}
"""Short headings for the score components (app/services/audit.py LABELS says them in full)."""


FILING_STATES: dict[str, str] = {
    "on_time": "按时报送",
    "late": "逾期报送",
    "pending": "未到期",
    "overdue": "逾期未报",
}
"""An annual report's state against its due date (as the annual-report audit gives it)."""


def attributes(names: list[str]) -> str:
    return "、".join(ATTRIBUTE_LABELS.get(name, name) for name in names)


_templates.globals.update(
    url=url,
    CELL_STATES=CELL_STATES,
    CELL_MARKS=CELL_MARKS,
    MILESTONE_STATES=MILESTONE_STATES,
    COMPONENT_LABELS=COMPONENT_LABELS,
    TIMELINESS_STATES=TIMELINESS_STATES,
    REQUEST_STATES=REQUEST_STATES,
    FILING_STATES=FILING_STATES,
    AGENDA_KINDS=AGENDA_KINDS,
    segments=segments,
)
_templates.filters["attributes"] = attributes


def page(name: str, **context: Any) -> str:
    return _templates.get_template(name).render(**context)
