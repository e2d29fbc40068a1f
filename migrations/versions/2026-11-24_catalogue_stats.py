"""catalogue_stats: the audit's per-catalogue counts, kept on write and filled here for the
catalogues that exist

Revision ID: 0006
Revises: 0004
Create Date: 2026-11-24 09:00:00.000000

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0006'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# What app/services/stats.py `counts` computed when this revision was written, inlined so
# that this migration keeps meaning the same whatever the code becomes. Bits of items.flags:
# 1 vague time limit, 2 unparsed, 4 basis without document, 8 generic body (15 = any);
# guide_items.level_mask: 1 县级, 2 乡级.
FILL = """
INSERT INTO catalogue_stats (
    catalogue_id, item_count, lacking_count, flagged_count, vague_time_limit,
    unparsed_time_limit, basis_without_document, generic_responsible_body,
    present_county, present_township, waived_county, waived_township, first_version_on
)
SELECT c.id,
       COALESCE(ic.item_count, 0), COALESCE(ic.lacking_count, 0),
       COALESCE(ic.flagged_count, 0), COALESCE(ic.vague_time_limit, 0),
       COALESCE(ic.unparsed_time_limit, 0), COALESCE(ic.basis_without_document, 0),
       COALESCE(ic.generic_responsible_body, 0),
       COALESCE(present.present_county, 0), COALESCE(present.present_township, 0),
       COALESCE(waived.waived_county, 0), COALESCE(waived.waived_township, 0),
       first.first_version_on
FROM catalogues AS c
LEFT OUTER JOIN (
    SELECT catalogue_id,
           COUNT(*) AS item_count,
           SUM(CASE WHEN lacking > 0 THEN 1 ELSE 0 END) AS lacking_count,
           SUM(CASE WHEN (flags & 15) != 0 THEN 1 ELSE 0 END) AS flagged_count,
           SUM(CASE WHEN (flags & 1) != 0 THEN 1 ELSE 0 END) AS vague_time_limit,
           SUM(CASE WHEN (flags & 2) != 0 THEN 1 ELSE 0 END) AS unparsed_time_limit,
           SUM(CASE WHEN (flags & 4) != 0 THEN 1 ELSE 0 END) AS basis_without_document,
           SUM(CASE WHEN (flags & 8) != 0 THEN 1 ELSE 0 END) AS generic_responsible_body
    FROM items
    GROUP BY catalogue_id
) AS ic ON ic.catalogue_id = c.id
LEFT OUTER JOIN (
    SELECT i.catalogue_id,
           COUNT(DISTINCT CASE WHEN (g.level_mask & 1) != 0 THEN g.id END) AS present_county,
           COUNT(DISTINCT CASE WHEN (g.level_mask & 2) != 0 THEN g.id END) AS present_township
    FROM items AS i
    JOIN catalogues AS c2 ON c2.id = i.catalogue_id
    JOIN guide_items AS g ON g.domain_code = c2.domain_code AND g.name_key = i.name_key
    GROUP BY i.catalogue_id
) AS present ON present.catalogue_id = c.id
LEFT OUTER JOIN (
    SELECT w.catalogue_id,
           SUM(CASE WHEN (g.level_mask & 1) != 0 THEN 1 ELSE 0 END) AS waived_county,
           SUM(CASE WHEN (g.level_mask & 2) != 0 THEN 1 ELSE 0 END) AS waived_township
    FROM guide_waivers AS w
    JOIN guide_items AS g ON g.id = w.guide_item_id
    WHERE NOT EXISTS (
        SELECT 1 FROM items AS i WHERE i.catalogue_id = w.catalogue_id AND i.name_key = g.name_key
    )
    GROUP BY w.catalogue_id
) AS waived ON waived.catalogue_id = c.id
LEFT OUTER JOIN (
    SELECT catalogue_id, MIN(published_on) AS first_version_on
    FROM catalogue_versions
    GROUP BY catalogue_id
) AS first ON first.catalogue_id = c.id
"""


def upgrade() -> None:
    op.create_table('catalogue_stats',
    sa.Column('catalogue_id', sa.Integer(), nullable=False),
    sa.Column('item_count', sa.Integer(), nullable=False),
    sa.Column('lacking_count', sa.Integer(), nullable=False),
    sa.Column('flagged_count', sa.Integer(), nullable=False),
    sa.Column('vague_time_limit', sa.Integer(), nullable=False),
    sa.Column('unparsed_time_limit', sa.Integer(), nullable=False),
    sa.Column('basis_without_document', sa.Integer(), nullable=False),
    sa.Column('generic_responsible_body', sa.Integer(), nullable=False),
    sa.Column('present_county', sa.Integer(), nullable=False),
    sa.Column('present_township', sa.Integer(), nullable=False),
    sa.Column('waived_county', sa.Integer(), nullable=False),
    sa.Column('waived_township', sa.Integer(), nullable=False),
    sa.Column('first_version_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['catalogue_id'], ['catalogues.id'], name=op.f('fk_catalogue_stats_catalogue_id_catalogues'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('catalogue_id', name=op.f('pk_catalogue_stats'))
    )
    op.execute(FILL)
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ANALYZE catalogue_stats')


def downgrade() -> None:
    op.drop_table('catalogue_stats')
