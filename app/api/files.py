"""文件答复 / file answers: a report's rows as a CSV or XLSX download, said one way.

The media types are render/published.py's `MEDIA_TYPES`, the one table every rendering
uses; the file name goes in `Content-Disposition` (ASCII fallback and the UTF-8 name), and
a paged report says where its next page starts in `X-Next-Offset`.
"""

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import Query, Request, Response

from app.api.deps import say_next_offset
from app.models.common import MAX_ID, utcnow
from app.render.audit import disposition
from app.render.published import MEDIA_TYPES, Format

XLSX = MEDIA_TYPES[Format.xlsx]
CSV = MEDIA_TYPES[Format.csv]
HTML = MEDIA_TYPES[Format.html]
JSON = MEDIA_TYPES[Format.json]
ReportFormat = Literal["json", "csv", "xlsx"]
REPORT_FILES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"text/csv": {}, XLSX: {}},
        "description": "JSON, or with ?format=csv|xlsx the same rows as a file",
    }
}
"""The `responses` entry of a report that is JSON or, with ?format=csv|xlsx, a file."""
UnitsPerPage = Annotated[int, Query(ge=1, le=1000, description="units per page")]
"""A paged report's page size, in units (each route sets its default)."""
NextOffset = Annotated[int, Query(ge=0, le=MAX_ID, description="the previous next_offset")]
"""Where a paged report's page starts: the `next_offset` (or `X-Next-Offset`) it gave."""


def report_file(
    content: bytes, fmt: Literal["csv", "xlsx"], name: str, next_offset: int | None = None
) -> Response:
    """`content` as the download `name.fmt`; `X-Next-Offset` when another page follows."""
    headers = {"Content-Disposition": disposition(f"{name}.{fmt}")}
    say_next_offset(headers, next_offset)
    return Response(content, media_type=MEDIA_TYPES[Format(fmt)], headers=headers)


def about_sheet(request: Request, as_of: date, title: str) -> list[tuple[str, str]]:
    """The workbook's sheet saying what it is: the report, its as_of, the query, when made."""
    query = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return [
        ("报表", title),
        ("截至日期 as_of", as_of.isoformat()),
        ("查询 query", query),
        ("生成时间 made at (UTC)", utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")),
    ]
