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


def missing_attributes(values: Mapping[str, Any]) -> list[str]:
    """The required attributes absent (null, blank or empty) from an item's values."""
    return [
        name
        for name in DRAFTABLE_ATTRIBUTES
        if values.get(name) is None or values.get(name) in ("", [])
    ]
