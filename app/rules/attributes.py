"""The required attributes of every second-level item (厦府办〔2020〕67号) and which are missing."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

Kind = Literal["text", "choice", "list"]


@dataclass(frozen=True)
class Attribute:
    """One ITEM attribute, declared once: every shape of an item (the tables, the
    payloads, the renderers' dicts, the importer) takes its name, Chinese label,
    description and limits from here.

    kind: "text" is free text (control characters refused, `max_length` enforced),
    "choice" one vocabulary entry (normalised), "list" a set of vocabulary entries."""

    label: str
    """the attribute's name in the standard table and in every Chinese message"""
    description: str
    kind: Kind
    max_length: int | None = None
    required: bool = False
    """one of the eight required attributes of 厦府办〔2020〕67号"""


ATTRIBUTES: dict[str, Attribute] = {
    "first_level": Attribute(
        "一级事项",
        "一级事项: the first-level item this item is grouped under; never blank.",
        "text",
        200,
    ),
    "name": Attribute(
        "二级事项名称",
        "二级事项: the item's name; never blank.",
        "text",
        200,
        required=True,
    ),
    "content": Attribute(
        "公开内容", "公开内容（要素）: what is disclosed.", "text", 4000, required=True
    ),
    "basis": Attribute(
        "公开依据", "公开依据: the law or document requiring it.", "text", 2000, required=True
    ),
    "time_limit": Attribute(
        "公开时限",
        "公开时限: when it must be disclosed, as the office writes it "
        "(信息形成或变更之日起20个工作日内).",
        "text",
        500,
        required=True,
    ),
    "responsible_body": Attribute(
        "公开主体", "公开主体: the body that discloses it.", "text", 200, required=True
    ),
    "method": Attribute("公开方式", "公开方式: 主动 or 依申请.", "choice", 10, required=True),
    "channels": Attribute(
        "公开渠道和载体",
        "公开渠道和载体: entries of the channel vocabulary; 其他 may carry the office's "
        "wording after a colon (其他:村民微信群).",
        "list",
        required=True,
    ),
    "audience": Attribute(
        "公开对象",
        "公开对象: 全社会 or 特定群体, the latter optionally naming the group (特定群体:项目单位).",
        "choice",
        200,
        required=True,
    ),
    "levels": Attribute("公开层级", "公开层级: a set of 县级, 乡级, 村级.", "list"),
}
"""The ITEM attributes in the standard table's order."""

ITEM_ATTRIBUTES: tuple[str, ...] = tuple(ATTRIBUTES)
TEXT_ATTRIBUTES: tuple[str, ...] = tuple(n for n, a in ATTRIBUTES.items() if a.kind == "text")
CHOICE_ATTRIBUTES: tuple[str, ...] = tuple(n for n, a in ATTRIBUTES.items() if a.kind == "choice")
LIST_ATTRIBUTES: tuple[str, ...] = tuple(n for n, a in ATTRIBUTES.items() if a.kind == "list")
SCALAR_ATTRIBUTES: tuple[str, ...] = tuple(n for n, a in ATTRIBUTES.items() if a.kind != "list")
TEXT_LIMITS: dict[str, int] = {
    n: a.max_length for n, a in ATTRIBUTES.items() if a.kind == "text" and a.max_length
}
LABELS: dict[str, str] = {name: attribute.label for name, attribute in ATTRIBUTES.items()}
"""attribute → its Chinese name (缺少公开方式)"""

# name is required on every write, the others may be missing while drafting.
REQUIRED_ATTRIBUTES: tuple[str, ...] = tuple(n for n, a in ATTRIBUTES.items() if a.required)
DRAFTABLE_ATTRIBUTES: tuple[str, ...] = REQUIRED_ATTRIBUTES[1:]


CUT_MARK = "（截断）"
"""How the collected guide tables mark text their source page cut short (seed/README.md)."""


def absent(value: Any) -> bool:
    """Null, blank or empty, or text cut short in its source: an item with cut text is
    not complete, so the attribute counts as missing until an editor writes it whole."""
    if value is None or value in ("", []):
        return True
    if isinstance(value, str):
        return CUT_MARK in value
    if isinstance(value, list):
        return any(isinstance(part, str) and CUT_MARK in part for part in value)
    return False


def item_values(source: Mapping[str, Any]) -> dict[str, Any]:
    """The ITEM attributes of `source` in the table's order, lists copied (absent: [])."""
    get = source.get
    values = {name: get(name) for name in ITEM_ATTRIBUTES}
    for name in LIST_ATTRIBUTES:
        values[name] = list(values[name] or [])
    return values


def missing_attributes(values: Mapping[str, Any]) -> list[str]:
    """The required attributes absent (null, blank, empty or cut short) from an item."""
    return [name for name in DRAFTABLE_ATTRIBUTES if absent(values.get(name))]


EARLIEST_EVENT = date(2000, 1, 1)
"""No compile, publish, opinion or waiver of this work can be dated before 2000 (the 条例
dates from 2007, the catalogues from 2020): an earlier date is a typing slip (0001-01-01)."""


def event_date_problem(field: str, day: date, today: date) -> tuple[str, str] | None:
    """(type, bilingual message) when an event date cannot be true, else None."""
    if day > today:
        return "date_in_future", f"{field} 不能晚于今天 / {field} cannot be in the future"
    if day < EARLIEST_EVENT:
        return (
            "date_too_early",
            f"{field} 不能早于 {EARLIEST_EVENT} / {field} cannot be before {EARLIEST_EVENT}",
        )
    return None
