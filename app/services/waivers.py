"""指引事项豁免 / a catalogue's waivers: standard-guide items it leaves out, with the reason."""

from fastapi.exceptions import RequestValidationError
from sqlmodel import Session, col, select

from app.auth import Principal
from app.errors import NotFound
from app.models.catalogue import Catalogue
from app.models.guide import GuideItem, GuideWaiver, WaiverPublic
from app.services import catalogues, history, stats


def _snapshot(waiver: GuideWaiver) -> dict[str, object]:
    return {"guide_item_id": waiver.guide_item_id, "reason": waiver.reason}


def find(session: Session, catalogue: Catalogue, guide: GuideItem) -> GuideWaiver | None:
    if catalogue.id is None:
        return None
    return session.exec(
        select(GuideWaiver).where(
            GuideWaiver.catalogue_id == catalogue.id, GuideWaiver.guide_item_id == guide.id
        )
    ).first()


def listed(session: Session, catalogue: Catalogue) -> list[WaiverPublic]:
    if catalogue.id is None:
        return []
    rows = session.exec(
        select(GuideWaiver, GuideItem)
        .join(GuideItem, col(GuideItem.id) == col(GuideWaiver.guide_item_id))
        .where(GuideWaiver.catalogue_id == catalogue.id)
        .order_by(col(GuideItem.position), col(GuideItem.id))
    ).all()
    return [public(waiver, guide) for waiver, guide in rows]


def public(waiver: GuideWaiver, guide: GuideItem) -> WaiverPublic:
    return WaiverPublic(
        guide_item_id=waiver.guide_item_id,
        first_level=guide.first_level,
        name=guide.name,
        reason=waiver.reason,
        created_at=waiver.created_at,
    )


def put(
    session: Session, catalogue: Catalogue, guide: GuideItem, *, reason: str, actor: Principal
) -> GuideWaiver:
    """Waive a guide item of the catalogue's own domain, or change the reason."""
    if guide.domain_code != catalogue.domain_code:
        raise RequestValidationError(
            [
                {
                    "loc": ("path", "guide_item_id"),
                    "msg": (
                        f"标准指引事项 {guide.id} 不属于领域 {catalogue.domain_code} / guide item "
                        f"{guide.id} is not in domain {catalogue.domain_code}"
                    ),
                    "type": "guide_item_domain",
                }
            ]
        )
    catalogues.lock(session, catalogue)
    assert catalogue.id is not None
    assert guide.id is not None
    waiver = find(session, catalogue, guide)
    before = _snapshot(waiver) if waiver else None
    if waiver is None:
        waiver = GuideWaiver(catalogue_id=catalogue.id, guide_item_id=guide.id, reason=reason)
    waiver.reason = reason
    session.add(waiver)
    session.flush()
    stats.refresh(session, catalogue)
    history.record(
        session,
        actor,
        action="waive",
        entity="guide_waiver",
        entity_id=guide.id,
        catalogue=catalogue,
        before=before,
        after=_snapshot(waiver),
    )
    return waiver


def delete(session: Session, catalogue: Catalogue, guide: GuideItem, *, actor: Principal) -> None:
    waiver = find(session, catalogue, guide)
    if waiver is None:
        raise NotFound(
            f"标准指引事项 {guide.id} 未被豁免 / guide item {guide.id} is not waived here"
        )
    catalogues.lock(session, catalogue)
    before = _snapshot(waiver)
    session.delete(waiver)
    history.record(
        session,
        actor,
        action="unwaive",
        entity="guide_waiver",
        entity_id=guide.id,
        catalogue=catalogue,
        before=before,
    )
    session.flush()
    stats.refresh(session, catalogue)
