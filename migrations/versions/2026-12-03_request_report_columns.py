"""disclosure_requests: received_year, closed_year, report_row and table 三's covering index

Revision ID: 0301_request_report_columns
Revises: 0200_audit_lists
Create Date: 2026-12-03 05:40:00

Table 三 worked out the year, the open/closed state at the year's ends and the row of each
application at query time (about 0.2 s for a city of 50,000 applications on SQLite). The app
now stores them with the other derived columns on every write (services.requests.store) and
counts them from one covering index. The fill below is that definition
(services.requests.report_columns) as it was when this revision was written, copied in, so
that the revision keeps meaning the same when the application's rules change (`python -m
app check` / `recompute` follow later rules).
"""
from collections.abc import Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa
from alembic import op


revision: str = '0301_request_report_columns'
down_revision: str | None = '0200_audit_lists'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHUNK = 2000

# ---- the definition as it was at this revision (services.requests.report_columns) -------
CLOSED_STATES = ("answered", "withdrawn")
OTHER_MISC = "other_misc"
"""三(六)3 其他 of the 2021 template: a withdrawal, and a plain 其他处理."""


def _columns(state: str, outcome: str | None, received_on: date, closed_on: date | None) -> dict[str, Any]:
    closed = state in CLOSED_STATES
    if not closed:
        row = None
    elif state == "withdrawn" or outcome is None or outcome == "other":
        row = OTHER_MISC
    else:
        row = outcome
    return {
        "received_year": received_on.year,
        "closed_year": closed_on.year if closed and closed_on is not None else None,
        "report_row": row,
    }


requests_t = sa.table(
    'disclosure_requests',
    sa.column('id', sa.Integer()),
    sa.column('state', sa.String()),
    sa.column('outcome', sa.String()),
    sa.column('received_on', sa.Date()),
    sa.column('closed_on', sa.Date()),
    sa.column('received_year', sa.Integer()),
    sa.column('closed_year', sa.Integer()),
    sa.column('report_row', sa.String()),
)


def upgrade() -> None:
    with op.batch_alter_table('disclosure_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('received_year', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('closed_year', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('report_row', sa.String(length=20), nullable=True))
    connection = op.get_bind()
    last = 0
    while True:
        rows = connection.execute(
            sa.select(
                requests_t.c.id,
                requests_t.c.state,
                requests_t.c.outcome,
                requests_t.c.received_on,
                requests_t.c.closed_on,
            )
            .where(requests_t.c.id > last)
            .order_by(requests_t.c.id)
            .limit(CHUNK)
        ).all()
        if not rows:
            break
        connection.execute(
            requests_t.update()
            .where(requests_t.c.id == sa.bindparam('row_id'))
            .values(
                received_year=sa.bindparam('received_year'),
                closed_year=sa.bindparam('closed_year'),
                report_row=sa.bindparam('report_row'),
            ),
            [
                {'row_id': row_id, **_columns(state, outcome, received_on, closed_on)}
                for row_id, state, outcome, received_on, closed_on in rows
            ],
        )
        last = rows[-1][0]
    # SQLite rebuilds the table to make the column NOT NULL: ids stay never reused (0007).
    with op.batch_alter_table(
        'disclosure_requests', schema=None, table_kwargs={'sqlite_autoincrement': True}
    ) as batch_op:
        batch_op.alter_column('received_year', existing_type=sa.Integer(), nullable=False)
        batch_op.create_index('ix_disclosure_requests_table_three', ['unit_code', 'received_year', 'closed_year', 'applicant_type', 'report_row'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table(
        'disclosure_requests', schema=None, table_kwargs={'sqlite_autoincrement': True}
    ) as batch_op:
        batch_op.drop_index('ix_disclosure_requests_table_three')
        batch_op.drop_column('report_row')
        batch_op.drop_column('closed_year')
        batch_op.drop_column('received_year')
