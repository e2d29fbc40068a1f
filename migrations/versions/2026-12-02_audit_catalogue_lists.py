"""catalogue_lists: the audit's lists per catalogue (lacking items, absent and waived guide items, JSON text)

Revision ID: 0200_audit_lists
Revises: 0107_pages
Create Date: 2026-12-02 21:40:00

The audit read them per request from the items and the guide (two statements, about 20 ms
of a city's 60 ms); app/services/stats.py now recomputes them on every write that changes
them, as it does the counts. The fill below is that definition (stats.details) as it was
when this revision was written, copied in, so that the revision keeps meaning the same when
the application's rules change (`python -m app check` / `recompute` follow later rules).
"""
from collections.abc import Sequence
from typing import Any

import orjson
import sqlalchemy as sa
from alembic import op


revision: str = '0200_audit_lists'
down_revision: str | None = '0200_deadlines'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('catalogue_lists',
    sa.Column('catalogue_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('lacking_items', sa.Text(), nullable=False),
    sa.Column('absent_items', sa.Text(), nullable=False),
    sa.Column('waived_items', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['catalogue_id'], ['catalogues.id'], name=op.f('fk_catalogue_lists_catalogue_id_catalogues'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('catalogue_id', name=op.f('pk_catalogue_lists'))
    )
    connection = op.get_bind()
    ids = connection.execute(sa.text("SELECT id FROM catalogues ORDER BY id")).scalars().all()
    for start in range(0, len(ids), CHUNK):
        chunk = list(ids[start : start + CHUNK])
        rows = _details(connection, chunk)
        if rows:
            connection.execute(
                sa.text(
                    "INSERT INTO catalogue_lists "
                    "(catalogue_id, lacking_items, absent_items, waived_items) "
                    "VALUES (:catalogue_id, :lacking_items, :absent_items, :waived_items)"
                ),
                rows,
            )


# ---- the definition as it was at this revision (app/services/stats.py, app/rules/quality.py)

CHUNK = 500
FLAG_NAMES = {
    1: "vague_time_limit",
    2: "unparsed_time_limit",
    4: "basis_without_document",
    8: "generic_responsible_body",
}
DRAFTABLE = (
    "content", "basis", "time_limit", "responsible_body", "method", "channels", "audience",
)
MISSING_BITS = {name: 1 << (8 + i) for i, name in enumerate(DRAFTABLE)}
COUNTY, TOWNSHIP = 1, 2


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def _details(connection: sa.Connection, ids: list[int]) -> list[dict[str, Any]]:
    lacking: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    absent: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    waived: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    if not ids:
        return []
    chosen = sa.bindparam("ids", expanding=True)
    for catalogue_id, item_id, name, flags in connection.execute(
        sa.text(
            "SELECT catalogue_id, id, name, flags FROM items "
            "WHERE catalogue_id IN :ids AND lacking > 0 ORDER BY catalogue_id, position, id"
        ).bindparams(chosen),
        {"ids": ids},
    ):
        lacking[catalogue_id].append(
            {
                "id": item_id,
                "name": name,
                "missing": [n for n, bit in MISSING_BITS.items() if flags & bit],
                "flags": [n for bit, n in FLAG_NAMES.items() if flags & bit],
            }
        )
    for catalogue_id, guide_id, name, reason in connection.execute(
        sa.text(
            "SELECT c.id, g.id, g.name, w.reason FROM catalogues c "
            "JOIN units u ON u.code = c.unit_code "
            "JOIN guide_items g ON g.domain_code = c.domain_code AND (g.level_mask & "
            f"(CASE WHEN u.kind = 'district' THEN {COUNTY} ELSE {TOWNSHIP} END)) != 0 "
            "LEFT JOIN guide_waivers w ON w.catalogue_id = c.id AND w.guide_item_id = g.id "
            "WHERE c.id IN :ids AND NOT EXISTS (SELECT 1 FROM items i "
            "WHERE i.catalogue_id = c.id AND i.name_key = g.name_key) "
            "ORDER BY c.id, g.position, g.id"
        ).bindparams(chosen),
        {"ids": ids},
    ):
        if reason is None:
            absent[catalogue_id].append({"guide_item_id": guide_id, "name": name})
        else:
            waived[catalogue_id].append({"guide_item_id": guide_id, "name": name, "reason": reason})
    return [
        {
            "catalogue_id": i,
            "lacking_items": _json(lacking[i]),
            "absent_items": _json(absent[i]),
            "waived_items": _json(waived[i]),
        }
        for i in ids
    ]


def downgrade() -> None:
    op.drop_table('catalogue_lists')
