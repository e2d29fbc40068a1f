"""The required attributes of every second-level item (厦府办〔2020〕67号) and which are missing."""

from collections.abc import Mapping
from datetime import date
from typing import Any

# name is required on every write, the others may be missing while drafting.
REQUIRED_ATTRIBUTES: tuple[str, ...] = (
    "name",
    "content",
    "basis",
    "time_limit",
    "responsible_body",
    "method",
    "channels",
    "audience",
)
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
