"""标准目录 / catalogues: exist on first use; reading, applicability, and `changing`, the
write path of a catalogue's own columns (compile and publish live in lifecycle.py)."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlmodel import Session, col, select

from app.models.catalogue import (
    Catalogue,
    CataloguePublic,
    CatalogueSummary,
)
from app.models.common import Status, utcnow
from app.models.domain import Domain
from app.models.item import ItemPublic
from app.models.unit import Unit
from app.principal import Principal
from app.services import history, locks
from app.services import items as item_service


def etag(catalogue: Catalogue) -> str:
    return f'"c{catalogue.id or 0}.{catalogue.revision}"'


def find(session: Session, unit_code: str, domain_code: str) -> Catalogue | None:
    return session.exec(
        select(Catalogue).where(
            Catalogue.unit_code == unit_code, Catalogue.domain_code == domain_code
        )
    ).first()


def get_or_new(session: Session, unit: Unit, domain: Domain) -> Catalogue:
    """The catalogue, or an unsaved empty draft: reading never creates anything."""
    return find(session, unit.code, domain.code) or Catalogue(
        unit_code=unit.code, domain_code=domain.code
    )


@contextmanager
def changing(
    session: Session, catalogue: Catalogue, *, action: str, actor: Principal
) -> Iterator[None]:
    """Lock the catalogue, let the caller change it, then save and log before → after.

    A rule the caller raises inside the block leaves nothing recorded (the request's
    transaction rolls back)."""
    locks.lock(session, catalogue)
    before = snapshot(catalogue)
    yield
    catalogue.updated_at = utcnow()
    session.add(catalogue)
    session.flush()
    history.record(
        session,
        actor,
        action=action,
        entity="catalogue",
        entity_id=catalogue.id,
        catalogue=catalogue,
        before=before,
        after=snapshot(catalogue),
    )


def snapshot(catalogue: Catalogue) -> dict[str, Any]:
    return catalogue.model_dump(
        include={
            "first_compiled_on",
            "first_published_on",
            "applicable",
            "not_applicable_reason",
            "status",
            "compiled_on",
            "published_on",
            "published_url",
            "version",
        },
        mode="json",
    )


def to_public(session: Session, catalogue: Catalogue) -> CataloguePublic:
    rows = item_service.ordered(session, catalogue.id) if catalogue.id else []
    return CataloguePublic.model_validate(
        {
            **catalogue.model_dump(),
            "items": [ItemPublic.model_validate(item) for item in rows],
        }
    )


def summaries(session: Session, unit: Unit) -> list[CatalogueSummary]:
    """One row per domain: the saved catalogues and, for the rest, an empty draft.

    The counts are the ones every writer keeps on the catalogue (services/stats.py), so
    this reads one row per domain whatever the number of items."""
    rows = session.exec(
        select(Domain, Catalogue)
        .join(
            Catalogue,
            (col(Catalogue.domain_code) == col(Domain.code))
            & (col(Catalogue.unit_code) == unit.code),
            isouter=True,
        )
        .order_by(col(Domain.code))
    ).all()
    return [
        CatalogueSummary(
            unit_code=unit.code,
            domain_code=domain.code,
            domain_name=domain.name,
            status=catalogue.status if catalogue else Status.draft,
            applicable=catalogue.applicable if catalogue else True,
            item_count=catalogue.item_count if catalogue else 0,
            lacking_count=catalogue.lacking_count if catalogue else 0,
            version=catalogue.version if catalogue else 0,
        )
        for domain, catalogue in rows
    ]


def set_applicability(
    session: Session,
    catalogue: Catalogue,
    *,
    applicable: bool,
    reason: str | None,
    actor: Principal,
) -> Catalogue:
    with changing(session, catalogue, action="applicability", actor=actor):
        catalogue.applicable = applicable
        catalogue.not_applicable_reason = None if applicable else reason
    return catalogue
