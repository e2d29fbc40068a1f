"""The one write path for a catalogue: its lock, and the steps every change to it takes.

Every writer of a catalogue's contents (items create/update/delete, an import or a fill
from the guide, a waiver put or removed) goes through `contents`:

    lock → change (the caller's block) → reopen → flush → stats.refresh → history

Items' derived columns (name_key, flags, lacking) are not computed here: the ORM event in
app/models/item.py computes them once, at the flush, from app/rules/quality.py.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from app.models.catalogue import Catalogue
from app.models.common import Status, utcnow
from app.principal import Principal
from app.services import history, stats


def ensure(session: Session, catalogue: Catalogue) -> Catalogue:
    """Save a catalogue on its first write (it exists on first use)."""
    if catalogue.id is None:
        session.add(catalogue)
        session.flush()
    return catalogue


def lock(session: Session, catalogue: Catalogue) -> None:
    """Serialise writers of one catalogue (PostgreSQL row lock; SQLite's BEGIN IMMEDIATE)."""
    ensure(session, catalogue)
    session.refresh(catalogue, with_for_update=True)


def reopen(catalogue: Catalogue) -> None:
    """Any edit of the contents reopens the working copy: it must be compiled (and
    published) again. The caller holds the catalogue's lock."""
    catalogue.status = Status.draft
    catalogue.updated_at = utcnow()


Later = Callable[[], Any]
"""A value known only after the flush (a new row's id, its snapshot)."""


@dataclass
class Contents:
    """What a writer tells `contents` it changed: one history entry per call to `log`."""

    entries: list[dict[str, Any]] = field(default_factory=list)

    def log(
        self,
        action: str,
        entity: str,
        entity_id: object = None,
        *,
        before: Any = None,
        after: Any = None,
        note: str | None = None,
    ) -> None:
        """Record one change; entity_id and after may be callables read after the flush."""
        self.entries.append(
            {
                "action": action,
                "entity": entity,
                "entity_id": entity_id,
                "before": before,
                "after": after,
                "note": note,
            }
        )


def _now(value: Any) -> Any:
    return value() if callable(value) else value


@contextmanager
def contents(
    session: Session, catalogue: Catalogue, *, actor: Principal, reopens: bool = True
) -> Iterator[Contents]:
    """Change a catalogue's contents under its lock; nothing logged means nothing changed.

    After the caller's block: the working copy reopens (unless `reopens` is False: a
    waiver leaves the catalogue's status alone), the session flushes (the ORM event
    derives each item's stored columns), the catalogue's stored counts are recomputed,
    and each logged change is recorded in the history. A rule the caller raises inside
    the block leaves nothing recorded (the request's transaction rolls back)."""
    lock(session, catalogue)
    change = Contents()
    yield change
    if change.entries and reopens:
        reopen(catalogue)
        session.add(catalogue)
    session.flush()
    if not change.entries:
        return
    stats.refresh(session, catalogue)
    for entry in change.entries:
        history.record(
            session,
            actor,
            catalogue=catalogue,
            **{name: _now(value) for name, value in entry.items()},
        )
    session.flush()
