"""opinion revision: an ETag for implementation opinions, so corrections use If-Match

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-23 02:39:46.917788

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0003'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # server_default: opinions recorded before this revision start at revision 1
    with op.batch_alter_table('opinions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('revision', sa.Integer(), server_default='1', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('opinions', schema=None) as batch_op:
        batch_op.drop_column('revision')
