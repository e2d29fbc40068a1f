"""dashboard sessions: signed-in browsers (a hash of the session id, CSRF token, pending upload)

Revision ID: 0107_pages
Revises: 0006
Create Date: 2026-12-02 17:17:07.975259

"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0107_pages'
down_revision: str | None = '0108_reports'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('dashboard_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('csrf_token', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('token_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('last_seen_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('ended_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('upload_unit', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('upload_domain', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=True),
    sa.Column('upload_name', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
    sa.Column('upload_data', sa.LargeBinary(), nullable=True),
    sa.ForeignKeyConstraint(['token_id'], ['api_tokens.id'], name=op.f('fk_dashboard_sessions_token_id_api_tokens')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dashboard_sessions')),
    sa.UniqueConstraint('session_hash', name=op.f('uq_dashboard_sessions_session_hash')),
    sqlite_autoincrement=True,
    )
    with op.batch_alter_table('dashboard_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dashboard_sessions_token_id'), ['token_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('dashboard_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dashboard_sessions_token_id'))

    op.drop_table('dashboard_sessions')
