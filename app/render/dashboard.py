"""The pages' HTML: Jinja2 templates under templates/dashboard, CSS and the table-sorting
script under static/ (served from this repository: the pages load nothing from elsewhere)."""

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from app.render.table import TEXT_COLUMNS
from app.services.dashboard import (
    AGENDA_KINDS,
    CELL_MARKS,
    CELL_STATES,
    MILESTONE_STATES,
    REQUEST_STATES,
    TIMELINESS_STATES,
    segments,
)

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
