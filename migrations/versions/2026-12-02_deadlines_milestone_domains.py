"""milestone domains, counts_from and write revisions: milestones apply to the domains they
were set for; `completed` needs a publish in the revision year; If-Match on milestones,
calendar years and waivers

Backfill in plain SQL (no application code): a `pilot` milestone gets the notice's 26 pilot
domains (01..26) that exist, an `all` milestone every domain that exists now; a domain added
later is obliged by no existing milestone until an auditor adds it to one. `completed` counts
publishes from 2021-01-01 (the year the notice gives for 调整完善).

Revision ID: 0200_deadlines
Revises: 0107_pages
Create Date: 2026-12-02 21:45:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0200_deadlines'
down_revision: str | None = '0200_loose_version_names'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


PILOT = ", ".join(f"'{n:02d}'" for n in range(1, 27))
"""the 26 pilot domains of the notice, frozen here"""


def upgrade() -> None:
    op.create_table('milestone_domains',
    sa.Column('milestone_code', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('domain_code', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.ForeignKeyConstraint(['domain_code'], ['domains.code'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['milestone_code'], ['milestones.code'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('milestone_code', 'domain_code')
    )
    with op.batch_alter_table('milestones', schema=None) as batch_op:
        batch_op.add_column(sa.Column('counts_from', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('revision', sa.Integer(), server_default='1', nullable=False))
    with op.batch_alter_table('calendar_years', schema=None) as batch_op:
        batch_op.add_column(sa.Column('revision', sa.Integer(), server_default='1', nullable=False))
    with op.batch_alter_table('guide_waivers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('revision', sa.Integer(), server_default='1', nullable=False))
    op.execute(
        "INSERT INTO milestone_domains (milestone_code, domain_code) "
        "SELECT m.code, d.code FROM milestones m JOIN domains d ON "
        f"(m.domains = 'all' OR (d.is_pilot AND d.code IN ({PILOT})))"
    )
    op.execute(
        "UPDATE milestones SET counts_from = '2021-01-01' "
        "WHERE code = 'completed' AND event = 'published' AND counts_from IS NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table('guide_waivers', schema=None) as batch_op:
        batch_op.drop_column('revision')
    with op.batch_alter_table('calendar_years', schema=None) as batch_op:
        batch_op.drop_column('revision')
    with op.batch_alter_table('milestones', schema=None) as batch_op:
        batch_op.drop_column('revision')
        batch_op.drop_column('counts_from')
    op.drop_table('milestone_domains')
