"""catalogue_lists: the audit's lists per catalogue (lacking items, absent and waived guide items, JSON text)

Revision ID: 0200_audit_lists
Revises: 0107_pages
Create Date: 2026-12-02 21:40:00

The audit read them per request from the items and the guide (two statements, about 20 ms
of a city's 60 ms); app/services/stats.py now recomputes them on every write that changes
them, as it does the counts. The fill uses that same definition (stats.store_details).
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0200_audit_lists'
down_revision: str | None = '0200_deadlines'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('catalogue_lists',
    sa.Column('catalogue_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('lacking_items', sa.Text(), nullable=False),
    sa.Column('absent_items', sa.Text(), nullable=False),
    sa.Column('waived_items', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['catalogue_id'], ['catalogues.id'], name=op.f('fk_catalogue_lists_catalogue_id_catalogues'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('catalogue_id', name=op.f('pk_catalogue_lists'))
    )
    from app.services import stats

    connection = op.get_bind()
    ids = connection.execute(sa.text("SELECT id FROM catalogues ORDER BY id")).scalars().all()
    stats.store_details(connection, ids)


def downgrade() -> None:
    op.drop_table('catalogue_lists')
