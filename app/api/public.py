"""Published catalogues for website teams: no token, CORS, ETag / 304, bytes made once.

The catalogue routes are `async def` and usually answer without touching the database
or a worker thread: see app/services/published_cache.py for what is cached and for how
long. JSON, HTML (page and fragment) and CSV come gzip- or brotli-compressed when the
client's Accept-Encoding asks for it: the bytes were compressed once, with the rendering
(app/render/published.py); each encoding has its own strong ETag and its own 304.
"""

import re
from email.utils import parsedate_to_datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Path, Query, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.pages import security_headers
from app.api.responses import NOT_FOUND
from app.db import SessionDep, SessionFactoryDep
from app.errors import NotFound
from app.models.common import MAX_ID
from app.models.publication import (
    ChangeFeed,
    PublishedCatalogue,
    PublishedChange,
    PublishedUnit,
    VersionRef,
)
from app.models.record import RecordChange
from app.render import published
from app.render.published import ENCODINGS, Format, Rendering, compressible, encoded_etag
from app.services import publication, published_cache, record_column, records

router = APIRouter(prefix="/public", tags=["public"])

LATEST_CACHE = "public, max-age=60"
PINNED_CACHE = "public, max-age=31536000, immutable"
NOT_MODIFIED: dict[int | str, dict[str, Any]] = {
    304: {"description": "not modified (If-None-Match or If-Modified-Since)"}
}
FILES: dict[str, dict[str, Any]] = {
    "text/html": {"schema": {"type": "string"}},
    "text/csv": {"schema": {"type": "string"}},
    published.MEDIA_TYPES[Format.xlsx]: {"schema": {"type": "string", "format": "binary"}},
}

UNIT_CODE = re.compile(r"[0-9A-Za-z_-]{2,32}")
DOMAIN_CODE = re.compile(r"\d{2,3}")
PublicUnitCode = Annotated[
    str,
    Path(pattern=f"^{UNIT_CODE.pattern}$", description="a unit code (2-32 letters, digits, _ -)"),
]
PublicDomainCode = Annotated[
    str, Path(pattern=f"^{DOMAIN_CODE.pattern}$", description="a domain code (2-3 digits)")
]
"""Checked before any lookup: what cannot be a code never reaches the database or a cache
(a 64 KB random "code" per request would otherwise be remembered as unknown)."""

IfNoneMatch = Annotated[str | None, Header()]
IfModifiedSince = Annotated[str | None, Header()]
AcceptEncoding = Annotated[
    str | None,
    Header(
        description="gzip or br (brotli) for JSON, HTML and CSV, each with its own ETag; "
        "q-values are respected, identity;q=0 and *;q=0 too"
    ),
]
VARY = ("vary", "Accept-Encoding")
_QVALUE = re.compile(r"(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)")


def negotiate(accept_encoding: str | None) -> str:
    """The content coding to send: "br", "gzip" or "identity" (RFC 9110 §12.5.3).

    The highest q-value wins, br before gzip before identity on a tie; `*` stands for any
    coding not named; q=0 refuses. No header, or nothing acceptable, sends the identity
    bytes (every client can read those; a 406 would help no one)."""
    if not accept_encoding:
        return "identity"
    weights: dict[str, float] = {}
    for part in accept_encoding.split(","):
        coding, *params = part.split(";")
        coding = coding.strip().lower()
        if not coding:
            continue
        weight = 1.0
        for param in params:
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                value = value.strip()
                weight = float(value) if _QVALUE.fullmatch(value) else -1.0
        if weight >= 0:
            weights["gzip" if coding == "x-gzip" else coding] = weight
    other = weights.get("*", 0.0)
    best, best_weight = "identity", 0.0
    for coding in ENCODINGS:
        weight = weights.get(coding, other)
        if weight > best_weight:
            best, best_weight = coding, weight
    if best_weight > 0 and weights.get("identity", 0.0) > best_weight:
        return "identity"
    return best


def etag_matches(if_none_match: str, current: str) -> bool:
    """If-None-Match uses the weak comparison: W/ is ignored, `*` matches anything."""
    for candidate in if_none_match.split(","):
        tag = candidate.strip()
        if tag == "*" or tag.removeprefix("W/") == current:
            return True
    return False


def not_modified(
    if_none_match: str | None, if_modified_since: str | None, etag: str, last_modified: str | None
) -> bool:
    """RFC 9110 §13.2.2: If-None-Match decides when present; else If-Modified-Since."""
    if if_none_match is not None:
        return etag_matches(if_none_match, etag)
    if if_modified_since is None or last_modified is None:
        return False
    try:
        since = parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError, IndexError):
        return False  # an unreadable date is ignored, as the RFC says
    if since.tzinfo is None:
        return False
    return parsedate_to_datetime(last_modified) <= since


def unchanged_headers(
    etag: str, last_modified: str | None, cache_control: str, *, negotiated: bool = False
) -> list[tuple[str, str]]:
    """A 304's headers; `negotiated`: the answer depends on Accept-Encoding (Vary)."""
    headers = [("etag", etag), ("cache-control", cache_control)]
    if last_modified:
        headers.append(("last-modified", last_modified))
    if negotiated:
        headers.append(VARY)
    return headers


def body_headers(
    rendering: Rendering, cache_control: str, encoding: str = "identity"
) -> list[tuple[str, str]]:
    """Everything but content-type and content-length, which the caller sets."""
    _, etag = rendering.variant(encoding)
    headers = [
        *unchanged_headers(
            etag, rendering.last_modified, cache_control, negotiated=bool(rendering.encoded)
        ),
        *security_headers(rendering.media_type),
    ]
    if encoding != "identity":
        headers.append(("content-encoding", encoding))
    if (disposition := rendering.disposition) is not None:
        headers.append(("content-disposition", disposition))
    return headers


def unchanged(
    etag: str, last_modified: str | None, cache_control: str, *, negotiated: bool = False
) -> Response:
    return Response(
        status_code=304,
        headers=dict(unchanged_headers(etag, last_modified, cache_control, negotiated=negotiated)),
    )


def answer(rendering: Rendering, cache_control: str, encoding: str = "identity") -> Response:
    """The rendering's bytes in `encoding` (one it holds, as `negotiate` chose)."""
    body, _ = rendering.variant(encoding)
    return Response(
        body,
        media_type=rendering.media_type,
        headers=dict(body_headers(rendering, cache_control, encoding)),
    )


def _unpublished(unit_code: str, domain_code: str, version: int | None) -> NotFound:
    which = f"第{version}版" if version else "已发布的版本"
    what = f"version {version}" if version else "published version"
    return NotFound(
        f"单位 {unit_code} 领域 {domain_code} 没有{which} / unit {unit_code} has no {what} "
        f"of domain {domain_code}"
    )


@router.get(
    "/units/{unit_code}/catalogues",
    response_model=PublishedUnit,
    responses=NOT_FOUND | NOT_MODIFIED,
)
async def read_published_catalogues(
    unit_code: PublicUnitCode,
    sessions: SessionFactoryDep,
    format: Annotated[
        Literal["json"],
        Query(description="json only: the per-domain renderings are on each catalogue's route"),
    ] = "json",
    if_none_match: IfNoneMatch = None,
    if_modified_since: IfModifiedSince = None,
    accept_encoding: AcceptEncoding = None,
) -> Response:
    """Every published catalogue of the unit (each its latest version) as a tree:
    domain → first-level item → second-level items. No token needed; gzip or brotli on
    request (Accept-Encoding)."""
    listing = await published_cache.unit_listing(sessions, unit_code)
    if listing is None:
        raise NotFound(f"单位 {unit_code} 不存在 / unit {unit_code} not found")
    encoding = negotiate(accept_encoding)
    etag = encoded_etag(published.unit_etag(listing), encoding)
    last_modified = published.unit_last_modified(listing)
    if not_modified(if_none_match, if_modified_since, etag, last_modified):
        return unchanged(etag, last_modified, LATEST_CACHE, negotiated=True)
    return answer(await published_cache.unit_rendering(sessions, listing), LATEST_CACHE, encoding)


@router.get(
    "/units/{unit_code}/catalogues/{domain_code}",
    response_model=PublishedCatalogue,
    responses={200: {"content": FILES}} | NOT_FOUND | NOT_MODIFIED,
)
async def read_published_catalogue(
    unit_code: PublicUnitCode,
    domain_code: PublicDomainCode,
    sessions: SessionFactoryDep,
    version: Annotated[
        int | None,
        Query(ge=1, le=MAX_ID, description="a published version; latest if absent"),
    ] = None,
    fmt: Annotated[
        Format,
        Query(
            alias="format",
            description="json (the tree), html (a page), fragment (the table to embed in "
            "another page), xlsx or csv",
        ),
    ] = Format.json,
    if_none_match: IfNoneMatch = None,
    if_modified_since: IfModifiedSince = None,
    accept_encoding: AcceptEncoding = None,
) -> Response:
    """One published catalogue, the latest version or `?version=N` (which never changes).

    `format=html` is the standard table as a page, `fragment` the same table as an HTML
    fragment to include in a website's page (docs/website.md), `xlsx` the table as a
    workbook, `csv` as a file; `json` (default) the tree. No token needed. All but XLSX
    come gzip- or brotli-compressed on request (Accept-Encoding), each with its own ETag."""
    ref: VersionRef | None = await published_cache.published(
        sessions, unit_code, domain_code, version
    )
    if ref is None:
        raise _unpublished(unit_code, domain_code, version)
    cache_control = LATEST_CACHE if version is None else PINNED_CACHE
    negotiated = compressible(fmt)
    encoding = negotiate(accept_encoding) if negotiated else "identity"
    etag = encoded_etag(published.etag(ref, fmt), encoding)
    last_modified = ref.last_modified
    if not_modified(if_none_match, if_modified_since, etag, last_modified):
        return unchanged(etag, last_modified, cache_control, negotiated=negotiated)
    rendering = await published_cache.rendering(sessions, ref, fmt)
    return answer(rendering, cache_control, encoding)


@router.get("/changes", response_model=ChangeFeed)
def list_published_changes(
    session: SessionDep,
    since: Annotated[
        str | None, Query(max_length=64, description="`next` from the previous answer")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="at most 1,000")] = 100,
) -> ChangeFeed:
    """Every publish (`kind` "catalogue") and every record change (`kind` "record", each
    record at its latest state), oldest first. Keep the last `next` and ask again with
    `since=` to get only what changed after it; nothing is skipped or repeated."""
    after, after_record = records.parse_feed_cursor(since)
    publishes = publication.changes(session, after=after, limit=limit)
    record_rows = records.changes(session, after=after_record, limit=limit)
    page: list[PublishedChange | RecordChange] = []
    p = r = 0
    # A merge that always takes the older head keeps what it takes a prefix of each
    # sequence, so the two numbers in `next` never pass over anything.
    while len(page) < limit and (p < len(publishes) or r < len(record_rows)):
        if r >= len(record_rows) or (
            p < len(publishes) and publishes[p].published_at <= record_rows[r].changed_at
        ):
            ref = publishes[p]
            p += 1
            after = ref.feed_seq
            page.append(
                PublishedChange(
                    unit_code=ref.unit_code,
                    domain_code=ref.domain_code,
                    version=ref.number,
                    published_on=ref.published_on,
                    published_at=ref.published_at,
                    published_url=ref.published_url,
                    href=ref.href,
                )
            )
        else:
            row = record_rows[r]
            r += 1
            after_record = row.seq
            page.append(
                RecordChange(
                    unit_code=row.unit_code,
                    domain_code=row.domain_code,
                    record_id=row.record_id,
                    item_id=row.item_id,
                    url=row.url,
                    deleted=row.deleted,
                    changed_at=row.changed_at,
                    href=f"{publication.PUBLIC_PREFIX}/units/{row.unit_code}/catalogues/"
                    f"{row.domain_code}/records",
                )
            )
    return ChangeFeed(
        changes=page,
        next=records.feed_cursor(after, after_record),
        has_more=p < len(publishes) or r < len(record_rows),
    )


# ---- the edge: CORS, and answers from memory ---------------------------------------------

_PUBLIC_PATH = "/api/v1/public/"
_UNITS_PATH = "/api/v1/public/units/"
_CORS_HEADERS = [
    (b"access-control-allow-origin", b"*"),
    (b"access-control-expose-headers", b"ETag, Last-Modified, Content-Disposition"),
]
_PREFLIGHT_HEADERS = [
    (b"access-control-allow-origin", b"*"),
    (b"access-control-allow-methods", b"GET, HEAD"),
    (b"access-control-allow-headers", b"If-None-Match, If-Modified-Since"),
    (b"access-control-max-age", b"86400"),
    (b"content-length", b"0"),
]
_FORMATS = {f.value: f for f in Format}

Answer = tuple[int, list[tuple[str, str]], bytes]


def _query(raw: bytes) -> tuple[int | None, Format] | None:
    """`version` and `format` when they are plainly valid; None sends the request on to the
    route, which validates everything else (and ignores unknown parameters, as here)."""
    number: int | None = None
    fmt = Format.json
    seen: set[str] = set()
    for pair in raw.decode("latin-1").split("&") if raw else ():
        name, _, value = pair.partition("=")
        if name in seen:
            return None
        seen.add(name)
        if name == "version":
            if not value.isdecimal() or value[0] == "0" or len(value) > 9:
                return None
            number = int(value)
        elif name == "format":
            if value not in _FORMATS:
                return None
            fmt = _FORMATS[value]
        elif name == "" or "%" in name:
            return None
    return number, fmt


def _remembered(scope: Scope) -> Answer | None:
    """The answer the routes above would give, when this process already holds it."""
    path: str = scope["path"]
    if not path.startswith(_UNITS_PATH):
        return None
    parts = path[len(_UNITS_PATH) :].split("/")
    if len(parts) == 4 and parts[3] == "records":
        return _remembered_column(scope, parts)
    if len(parts) not in (2, 3) or parts[1] != "catalogues" or not all(parts):
        return None
    if not UNIT_CODE.fullmatch(parts[0]) or (
        len(parts) == 3 and not DOMAIN_CODE.fullmatch(parts[2])
    ):
        return None  # the route answers 422
    query = _query(scope["query_string"])
    if query is None:
        return None
    if_none_match = if_modified_since = accept_encoding = None
    for name, value in scope["headers"]:
        if name == b"if-none-match":
            if_none_match = value.decode("latin-1")
        elif name == b"if-modified-since":
            if_modified_since = value.decode("latin-1")
        elif name == b"accept-encoding":
            accept_encoding = value.decode("latin-1")

    rendering: Rendering | None
    if len(parts) == 2:
        if query != (None, Format.json):
            return None
        listing = published_cache.remembered_listing(parts[0])
        if listing is None:
            return None
        cache_control = LATEST_CACHE
        encoding = negotiate(accept_encoding)
        etag, last_modified = (
            encoded_etag(published.unit_etag(listing), encoding),
            published.unit_last_modified(listing),
        )
        if not_modified(if_none_match, if_modified_since, etag, last_modified):
            headers = unchanged_headers(etag, last_modified, cache_control, negotiated=True)
            return 304, headers, b""
        rendering = published_cache.remembered_unit_rendering(listing)
    else:
        number, fmt = query
        ref = published_cache.remembered_version(parts[0], parts[2], number)
        if ref is None:
            return None
        cache_control = LATEST_CACHE if number is None else PINNED_CACHE
        negotiated = compressible(fmt)
        encoding = negotiate(accept_encoding) if negotiated else "identity"
        etag = encoded_etag(published.etag(ref, fmt), encoding)
        last_modified = ref.last_modified
        if not_modified(if_none_match, if_modified_since, etag, last_modified):
            headers = unchanged_headers(etag, last_modified, cache_control, negotiated=negotiated)
            return 304, headers, b""
        rendering = published_cache.remembered_rendering(ref, fmt)
    if rendering is None:
        return None
    return _answer_headers(rendering, cache_control, encoding)


def _answer_headers(rendering: Rendering, cache_control: str, encoding: str) -> Answer:
    body, _ = rendering.variant(encoding)
    headers = [
        ("content-type", rendering.media_type),
        ("content-length", str(len(body))),
        *body_headers(rendering, cache_control, encoding),
    ]
    return 200, headers, body


_COLUMN_FORMATS = {"": "json", "format=json": "json", "format=html": "html"}
_COLUMN_FORMATS["format=fragment"] = "fragment"


def _remembered_column(scope: Scope, parts: list[str]) -> Answer | None:
    """The records column (app/api/records.py) when this process holds its key and bytes."""
    fmt = _COLUMN_FORMATS.get(scope["query_string"].decode("latin-1"))
    if fmt is None or parts[1] != "catalogues" or not all(parts):
        return None
    key = record_column.remembered(parts[0], parts[2])
    if key is None:
        return None
    if_none_match = accept_encoding = None
    for name, value in scope["headers"]:
        if name == b"if-none-match":
            if_none_match = value.decode("latin-1")
        elif name == b"accept-encoding":
            accept_encoding = value.decode("latin-1")
    encoding = negotiate(accept_encoding)
    etag = encoded_etag(key.etag(fmt), encoding)
    if if_none_match is not None and etag_matches(if_none_match, etag):
        return 304, unchanged_headers(etag, None, LATEST_CACHE, negotiated=True), b""
    rendering = record_column.renderings.get((key, fmt))
    if rendering is None:
        return None
    return _answer_headers(rendering, LATEST_CACHE, encoding)


class PublicEdge:
    """In front of the public routes: CORS for any origin, and answers from memory.

    Pure ASGI, not BaseHTTPMiddleware: other paths pass straight through. Public GETs (and
    HEADs, answered as GETs) gain
    CORS headers (a browser preflights a GET that sends If-None-Match; that OPTIONS is
    answered here). A published catalogue this process already holds (its latest-version
    answer still fresh, its bytes made) is answered here, identically to the route but
    without FastAPI's routing and dependency solving, which cost more than the rest of such
    a request; everything else goes on to the routes, which fill the memory.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(_PUBLIC_PATH):
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        if method == "OPTIONS":
            await send(
                {"type": "http.response.start", "status": 204, "headers": _PREFLIGHT_HEADERS}
            )
            await send({"type": "http.response.body", "body": b""})
            return
        if method not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        if method == "HEAD":
            # Answered as a GET; the server (uvicorn) sends the headers and drops the body.
            scope = {**scope, "method": "GET"}
        if (known := _remembered(scope)) is not None:
            status, headers, body = known
            raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]
            await send(
                {"type": "http.response.start", "status": status, "headers": raw + _CORS_HEADERS}
            )
            await send({"type": "http.response.body", "body": body})
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *_CORS_HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_cors)
