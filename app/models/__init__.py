"""The tables: the naming convention is set before any table module is imported."""

from sqlmodel import SQLModel

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

from app.models.calendar import CalendarDay, CalendarYear  # noqa: E402
from app.models.catalogue import Catalogue, CatalogueVersion  # noqa: E402
from app.models.dashboard import DashboardSession  # noqa: E402
from app.models.domain import Domain  # noqa: E402
from app.models.guide import GuideItem, GuideWaiver  # noqa: E402
from app.models.history import Change  # noqa: E402
from app.models.item import Item  # noqa: E402
from app.models.milestone import Milestone, Opinion  # noqa: E402
from app.models.token import ApiToken  # noqa: E402
from app.models.unit import Unit  # noqa: E402

__all__ = [
    "ApiToken",
    "CalendarDay",
    "CalendarYear",
    "Catalogue",
    "CatalogueVersion",
    "Change",
    "DashboardSession",
    "Domain",
    "GuideItem",
    "GuideWaiver",
    "Item",
    "Milestone",
    "Opinion",
    "Unit",
]
