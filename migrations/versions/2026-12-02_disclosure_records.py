"""disclosure records

Revision ID: 0101_records
Revises: 0006
Create Date: 2026-12-02 17:16:57.643956

"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0101_records'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('catalogue_id', sa.Integer(), nullable=False),
    sa.Column('domain_code', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('url', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('formed_on', sa.Date(), nullable=False),
    sa.Column('published_on', sa.Date(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('state', sa.Enum('on_time', 'late', 'no_limit', 'unknown', name='recordstate', native_enum=False, length=20), nullable=False),
    sa.Column('late_days', sa.Integer(), nullable=True),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('deleted_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['catalogue_id'], ['catalogues.id'], name=op.f('fk_records_catalogue_id_catalogues'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_code'], ['units.code'], name=op.f('fk_records_unit_code_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_records')),
    sa.UniqueConstraint('unit_code', 'url', name=op.f('uq_records_unit_code')),
    sqlite_autoincrement=True,  # record ids are never reused (see migration 0007)
    )
    with op.batch_alter_table('records', schema=None) as batch_op:
        batch_op.create_index('ix_records_catalogue_item', ['catalogue_id', 'item_id', 'published_on', 'state', 'formed_on', 'deleted_at'], unique=False)
        batch_op.create_index('ix_records_catalogue_seq', ['catalogue_id', 'seq'], unique=False)
        batch_op.create_index(batch_op.f('ix_records_seq'), ['seq'], unique=True)
        batch_op.create_index('ix_records_unit_id', ['unit_code', 'id'], unique=False)

    op.create_table('record_stamps',
    sa.Column('catalogue_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['catalogue_id'], ['catalogues.id'], name=op.f('fk_record_stamps_catalogue_id_catalogues'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('catalogue_id', name=op.f('pk_record_stamps'))
    )


def downgrade() -> None:
    op.drop_table('record_stamps')
    with op.batch_alter_table('records', schema=None) as batch_op:
        batch_op.drop_index('ix_records_unit_id')
        batch_op.drop_index(batch_op.f('ix_records_seq'))
        batch_op.drop_index('ix_records_catalogue_seq')
        batch_op.drop_index('ix_records_catalogue_item')

    op.drop_table('records')
