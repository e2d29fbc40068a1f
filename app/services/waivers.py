"""指引事项豁免 / a catalogue's waivers: standard-guide items it leaves out, with the reason."""

from sqlmodel import Session, col, select

from app.errors import NotFound, invalid_all
from app.models.catalogue import Catalogue
from app.models.guide import GuideItem, GuideWaiver, WaiverPublic
from app.principal import Principal
from app.services import locks


def _snapshot(waiver: GuideWaiver) -> dict[str, object]:
    return {"guide_item_id": waiver.guide_item_id, "reason": waiver.reason}


def etag(waiver: GuideWaiver) -> str:
    return f'"w{waiver.id}.{waiver.revision}"'


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
        etag=etag(waiver),
    )


def put(
    session: Session, catalogue: Catalogue, guide: GuideItem, *, reason: str, actor: Principal
) -> GuideWaiver:
    """Waive a guide item of the catalogue's own domain, or change the reason."""
    if guide.domain_code != catalogue.domain_code:
        raise invalid_all(
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
    with locks.contents(session, catalogue, actor=actor, reopens=False) as change:
        assert catalogue.id is not None
        assert guide.id is not None
        waiver = find(session, catalogue, guide)
        before = _snapshot(waiver) if waiver else None
        if waiver is None:
            waiver = GuideWaiver(catalogue_id=catalogue.id, guide_item_id=guide.id, reason=reason)
        waiver.reason = reason
        session.add(waiver)
        change.log("waive", "guide_waiver", guide.id, before=before, after=_snapshot(waiver))
    return waiver


def delete(session: Session, catalogue: Catalogue, guide: GuideItem, *, actor: Principal) -> None:
    waiver = find(session, catalogue, guide)
    if waiver is None:
        raise NotFound(
            f"标准指引事项 {guide.id} 未被豁免 / guide item {guide.id} is not waived here"
        )
    with locks.contents(session, catalogue, actor=actor, reopens=False) as change:
        before = _snapshot(waiver)
        session.delete(waiver)
        change.log("unwaive", "guide_waiver", guide.id, before=before)
