"""The standard-table view of a catalogue (app/render/table.py's input) and its files."""

from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote

from sqlmodel import Session

from app.models.catalogue import Catalogue
from app.models.domain import Domain
from app.models.item import Item
from app.models.unit import Unit
from app.render import table
from app.render.table import CatalogueItem, CatalogueView
from app.rules.attributes import ITEM_ATTRIBUTES
from app.services import items as item_service

FileFormat = Literal["xlsx", "csv", "html"]
ITEM_FIELDS = (*ITEM_ATTRIBUTES, "position")
MEDIA_TYPES: dict[str, str] = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
    "html": "text/html; charset=utf-8",
}


def item_view(item: Item) -> CatalogueItem:
    return table.catalogue_item({name: getattr(item, name) for name in ITEM_FIELDS})


def catalogue_view(session: Session, catalogue: Catalogue) -> CatalogueView:
    """The working copy (草稿 / draft) as the table shows it: not a published version, so
    version, published_on and published_url are left empty."""
    unit = session.get(Unit, catalogue.unit_code)
    domain = session.get(Domain, catalogue.domain_code)
    rows = item_service.ordered(session, catalogue.id) if catalogue.id else []
    return {
        "unit_code": catalogue.unit_code,
        "unit_name": unit.name if unit else catalogue.unit_code,
        "domain_code": catalogue.domain_code,
        "domain_name": domain.name if domain else catalogue.domain_code,
        "version": None,
        "published_on": None,
        "published_url": None,
        "items": [item_view(item) for item in rows],
    }


@dataclass(frozen=True)
class RenderedFile:
    content: bytes
    media_type: str
    disposition: str
    """Content-Disposition: an ASCII filename plus the Chinese title (RFC 6266 filename*)."""


def render(view: CatalogueView, file_format: FileFormat) -> RenderedFile:
    """The standard table as an XLSX or CSV download, or an HTML page."""
    renderers = {"xlsx": table.render_xlsx, "csv": table.render_csv, "html": table.render_html}
    content = renderers[file_format](view)
    stem = f"{view['unit_code']}-{view['domain_code']}"
    kind = "inline" if file_format == "html" else "attachment"
    disposition = (
        f'{kind}; filename="{stem}.{file_format}"; '
        f"filename*=UTF-8''{quote(f'{stem}-{table.title(view)}.{file_format}')}"
    )
    return RenderedFile(content, MEDIA_TYPES[file_format], disposition)
