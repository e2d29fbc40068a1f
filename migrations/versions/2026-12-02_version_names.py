"""version names: the unit and domain names a published version shows, frozen at publish

Until now a version's renderings read units.name and domains.name live, so a rename changed
the bytes (and ETag) of versions published long ago. Existing versions take the names the
units and domains have today (the best that is known of them); new ones store theirs at
publish. Plain SQL, no application code, so this revision keeps meaning the same.

Revision ID: 0200_loose_version_names
Revises: 0107_pages
Create Date: 2026-12-02 21:40:00.000000

"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0200_loose_version_names'
down_revision: str | None = "0200_defects_positions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FILL = """
UPDATE catalogue_versions SET
    unit_name = COALESCE(
        (SELECT units.name FROM units WHERE units.code = catalogue_versions.unit_code),
        catalogue_versions.unit_code),
    domain_name = COALESCE(
        (SELECT domains.name FROM domains WHERE domains.code = catalogue_versions.domain_code),
        catalogue_versions.domain_code)
"""


def upgrade() -> None:
    with op.batch_alter_table('catalogue_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unit_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('domain_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False, server_default=''))
    op.execute(FILL)
    # The default only served the rows that existed; publish always writes the names.
    # (SQLite rebuilds the table for this: keep its ids never reused, as 0007 made them.)
    with op.batch_alter_table(
        'catalogue_versions', schema=None, table_kwargs={'sqlite_autoincrement': True}
    ) as batch_op:
        batch_op.alter_column('unit_name', server_default=None)
        batch_op.alter_column('domain_name', server_default=None)


def downgrade() -> None:
    with op.batch_alter_table(
        'catalogue_versions', schema=None, table_kwargs={'sqlite_autoincrement': True}
    ) as batch_op:
        batch_op.drop_column('domain_name')
        batch_op.drop_column('unit_name')
