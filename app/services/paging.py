"""分页 / paging: the one way every list cuts a page and says where the next one starts.

A list read from the database fetches `limit + 1` rows and hands them to `cut`; a list
already in memory hands its rows to `window`. Both answer the page and whether (or where)
the next page starts; the routes say it as `next`, `next_offset`, `Link` or `X-Next-Offset`
(see app/api/deps.py) and never work it out themselves.

Every cursor a client sends back is read here too: a bare number (`plain_cursor`: an id or
an offset) or an opaque one (`opaque_cursor` / `opaque_numbers`: base64 of a prefix and
numbers). Anything that cannot be one of ours, including a number past `MAX_ID`, is the
same 422 `cursor_invalid` naming the query parameter, never a 500 from the driver.
"""

import base64
from collections.abc import Sequence
from typing import TypeVar

from app.errors import invalid
from app.models.common import whole_number

T = TypeVar("T")
INVALID_CURSOR = "游标无效，请使用上一页返回的 next / invalid cursor: pass back a previous `next`"


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


def invalid_cursor(parameter: str = "cursor") -> Exception:
    """The one answer to a cursor that is not ours: 422 cursor_invalid naming `parameter`."""
    return invalid(("query", parameter), INVALID_CURSOR, "cursor_invalid")


def plain_cursor(value: str | None, parameter: str = "cursor") -> int | None:
    """A cursor that is a bare number (an id or an offset); None when absent."""
    if value is None:
        return None
    if (number := whole_number(value)) is None:
        raise invalid_cursor(parameter)
    return number


def opaque_cursor(raw: str) -> str:
    """`raw` (a prefix and numbers) as the opaque cursor a client passes back."""
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def opaque_numbers(
    value: str, prefix: str, separator: str, *, parameter: str, most: int
) -> list[int]:
    """The numbers (1 to `most`) an opaque cursor `prefix` n [`separator` m …] carries."""
    try:
        decoded = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        decoded = ""
    if not decoded.startswith(prefix):
        raise invalid_cursor(parameter)
    numbers = [whole_number(part) for part in decoded.removeprefix(prefix).split(separator)]
    if len(numbers) > most or any(number is None for number in numbers):
        raise invalid_cursor(parameter)
    return [number for number in numbers if number is not None]
