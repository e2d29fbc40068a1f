"""分页 / paging: the one way every list cuts a page and says where the next one starts.

A list read from the database fetches `limit + 1` rows and hands them to `cut`; a list
already in memory hands its rows to `window`. Both answer the page and whether (or where)
the next page starts; the routes say it as `next`, `next_offset`, `Link` or `X-Next-Offset`
(see app/api/deps.py) and never work it out themselves.
"""

from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


def cut(rows: Sequence[T], limit: int) -> tuple[list[T], bool]:
    """Rows fetched with `limit + 1`: the page (at most `limit`) and whether more follow."""
    return list(rows[:limit]), len(rows) > limit


def next_offset(offset: int, limit: int, more: bool) -> int | None:
    """The offset of the page after this one, None on the last page."""
    return offset + limit if more else None


def after_offset(offset: int, limit: int, total: int) -> int | None:
    """The next page's offset in a list of `total` rows, None on the last page."""
    return next_offset(offset, limit, offset + limit < total)


def window(rows: Sequence[T], offset: int, limit: int) -> tuple[list[T], int | None]:
    """A list already in memory: the page at `offset` and the next page's offset."""
    return list(rows[offset : offset + limit]), after_offset(offset, limit, len(rows))
