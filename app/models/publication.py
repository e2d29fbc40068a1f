"""What website teams read: published catalogues as trees, and the change feed (no tables);
`VersionRef` and `UnitListing`, the small immutable handles the public side caches.

The catalogue routes serve precomputed bytes, so these models document the JSON shape in
the OpenAPI contract rather than build each response.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.utils import format_datetime
from functools import cached_property
from typing import Annotated, Literal

from pydantic import Field
from sqlmodel import SQLModel

from app.models.item import ItemAttributes
from app.models.record import RecordChange

PUBLIC_PREFIX = "/api/v1/public"


def href(unit_code: str, domain_code: str, number: int) -> str:
    return f"{PUBLIC_PREFIX}/units/{unit_code}/catalogues/{domain_code}?version={number}"


def http_date(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC), usegmt=True)


@dataclass(frozen=True)
class VersionRef:
    """Everything about one published version except its items: small, hashable, immutable."""

    id: int
    unit_code: str
    unit_name: str
    domain_code: str
    domain_name: str
    number: int
    published_on: date
    published_url: str
    published_at: datetime
    feed_seq: int

    @property
    def href(self) -> str:
        return href(self.unit_code, self.domain_code, self.number)

    @cached_property
    def last_modified(self) -> str:
        return http_date(self.published_at)


@dataclass(frozen=True)
class UnitListing:
    """A unit and the latest version of each of its published catalogues, by domain code."""

    unit_code: str
    unit_name: str
    versions: tuple[VersionRef, ...]


class PublishedItem(ItemAttributes):
    """二级事项 / a second-level item as published; `id` is the same in every version."""

    id: int


class PublishedFirstLevel(SQLModel):
    """一级事项 / a first-level item and its second-level items, in display order."""

    name: str
    position: int
    items: list[PublishedItem]


class PublishedCatalogue(SQLModel):
    """One published version of a unit's catalogue for one domain: domain → first → second."""

    unit_code: str
    unit_name: str
    domain_code: str
    domain_name: str
    version: int
    published_on: date
    published_url: str
    published_at: datetime
    href: str
    first_level_items: list[PublishedFirstLevel]


class PublishedUnit(SQLModel):
    """Every published catalogue of a unit, each its latest version, by domain code."""

    unit_code: str
    unit_name: str
    catalogues: list[PublishedCatalogue]


class PublishedChange(SQLModel):
    """One publish, as the change feed lists it."""

    kind: Literal["catalogue"] = "catalogue"
    unit_code: str
    domain_code: str
    version: int
    published_on: date
    published_at: datetime
    published_url: str
    href: str


class ChangeFeed(SQLModel):
    """Publishes and record changes oldest first; pass `next` back as `since` (also when
    `changes` is empty). `kind` tells a publish ("catalogue") from a record ("record")."""

    changes: list[Annotated[PublishedChange | RecordChange, Field(discriminator="kind")]]
    next: str
    has_more: bool
