"""A catalogue's renderings as HTTP answers: the one choice of renderer per format, the media
types, file names, strong ETags, and the compressed variants of a published version.

Pure: a function of a view (app/render/table.py's input) or of a published version's
frozen items. A published version's bytes never change, so they are compressed here, once,
when the rendering is made (gzip level 9; brotli quality 11, or 9 above 256 KB where 11
costs seconds for a few per cent), and kept with it; a request only chooses among them.
"""

from __future__ import annotations

import gzip
import hashlib
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import quote

import brotli
import openpyxl
import orjson

from app.models.common import iso_utc
from app.models.publication import UnitListing, VersionRef, http_date
from app.render import table
from app.render.table import CatalogueItem, CatalogueView


class Format(StrEnum):
    json = "json"
    html = "html"
    xlsx = "xlsx"
    csv = "csv"
    fragment = "fragment"


MEDIA_TYPES: dict[Format, str] = {
    Format.json: "application/json",
    Format.html: "text/html; charset=utf-8",
    Format.xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    Format.csv: "text/csv; charset=utf-8",
    Format.fragment: "text/html; charset=utf-8",
}
TABLE_FORMATS = (Format.xlsx, Format.csv, Format.html)
"""What a working copy (草稿 / draft) can be downloaded as."""

ENCODINGS = ("br", "gzip")
"""The content codings offered, the preferred first; XLSX, already a zip, gets none."""
GZIP_LEVEL = 9
BROTLI_QUALITY = 11
BROTLI_LARGE = 256_000
"""Above this many bytes brotli works at BROTLI_LARGE_QUALITY: quality 11 takes about 3 s
for a 1,000-item catalogue's 1.8 MB page, quality 9 a tenth of that, within 10 % of the
size (docs/benchmarks.md, "Compression")."""
BROTLI_LARGE_QUALITY = 9


def compressible(fmt: str) -> bool:
    return fmt != Format.xlsx


def compress(body: bytes) -> Mapping[str, bytes]:
    """Every encoding of `body`, deterministic (no timestamp), so every process that makes
    a version's bytes makes the same ones and the strong ETags hold across processes."""
    return MappingProxyType(
        {
            "br": brotli.compress(
                body, quality=BROTLI_QUALITY if len(body) <= BROTLI_LARGE else BROTLI_LARGE_QUALITY
            ),
            "gzip": gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0),
        }
    )


def encoded_etag(etag: str, encoding: str) -> str:
    """`"v1.json.x"` for the identity bytes, `"v1.json.x-gzip"`, `"v1.json.x-br"`."""
    if encoding == "identity":
        return etag
    return f'{etag[:-1]}-{encoding}"'


@dataclass(frozen=True)
class Rendering:
    body: bytes
    media_type: str
    etag: str
    """The identity bytes' strong ETag ("" for a working copy, which has none)."""
    last_modified: str | None
    filename: tuple[str, str] | None = None
    """(ASCII fallback, UTF-8 name) for a download; None for what a browser shows."""
    inline: bool = False
    """Content-Disposition says inline (a working copy's page), not attachment."""
    encoded: Mapping[str, bytes] = field(default_factory=lambda: MappingProxyType({}))
    """The same bytes per content coding ("br", "gzip"), made with the rendering."""

    def variant(self, encoding: str) -> tuple[bytes, str]:
        """The bytes and the ETag of one encoding ("identity", "gzip" or "br")."""
        if encoding == "identity":
            return self.body, self.etag
        return self.encoded[encoding], encoded_etag(self.etag, encoding)

    @property
    def size(self) -> int:
        """What it holds in memory, all encodings together."""
        return len(self.body) + sum(len(body) for body in self.encoded.values())

    @property
    def disposition(self) -> str | None:
        if self.filename is None:
            return None
        return content_disposition(self.filename, inline=self.inline)


def _renderer_tag() -> str:
    """Changes when the code that makes the bytes changes, so a strong ETag stays honest."""
    digest = hashlib.sha256(openpyxl.__version__.encode())
    digest.update(f"{brotli.__version__} {zlib.ZLIB_RUNTIME_VERSION}".encode())
    templates = Path(table.__file__).parent / "templates"
    for path in (
        Path(table.__file__),
        templates / "catalogue.html",
        templates / "catalogue_table.html",
        templates / "catalogue_fragment.html",
        Path(__file__),
    ):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:8]


RENDER_TAG = _renderer_tag()


def etag(ref: VersionRef, fmt: Format) -> str:
    return f'"v{ref.id}.{fmt}.{RENDER_TAG}"'


def unit_etag(listing: UnitListing) -> str:
    """The listing's name is the unit's current one (each version inside keeps its own), so
    the tag covers the name too: a rename changes the listing's bytes and its tag."""
    ids = ",".join(str(ref.id) for ref in listing.versions)
    key = f"{listing.unit_code}:{listing.unit_name}:{ids}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return f'"u{digest}.{RENDER_TAG}"'


def unit_last_modified(listing: UnitListing) -> str | None:
    if not listing.versions:
        return None
    return http_date(max(ref.published_at for ref in listing.versions))


def view(ref: VersionRef, items: list[dict[str, Any]]) -> CatalogueView:
    return {
        "unit_code": ref.unit_code,
        "unit_name": ref.unit_name,
        "domain_code": ref.domain_code,
        "domain_name": ref.domain_name,
        "version": ref.number,
        "published_on": ref.published_on,
        "published_url": ref.published_url,
        "items": [_item(item) for item in items],
    }


def _item(snapshot: dict[str, Any]) -> CatalogueItem:
    return table.catalogue_item(snapshot, id=snapshot.get("id"))


def tree(ref: VersionRef, items: list[dict[str, Any]]) -> dict[str, Any]:
    """The JSON shape (PublishedCatalogue): the renderer's tree plus when and where."""
    return _tree(view(ref, items), ref)


def _tree(catalogue: CatalogueView, ref: VersionRef) -> dict[str, Any]:
    data: dict[str, Any] = dict(table.render_tree(catalogue))
    data["published_at"] = iso_utc(ref.published_at)
    data["href"] = ref.href
    return data


def render_table(catalogue: CatalogueView, fmt: Format) -> bytes:
    """The one choice of renderer for the standard table's formats."""
    if fmt is Format.html:
        return table.render_html(catalogue)
    if fmt is Format.fragment:
        return table.render_fragment(catalogue)
    if fmt is Format.xlsx:
        return table.render_xlsx(catalogue)
    if fmt is Format.csv:
        return table.render_csv(catalogue)
    raise ValueError(f"{fmt} is not a table format")


def filename(catalogue: CatalogueView, fmt: Format) -> tuple[str, str]:
    """(ASCII, Chinese) file names: `350206-01.xlsx` for a working copy, `350206-01-v3.xlsx`
    and `…标准目录-第3版.xlsx` for a published version."""
    stem = f"{catalogue['unit_code']}-{catalogue['domain_code']}"
    number = catalogue["version"]
    if number is None:
        return f"{stem}.{fmt}", f"{stem}-{table.title(catalogue)}.{fmt}"
    return f"{stem}-v{number}.{fmt}", f"{table.title(catalogue)}-第{number}版.{fmt}"


def content_disposition(name: tuple[str, str], *, inline: bool = False) -> str:
    ascii_name, utf8_name = name
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(utf8_name)}"


def render(catalogue: CatalogueView, fmt: Format, ref: VersionRef | None = None) -> Rendering:
    """The bytes of a catalogue in one format, with what describes them.

    A working copy (no `ref`): a table as a file to download (the page inline), no ETag, no
    compression (it is private and made per request). A published version (`ref`): its
    strong ETag, Last-Modified, a file name for XLSX and CSV, and its compressed variants.
    """
    if fmt is Format.json:
        if ref is None:
            raise ValueError("a working copy's JSON is its API model, not a rendering")
        body = orjson.dumps(_tree(catalogue, ref))
    else:
        body = render_table(catalogue, fmt)
    if ref is None:
        return Rendering(
            body, MEDIA_TYPES[fmt], "", None, filename(catalogue, fmt), fmt is Format.html
        )
    return Rendering(
        body=body,
        media_type=MEDIA_TYPES[fmt],
        etag=etag(ref, fmt),
        last_modified=ref.last_modified,
        filename=filename(catalogue, fmt) if fmt in (Format.xlsx, Format.csv) else None,
        encoded=compress(body) if compressible(fmt) else MappingProxyType({}),
    )


def render_version(ref: VersionRef, items: list[dict[str, Any]], fmt: Format) -> Rendering:
    return render(view(ref, items), fmt, ref)


def render_unit(listing: UnitListing, parts: list[Rendering]) -> Rendering:
    """The unit's tree: each version's cached JSON joined, then compressed once."""
    head = orjson.dumps({"unit_code": listing.unit_code, "unit_name": listing.unit_name})
    body = head[:-1] + b',"catalogues":[' + b",".join(p.body for p in parts) + b"]}"
    return Rendering(
        body=body,
        media_type=MEDIA_TYPES[Format.json],
        etag=unit_etag(listing),
        last_modified=unit_last_modified(listing),
        encoded=compress(body),
    )
