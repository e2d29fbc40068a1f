"""目录的生命周期 / a catalogue's lifecycle: compile, publish, and an auditor's date corrections.

Each step changes the catalogue's own columns through catalogues.changing (lock → change →
save → history); publish also freezes the items as the next version and announces it."""

from datetime import date

from sqlmodel import Session

from app import faults
from app.errors import Conflict, invalid, invalid_all
from app.models.catalogue import Catalogue, CatalogueVersion
from app.models.common import ATTRIBUTE_LABELS, Status, today_in_beijing
from app.models.domain import Domain
from app.models.item import Item
from app.models.unit import Unit
from app.principal import Principal
from app.rules.attributes import event_date_problem
from app.services import items as item_service
from app.services import publication, published_cache, record_column, stats
from app.services.catalogues import changing


def _not_in_future(field: str, day: date) -> None:
    """An event date must be possible: not in the future, not before 2000."""
    if (problem := event_date_problem(field, day, today_in_beijing())) is not None:
        raise invalid(("body", field), problem[1], problem[0])


def frozen_names(session: Session, catalogue: Catalogue) -> tuple[str, str]:
    """The unit's and domain's names as a new version stores them (never read live again)."""
    unit = session.get(Unit, catalogue.unit_code)
    domain = session.get(Domain, catalogue.domain_code)
    return (
        unit.name if unit is not None else catalogue.unit_code,
        domain.name if domain is not None else catalogue.domain_code,
    )


def _require_complete(session: Session, catalogue: Catalogue, verb: str) -> list[Item]:
    if not catalogue.applicable:
        raise Conflict(f"该领域已声明不适用，不能{verb} / the domain is declared not applicable")
    rows = item_service.ordered(session, catalogue.id) if catalogue.id else []
    if not rows:
        raise invalid(("body",), "目录没有任何事项 / the catalogue has no items", "catalogue_empty")
    lacking = [item for item in rows if item.lacking]
    if lacking:
        raise invalid_all(
            [
                {
                    "loc": ("items", item.id, attribute),
                    "msg": (
                        f"第 {item.position} 项“{item.name}”（事项ID {item.id}）缺少"
                        f"{ATTRIBUTE_LABELS[attribute]} / item {item.id} at position "
                        f"{item.position} ({item.name}) lacks the required attribute {attribute}"
                    ),
                    "type": "attribute_missing",
                    "item_id": item.id,
                    "position": item.position,
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
            _require_complete(session, catalogue, "发布")  # what is missing comes first
            raise Conflict(
                "目录尚未编制完成，不能发布 / a catalogue must be compiled before its first publish"
            )
        if catalogue.published_on and on < catalogue.published_on:
            raise invalid(
                ("body", "published_on"),
                f"发布日期不能早于上一版的发布日期 {catalogue.published_on} / published_on cannot "
                f"precede the previous version's ({catalogue.published_on})",
                "date_order",
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
        unit_name, domain_name = frozen_names(session, catalogue)
        version = CatalogueVersion(
            catalogue_id=catalogue.id,
            unit_code=catalogue.unit_code,
            domain_code=catalogue.domain_code,
            unit_name=unit_name,
            domain_name=domain_name,
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
        published_cache.announce(session, version)
        record_column.announce(session, [catalogue.id])  # the column shows the new version
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
