"""The standard-table view of a working copy (app/render/table.py's input); its files are
app/render/published.py's `render`, as a published version's are."""

from sqlmodel import Session

from app.models.catalogue import Catalogue
from app.models.domain import Domain
from app.models.item import Item
from app.models.unit import Unit
from app.render import table
from app.render.table import CatalogueItem, CatalogueView
from app.rules.attributes import ITEM_ATTRIBUTES
from app.services import items as item_service

ITEM_FIELDS = (*ITEM_ATTRIBUTES, "position")


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
