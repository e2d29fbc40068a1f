"""catalogue audit counts: the audit's per-catalogue counts as columns of catalogues, kept
on write by the app and filled here for the catalogues that exist

On PostgreSQL the fill rewrites every catalogue row (19 s for 420,000 catalogues and 4.9 M
items on the benchmark machine); `VACUUM FULL catalogues` afterwards gives the table back
its size (docs/audit.md, "Cost").

Revision ID: 0006
Revises: 0004
Create Date: 2026-11-23 04:10:00.000000

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
COLUMNS = (
    'item_count', 'lacking_count', 'flagged_count', 'vague_time_limit_count',
    'unparsed_time_limit_count', 'basis_without_document_count', 'generic_body_count',
    'present_county', 'present_township', 'waived_county', 'waived_township',
)
FILL = """
UPDATE catalogues SET
    item_count = fresh.item_count,
    lacking_count = fresh.lacking_count,
    flagged_count = fresh.flagged_count,
    vague_time_limit_count = fresh.vague_time_limit_count,
    unparsed_time_limit_count = fresh.unparsed_time_limit_count,
    basis_without_document_count = fresh.basis_without_document_count,
    generic_body_count = fresh.generic_body_count,
    present_county = fresh.present_county,
    present_township = fresh.present_township,
    waived_county = fresh.waived_county,
    waived_township = fresh.waived_township,
    first_version_on = fresh.first_version_on
FROM (
    SELECT c.id AS catalogue_id,
           COALESCE(ic.item_count, 0) AS item_count,
           COALESCE(ic.lacking_count, 0) AS lacking_count,
           COALESCE(ic.flagged_count, 0) AS flagged_count,
           COALESCE(ic.vague_time_limit_count, 0) AS vague_time_limit_count,
           COALESCE(ic.unparsed_time_limit_count, 0) AS unparsed_time_limit_count,
           COALESCE(ic.basis_without_document_count, 0) AS basis_without_document_count,
           COALESCE(ic.generic_body_count, 0) AS generic_body_count,
           COALESCE(present.present_county, 0) AS present_county,
           COALESCE(present.present_township, 0) AS present_township,
           COALESCE(waived.waived_county, 0) AS waived_county,
           COALESCE(waived.waived_township, 0) AS waived_township,
           first.first_version_on AS first_version_on
    FROM catalogues AS c
    LEFT OUTER JOIN (
        SELECT catalogue_id,
               COUNT(*) AS item_count,
               SUM(CASE WHEN lacking > 0 THEN 1 ELSE 0 END) AS lacking_count,
               SUM(CASE WHEN (flags & 15) != 0 THEN 1 ELSE 0 END) AS flagged_count,
               SUM(CASE WHEN (flags & 1) != 0 THEN 1 ELSE 0 END) AS vague_time_limit_count,
               SUM(CASE WHEN (flags & 2) != 0 THEN 1 ELSE 0 END) AS unparsed_time_limit_count,
               SUM(CASE WHEN (flags & 4) != 0 THEN 1 ELSE 0 END) AS basis_without_document_count,
               SUM(CASE WHEN (flags & 8) != 0 THEN 1 ELSE 0 END) AS generic_body_count
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
            SELECT 1 FROM items AS i
            WHERE i.catalogue_id = w.catalogue_id AND i.name_key = g.name_key
        )
        GROUP BY w.catalogue_id
    ) AS waived ON waived.catalogue_id = c.id
    LEFT OUTER JOIN (
        SELECT catalogue_id, MIN(published_on) AS first_version_on
        FROM catalogue_versions
        GROUP BY catalogue_id
    ) AS first ON first.catalogue_id = c.id
) AS fresh
WHERE catalogues.id = fresh.catalogue_id
"""


def upgrade() -> None:
    # server_default 0: a catalogue counts nothing until a writer recomputes its counts
    with op.batch_alter_table('catalogues', schema=None) as batch_op:
        for column in COLUMNS:
            batch_op.add_column(sa.Column(column, sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('first_version_on', sa.Date(), nullable=True))
    op.execute(FILL)


def downgrade() -> None:
    with op.batch_alter_table('catalogues', schema=None) as batch_op:
        batch_op.drop_column('first_version_on')
        for column in reversed(COLUMNS):
            batch_op.drop_column(column)
