"""item positions 1..n: renumber every catalogue's items without gaps or duplicates

Positions used to be whatever a client sent, so a catalogue could hold two items at 2 and
none at 1. Each catalogue's items are renumbered 1..n in their display order (position,
then id); an item whose position changes gets a new revision (its ETag changes with it).
Published versions keep their frozen items as they were.

Revision ID: 0200_defects_positions
Revises: 0107_pages
Create Date: 2026-12-02 21:40:00.000000

"""

from collections.abc import Sequence

from alembic import op


revision: str = "0200_defects_positions"
down_revision: str | None = "0107_pages"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # UPDATE … FROM works on PostgreSQL and on SQLite ≥ 3.33.
    op.execute(
        """
        UPDATE items
        SET position = numbered.rank, revision = items.revision + 1
        FROM (
            SELECT id, ROW_NUMBER() OVER (PARTITION BY catalogue_id ORDER BY position, id) AS rank
            FROM items
        ) AS numbered
        WHERE items.id = numbered.id AND items.position <> numbered.rank
        """
    )


def downgrade() -> None:
    # The old positions carried no meaning the new ones lack: nothing to restore.
    pass
