"""audit columns: items.name_key/flags, guide_items.name_key/level_mask,
catalogue_versions.first_level_count, and the audit's covering indexes

Revision ID: 0004
Revises: 0005
Create Date: 2026-11-23 02:39:19.214537

"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from app.rules.attributes import DRAFTABLE_ATTRIBUTES
from app.rules import quality

revision: str = '0004'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5000


def upgrade() -> None:
    with op.batch_alter_table('catalogue_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('first_level_count', sa.Integer(), nullable=False, server_default='0'))

    with op.batch_alter_table('guide_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('level_mask', sa.Integer(), nullable=False, server_default='3'))

    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('flags', sa.Integer(), nullable=False, server_default='0'))
        batch_op.drop_index('ix_items_catalogue_lacking')
        batch_op.create_index('ix_items_catalogue_lacking', ['catalogue_id', 'lacking', 'flags'], unique=False)
        batch_op.create_index('ix_items_catalogue_name_key', ['catalogue_id', 'name_key'], unique=False)

    _fill()

    # The defaults only served the rows that existed; the app always writes the values.
    for table, columns in (
        ('catalogue_versions', ('first_level_count',)),
        ('guide_items', ('name_key', 'level_mask')),
        ('items', ('name_key', 'flags')),
    ):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                batch_op.alter_column(column, server_default=None)


def _fill() -> None:
    """Data migration: compute the stored audit values of the rows that already exist."""
    bind = op.get_bind()
    items = sa.table(
        'items', sa.column('id', sa.Integer), sa.column('name', sa.String),
        sa.column('name_key', sa.String), sa.column('flags', sa.Integer),
        *(sa.column(name, sa.JSON if name == 'channels' else sa.String) for name in DRAFTABLE_ATTRIBUTES),
    )
    guides = sa.table(
        'guide_items', sa.column('id', sa.Integer), sa.column('name', sa.String),
        sa.column('levels', sa.JSON), sa.column('name_key', sa.String),
        sa.column('level_mask', sa.Integer),
    )
    versions = sa.table(
        'catalogue_versions', sa.column('id', sa.Integer), sa.column('items', sa.JSON),
        sa.column('first_level_count', sa.Integer),
    )
    last = 0
    while True:
        rows = bind.execute(
            sa.select(items).where(items.c.id > last).order_by(items.c.id).limit(BATCH)
        ).mappings().all()
        if not rows:
            break
        bind.execute(
            items.update().where(items.c.id == sa.bindparam('item_id')),
            [
                {
                    'item_id': row['id'],
                    'name_key': quality.name_key(row['name']),
                    'flags': quality.item_flags(row),
                }
                for row in rows
            ],
        )
        last = rows[-1]['id']
    for row in bind.execute(sa.select(guides)).mappings().all():
        bind.execute(
            guides.update().where(guides.c.id == row['id']).values(
                name_key=quality.name_key(row['name']),
                level_mask=quality.level_mask(row['levels'] or []),
            )
        )
    for row in bind.execute(sa.select(versions)).mappings().all():
        bind.execute(
            versions.update().where(versions.c.id == row['id']).values(
                first_level_count=len({i.get('first_level') for i in row['items'] or []}),
            )
        )


def downgrade() -> None:
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.drop_index('ix_items_catalogue_name_key')
        batch_op.drop_index('ix_items_catalogue_lacking')
        batch_op.create_index('ix_items_catalogue_lacking', ['catalogue_id', 'lacking'], unique=False)
        batch_op.drop_column('flags')
        batch_op.drop_column('name_key')

    with op.batch_alter_table('guide_items', schema=None) as batch_op:
        batch_op.drop_column('level_mask')
        batch_op.drop_column('name_key')

    with op.batch_alter_table('catalogue_versions', schema=None) as batch_op:
        batch_op.drop_column('first_level_count')
