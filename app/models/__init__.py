"""The tables: the naming convention is set before any table module is imported."""

from sqlmodel import SQLModel

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

from app.models.annual_report import (  # noqa: E402
    AnnualReport,
    AnnualReportDueDate,
    AnnualReportVersion,
)
from app.models.calendar import CalendarDay, CalendarYear  # noqa: E402
from app.models.catalogue import Catalogue, CatalogueLists, CatalogueVersion  # noqa: E402
from app.models.dashboard import DashboardSession  # noqa: E402
from app.models.domain import Domain  # noqa: E402
from app.models.guide import GuideItem, GuideWaiver  # noqa: E402
from app.models.history import Change  # noqa: E402
from app.models.item import Item  # noqa: E402
from app.models.milestone import Milestone, MilestoneDomain, Opinion  # noqa: E402
from app.models.record import Record, RecordCount, RecordStamp  # noqa: E402
from app.models.request import DisclosureRequest, RequestEvent  # noqa: E402
from app.models.token import ApiToken  # noqa: E402
from app.models.unit import Unit  # noqa: E402


def _ids_never_reused() -> None:
    """Every table keyed by an integer `id` gets SQLite's AUTOINCREMENT, so a deleted
    row's id (and so its ETag) never comes back on another row; PostgreSQL sequences
    already behave so. Migration 0007 rebuilt the tables of its day; new tables get it
    from this (tests/test_migrations.py checks the database)."""
    for table in SQLModel.metadata.tables.values():
        keys = list(table.primary_key.columns)
        if len(keys) == 1 and keys[0].name == "id" and keys[0].type.python_type is int:
            table.dialect_options["sqlite"]["autoincrement"] = True


_ids_never_reused()

__all__ = [
    "AnnualReport",
    "AnnualReportDueDate",
    "AnnualReportVersion",
    "ApiToken",
    "CalendarDay",
    "CalendarYear",
    "Catalogue",
    "CatalogueLists",
    "CatalogueVersion",
    "Change",
    "DashboardSession",
    "DisclosureRequest",
    "Domain",
    "GuideItem",
    "GuideWaiver",
    "Item",
    "Milestone",
    "MilestoneDomain",
    "Opinion",
    "Record",
    "RecordCount",
    "RecordStamp",
    "RequestEvent",
    "Unit",
]
