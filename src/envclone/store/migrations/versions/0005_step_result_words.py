"""step results in envclone's own words

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 11:20:00

Steps stored their result in EPM's spelling (``inProgress``, ``NA``); the dialects now render
envclone's words (``in_progress``, ``not_applicable``) through their own tables, so stored
operation records are rewritten once. The mapping is spelled here, not imported, so that this
revision keeps meaning what it meant when it was written.
"""

from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UPGRADE = {"inProgress": "in_progress", "NA": "not_applicable"}
DOWNGRADE = {new: old for old, new in UPGRADE.items()}
_PAGE = 500  # rows per read, so that a long history does not have to fit in memory

_operations = sa.table("operations", sa.column("seq", sa.BigInteger), sa.column("steps", sa.JSON))


def _pages(conn: sa.Connection) -> Iterator[Sequence[Any]]:
    after = -1
    while True:
        query = sa.select(_operations.c.seq, _operations.c.steps).where(_operations.c.seq > after)
        rows = conn.execute(query.order_by(_operations.c.seq).limit(_PAGE)).all()
        if not rows:
            return
        yield rows
        after = rows[-1].seq


def _rewrite(words: dict[str, str]) -> None:
    conn = op.get_bind()
    for rows in _pages(conn):
        for row in rows:
            steps = [{**s, "result": words.get(s.get("result"), s.get("result"))} for s in row.steps]
            if steps != row.steps:
                conn.execute(_operations.update().where(_operations.c.seq == row.seq).values(steps=steps))


def upgrade() -> None:
    _rewrite(UPGRADE)


def downgrade() -> None:
    _rewrite(DOWNGRADE)
