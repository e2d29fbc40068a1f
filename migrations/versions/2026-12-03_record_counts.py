"""record_counts: per catalogue item, its live records by state and latest dates; an index of the late records

Revision ID: 0302_records_counts
Revises: 0301_request_report_columns
Create Date: 2026-12-03 05:45:00

The timeliness audit aggregated every record of the catalogues it showed on each request
that its memory could not answer (about 0.6 s of SQL for a city's 200,000 records after a
restart); app/services/records.py now keeps these rows on every record write, and the audit
reads one row per item. The fill below is that definition (records.recount) as it was when
this revision was written, copied in, so that the revision keeps meaning the same when the
application changes (`python -m app check` / `recompute` follow later rules).
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0302_records_counts'
down_revision: str | None = '0301_request_report_columns'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LATE_ALIVE = "state = 'late' AND deleted_at IS NULL"


def upgrade() -> None:
    op.create_table('record_counts',
    sa.Column('catalogue_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('item_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('records', sa.Integer(), nullable=False),
    sa.Column('on_time', sa.Integer(), nullable=False),
    sa.Column('late', sa.Integer(), nullable=False),
    sa.Column('unknown', sa.Integer(), nullable=False),
    sa.Column('last_formed_on', sa.Date(), nullable=False),
    sa.Column('last_published_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['catalogue_id'], ['catalogues.id'], name=op.f('fk_record_counts_catalogue_id_catalogues'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('catalogue_id', 'item_id', name=op.f('pk_record_counts'))
    )
    op.create_index(
        'ix_records_late',
        'records',
        ['catalogue_id', 'id'],
        unique=False,
        sqlite_where=sa.text(LATE_ALIVE),
        postgresql_where=sa.text(LATE_ALIVE),
    )
    op.execute(
        "INSERT INTO record_counts (catalogue_id, item_id, records, on_time, late, unknown, "
        "last_formed_on, last_published_on) "
        "SELECT catalogue_id, item_id, count(*), "
        "sum(CASE WHEN state = 'on_time' THEN 1 ELSE 0 END), "
        "sum(CASE WHEN state = 'late' THEN 1 ELSE 0 END), "
        "sum(CASE WHEN state = 'unknown' THEN 1 ELSE 0 END), "
        "max(formed_on), max(published_on) FROM records WHERE deleted_at IS NULL "
        "GROUP BY catalogue_id, item_id"
    )


def downgrade() -> None:
    op.drop_index('ix_records_late', table_name='records')
    op.drop_table('record_counts')
