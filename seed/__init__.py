"""load(session): idempotent upsert of seed/data by natural key, validated like API input."""

import json
from datetime import date
from pathlib import Path
from typing import Any

from sqlmodel import Session, SQLModel, func, select

from app.models.domain import Domain, DomainCreate
from app.models.guide import GuideItem
from app.models.item import ItemCreate
from app.models.milestone import Milestone
from app.models.unit import Unit, UnitCreate
from app.rules import quality
from app.services import milestones, stats

DATA = Path(__file__).parent / "data"


def _read(name: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads((DATA / name).read_text(encoding="utf-8"))
    return rows


def _upsert(session: Session, existing: SQLModel | None, new: SQLModel) -> int:
    """Insert or update; answers 1 when something changed, so a second run reports 0."""
    if existing is None:
        session.add(new)
        return 1
    values = new.model_dump(exclude={"id"})
    if all(getattr(existing, key) == value for key, value in values.items()):
        return 0
    existing.sqlmodel_update(values)
    session.add(existing)
    return 1


def load_domains(session: Session) -> int:
    changed = 0
    for row in _read("domains.json"):
        data = DomainCreate.model_validate(row)
        changed += _upsert(session, session.get(Domain, data.code), Domain.model_validate(data))
    return changed


def load_units(session: Session) -> int:
    changed = 0
    for row in _read("units.json"):  # parents come before their children in the file
        data = UnitCreate.model_validate(row)
        changed += _upsert(session, session.get(Unit, data.code), Unit.model_validate(data))
        session.flush()
    return changed


def load_milestones(session: Session) -> int:
    """Insert the notice's milestones that are missing; never overwrite one, since the
    auditor moves dates and changes obligations through the API."""
    changed = 0
    for position, row in enumerate(_read("milestones.json"), start=1):
        if session.get(Milestone, row["code"]) is not None:
            continue
        milestone = Milestone(
            code=row["code"],
            title=row["title"],
            due_on=date.fromisoformat(row["due_on"]),
            event=row["event"],
            unit_kinds=row["unit_kinds"],
            domains=row["domains"],
            position=position,
            counts_from=date.fromisoformat(row["counts_from"]) if row.get("counts_from") else None,
        )
        changed += _upsert(session, None, milestone)
        session.flush()
        # `pilot` / `all` resolved now: a domain added later is not obliged by this milestone
        milestones.set_domains(
            session, milestone, milestones.resolve_domains(session, row["domains"])
        )
    return changed


def load_guide_items(session: Session) -> int:
    """Upsert the guide; the catalogues of every domain whose guide changed get their
    coverage counts recomputed (a new or renamed guide item may now match their items)."""
    existing = {(g.domain_code, g.first_level, g.name): g for g in session.exec(select(GuideItem))}
    changed = 0
    domains: set[str] = set()
    seen: set[tuple[str, str, str]] = set()
    for row in _read("guide_items.json"):
        # The same rules as an editor's item: a guide item must be a valid ITEM.
        data = ItemCreate.model_validate(
            {key: row[key] for key in ItemCreate.model_fields if key in row}
        )
        guide = GuideItem(
            **data.model_dump(exclude={"position"}),
            domain_code=row["domain_code"],
            position=row["position"],
            source_url=row.get("source_url"),
        )
        quality.refresh_guide_item(guide)  # so an unchanged row compares equal
        key = (guide.domain_code, guide.first_level, guide.name)
        seen.add(key)
        if _upsert(session, existing.get(key), guide):
            changed += 1
            domains.add(guide.domain_code)
    gone = [guide for key, guide in existing.items() if key not in seen]
    for guide in gone:  # no longer in the guide: its waivers go with it (ON DELETE CASCADE)
        session.delete(guide)
        domains.add(guide.domain_code)
    session.flush()
    stats.refresh_domains(session, domains)
    return changed + len(gone)


def load(session: Session) -> dict[str, int]:
    """Load every seed file; answers how many rows each inserted or changed."""
    counts = {
        "domains": load_domains(session),
        "units": load_units(session),
        "milestones": load_milestones(session),
    }
    session.flush()
    counts["guide_items"] = load_guide_items(session)
    session.flush()
    return counts


SEEDED = {"domains": Domain, "units": Unit, "milestones": Milestone, "guide_items": GuideItem}


def summary(session: Session, changed: dict[str, int]) -> str:
    """One line an operator can read: what is there now, and what this run added or changed."""
    parts = []
    for name, table in SEEDED.items():
        present = session.exec(select(func.count()).select_from(table)).one()
        parts.append(f"{name}: {present} ({changed.get(name, 0)} added or changed)")
    return ", ".join(parts)
