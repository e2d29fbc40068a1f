"""ids never reused: AUTOINCREMENT on every SQLite table whose integer ids clients hold

SQLite's plain INTEGER PRIMARY KEY hands the highest deleted id to the next row, so a
client's stale ETag ("i2.1") could match the item created after item 2 was deleted.
AUTOINCREMENT keeps a high-water mark in sqlite_sequence instead. PostgreSQL sequences
never hand a number out twice, so nothing changes there. The tables are rebuilt by batch
mode (copy, drop, rename) with foreign keys switched off by migrations/env.py.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 17:30:00.000000

"""
from collections.abc import Sequence

from alembic import op


revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = (
    'catalogues', 'catalogue_versions', 'guide_items', 'guide_waivers', 'changes', 'items',
    'opinions', 'api_tokens',
)


def _rebuild(autoincrement: bool) -> None:
    if op.get_bind().dialect.name != 'sqlite':
        return
    for table in TABLES:
        with op.batch_alter_table(
            table, recreate='always', table_kwargs={'sqlite_autoincrement': autoincrement}
        ):
            pass


def upgrade() -> None:
    _rebuild(True)


def downgrade() -> None:
    _rebuild(False)
