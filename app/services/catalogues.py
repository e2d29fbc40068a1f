"""标准目录 / catalogues: exist on first use; applicability, compile and publish."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import Session, col, select

from app import faults
from app.auth import Principal
from app.errors import Conflict, invalid
from app.models.catalogue import (
    Catalogue,
    CataloguePublic,
    CatalogueSummary,
    CatalogueVersion,
)
from app.models.common import Status, utcnow
from app.models.domain import Domain
from app.models.item import Item, ItemPublic
from app.models.unit import Unit
from app.services import history, publication, stats
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


def ensure(session: Session, catalogue: Catalogue) -> Catalogue:
    """Save a catalogue on its first write (it exists on first use).

    Two first writes may race (PostgreSQL; SQLite's BEGIN IMMEDIATE serialises them): the
    loser's INSERT meets the unique key, is rolled back to its savepoint, and this object
    becomes the winner's row, so the write goes on instead of answering 500."""
    if catalogue.id is not None:
        return catalogue
    try:
        with session.begin_nested():
            session.add(catalogue)
            session.flush()
    except IntegrityError:
        catalogue.id = session.exec(
            select(Catalogue.id).where(
                Catalogue.unit_code == catalogue.unit_code,
                Catalogue.domain_code == catalogue.domain_code,
            )
        ).one()
        make_transient_to_detached(catalogue)
        session.add(catalogue)
        session.refresh(catalogue)
    return catalogue


def lock(session: Session, catalogue: Catalogue) -> None:
    """Serialise writers of one catalogue (PostgreSQL row lock; SQLite's BEGIN IMMEDIATE)."""
    ensure(session, catalogue)
    session.refresh(catalogue, with_for_update=True)


@contextmanager
def changing(
    session: Session, catalogue: Catalogue, *, action: str, actor: Principal
) -> Iterator[None]:
    """Lock the catalogue, let the caller change it, then save and log before → after.

    A rule the caller raises inside the block leaves nothing recorded (the request's
    transaction rolls back)."""
    lock(session, catalogue)
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


def _not_in_future(field: str, day: date) -> None:
    if day > date.today():
        raise invalid(
            ("body", field),
            f"{field} 不能晚于今天 / {field} cannot be in the future",
            "date_in_future",
        )


def _require_complete(session: Session, catalogue: Catalogue, verb: str) -> list[Item]:
    if not catalogue.applicable:
        raise Conflict(f"该领域已声明不适用，不能{verb} / the domain is declared not applicable")
    rows = item_service.ordered(session, catalogue.id) if catalogue.id else []
    if not rows:
        raise invalid(("body",), "目录没有任何事项 / the catalogue has no items", "catalogue_empty")
    lacking = [item for item in rows if item.lacking]
    if lacking:
        raise RequestValidationError(
            [
                {
                    "loc": ("items", item.id, attribute),
                    "msg": (
                        f"事项“{item.name}”缺少必填要素 {attribute} / item {item.id} "
                        f"({item.name}) lacks the required attribute {attribute}"
                    ),
                    "type": "attribute_missing",
                }
                for item in lacking
                for attribute in item.missing
            ]
        )
    return rows


def compile(session: Session, catalogue: Catalogue, *, on: date, actor: Principal) -> Catalogue:
    """编制完成: the working copy is complete and ready to publish."""
    _not_in_future("compiled_on", on)
    with changing(session, catalogue, action="compile", actor=actor):
        _require_complete(session, catalogue, "编制")
        catalogue.status = Status.compiled
        catalogue.compiled_on = on
        catalogue.first_compiled_on = catalogue.first_compiled_on or on
    return catalogue


def publish(
    session: Session, catalogue: Catalogue, *, on: date, url: str, actor: Principal
) -> CatalogueVersion:
    """发布: freeze the working copy, complete and compiled once, as the next version."""
    _not_in_future("published_on", on)
    with changing(session, catalogue, action="publish", actor=actor):
        # The first publish needs a compile; a revised catalogue is republished as it stands,
        # re-checked for completeness under the same lock, so a busy office is never starved.
        if catalogue.first_compiled_on is None:
            raise Conflict(
                "目录尚未编制完成，不能发布 / a catalogue must be compiled before its first publish"
            )
        if catalogue.compiled_on and on < catalogue.compiled_on:
            raise invalid(
                ("body", "published_on"),
                "发布日期不能早于编制日期 / published_on cannot precede compiled_on",
                "date_order",
            )
        rows = _require_complete(session, catalogue, "发布")
        catalogue.version += 1
        catalogue.status = Status.published
        catalogue.published_on = on
        catalogue.published_url = url
        catalogue.first_published_on = catalogue.first_published_on or on
        assert catalogue.id is not None
        version = CatalogueVersion(
            catalogue_id=catalogue.id,
            unit_code=catalogue.unit_code,
            domain_code=catalogue.domain_code,
            number=catalogue.version,
            published_on=on,
            published_url=url,
            item_count=len(rows),
            first_level_count=len({item.first_level for item in rows}),
            items=[item_service.snapshot(item) for item in rows],
            feed_seq=publication.next_feed_seq(session),  # takes the feed lock until commit
        )
        session.add(version)
        session.flush()
        stats.refresh(session, catalogue)  # the first version's date
        publication.announce(session, version)
    session.flush()
    faults.pause_after_flush("publish")
    return version


def correct_dates(
    session: Session,
    catalogue: Catalogue,
    *,
    first_compiled_on: date | None,
    first_published_on: date | None,
    actor: Principal,
) -> Catalogue:
    """The auditor corrects a recorded first compile / publish date (an office typed the
    wrong day). Only a recorded date can be corrected; the latest date moves with it when
    it is the same event. Published versions stay as they were."""
    for field, new, old in (
        ("first_compiled_on", first_compiled_on, catalogue.first_compiled_on),
        ("first_published_on", first_published_on, catalogue.first_published_on),
    ):
        if new is None:
            continue
        if old is None:
            raise Conflict(
                f"{field} 尚未记录，无从更正 / {field} was never recorded; nothing to correct"
            )
        _not_in_future(field, new)
    with changing(session, catalogue, action="correct_dates", actor=actor):
        if first_compiled_on is not None:
            if catalogue.compiled_on == catalogue.first_compiled_on:
                catalogue.compiled_on = first_compiled_on
            catalogue.first_compiled_on = first_compiled_on
        if first_published_on is not None:
            if catalogue.published_on == catalogue.first_published_on:
                catalogue.published_on = first_published_on
            catalogue.first_published_on = first_published_on
        if (
            catalogue.first_compiled_on
            and catalogue.first_published_on
            and catalogue.first_published_on < catalogue.first_compiled_on
        ):
            raise invalid(
                ("body", "first_published_on"),
                (
                    "首次发布日期不能早于首次编制日期 / first_published_on cannot precede "
                    "first_compiled_on"
                ),
                "date_order",
            )
    return catalogue
