"""an operation's point of no return

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 09:00:00

When an operation began the one transaction that replaces content (a restore, a clone's apply):
a cancel is honoured before it and refused after it. Operations recorded before this revision
have none ("not passed"); recovery at start-up ends or re-runs whatever a previous run left open.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("operations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("point_of_no_return", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("operations", schema=None) as batch_op:
        batch_op.drop_column("point_of_no_return")
