"""What the audit needs stored on every item and guide item, computed once on write.

The audit aggregates millions of items per request, so nothing here may run per request:
the normalised name (for guide coverage), the quality flags and the missing-attribute
mask are columns, kept current by the ORM events in app/models/item.py and guide.py.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from app.rules.attributes import DRAFTABLE_ATTRIBUTES, absent, missing_attributes
from app.rules.timelimits import parse

# Bits of items.flags. The low bits are quality flags: a present value that says too little.
VAGUE_TIME_LIMIT = 1
"""公开时限含糊：如“及时” / a time limit with no number of days (parsed kind `timely`)."""
UNPARSED_TIME_LIMIT = 2
"""公开时限无法识别 / a time limit text the parser cannot read (kind `unparsed`)."""
BASIS_WITHOUT_DOCUMENT = 4
"""公开依据未引用文件 / a basis that cites no document: no 《…》, no 第…条, no …号."""
GENERIC_BODY = 8
"""公开主体空白或笼统 / a responsible body that is blank or only a generic word."""
QUALITY_MASK = 15

FLAG_NAMES: dict[int, str] = {
    VAGUE_TIME_LIMIT: "vague_time_limit",
    UNPARSED_TIME_LIMIT: "unparsed_time_limit",
    BASIS_WITHOUT_DOCUMENT: "basis_without_document",
    GENERIC_BODY: "generic_responsible_body",
}
FLAG_LABELS: dict[str, str] = {
    "vague_time_limit": "公开时限含糊",
    "unparsed_time_limit": "公开时限无法识别",
    "basis_without_document": "公开依据未引用文件",
    "generic_responsible_body": "公开主体空白或笼统",
}

# From bit 8 up: which required attribute is missing, in DRAFTABLE_ATTRIBUTES order, so the
# audit can say which attributes an item lacks without reading the item's text.
MISSING_SHIFT = 8
MISSING_BITS: dict[str, int] = {
    name: 1 << (MISSING_SHIFT + i) for i, name in enumerate(DRAFTABLE_ATTRIBUTES)
}

# The levels of a guide item, as the audit matches them against a unit's kind.
COUNTY = 1
"""县级: a district's own catalogue."""
TOWNSHIP = 2
"""乡级: a street's or town's catalogue (村级 disclosure is organised by the township)."""

GENERIC_BODIES = frozenset(
    {
        "本单位",
        "本部门",
        "本机关",
        "相关部门",
        "有关部门",
        "各部门",
        "各单位",
        "相关单位",
        "有关单位",
        "责任单位",
        "责任部门",
        "主管部门",
        "职能部门",
        "业务部门",
        "牵头部门",
        "各相关部门",
        "各有关部门",
        "相关职能部门",
        "无",
    }
)
_DOCUMENT = re.compile(r"《[^》]+》|第[^，。；,;]{1,12}[条款项章]|[〔\[(（]\d{4}[〕\])）]|\d+号")


def name_key(text: str | None) -> str:
    """The name as coverage matches it: NFKC (full width → half width), lower case, without
    spaces, punctuation or control characters."""
    folded = unicodedata.normalize("NFKC", text or "").lower()
    return "".join(ch for ch in folded if unicodedata.category(ch)[0] not in "PZC")


def _absent(value: Any) -> bool:
    return value is None or value in ("", [])


def item_flags(values: Mapping[str, Any]) -> int:
    """The flags bitmask of an item's values: quality flags and missing attributes."""
    flags = 0
    for name, bit in MISSING_BITS.items():
        if absent(values.get(name)):
            flags |= bit
    time_limit = values.get("time_limit")
    if not _absent(time_limit):
        kind = parse(time_limit).kind
        if kind == "timely":
            flags |= VAGUE_TIME_LIMIT
        elif kind == "unparsed":
            flags |= UNPARSED_TIME_LIMIT
    basis = values.get("basis")
    if not _absent(basis) and not _DOCUMENT.search(unicodedata.normalize("NFKC", str(basis))):
        flags |= BASIS_WITHOUT_DOCUMENT
    body = name_key(values.get("responsible_body"))
    if not body or body in GENERIC_BODIES:
        flags |= GENERIC_BODY
    return flags


def flag_names(flags: int) -> list[str]:
    return list(_flag_names(flags))


def missing_names(flags: int) -> list[str]:
    return list(_missing_names(flags))


@lru_cache(maxsize=4096)
def _flag_names(flags: int) -> tuple[str, ...]:
    return tuple(name for bit, name in FLAG_NAMES.items() if flags & bit)


@lru_cache(maxsize=4096)
def _missing_names(flags: int) -> tuple[str, ...]:
    return tuple(name for name, bit in MISSING_BITS.items() if flags & bit)


def level_mask(levels: Iterable[str]) -> int:
    """The unit levels a guide item applies to; a guide item with no levels applies to both."""
    chosen = set(levels)
    if not chosen:
        return COUNTY | TOWNSHIP
    mask = COUNTY if "县级" in chosen else 0
    if chosen & {"乡级", "村级"}:
        mask |= TOWNSHIP
    return mask


def refresh_item(item: Any) -> None:
    """Recompute an item's derived columns (name_key, flags, lacking) from its values.

    The one place they are computed: the ORM event in app/models/item.py calls it before
    every insert and update, whoever writes the item."""
    values = {name: getattr(item, name) for name in DRAFTABLE_ATTRIBUTES}
    item.name_key = name_key(item.name)
    item.flags = item_flags(values)
    item.lacking = len(missing_attributes(values))


def refresh_guide_item(guide: Any) -> None:
    guide.name_key = name_key(guide.name)
    guide.level_mask = level_mask(guide.levels or [])
