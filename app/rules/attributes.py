"""The required attributes of every second-level item (厦府办〔2020〕67号) and which are missing."""

from collections.abc import Mapping
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
