"""token kind wide enough for operation receipts

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 00:40:00

Receipts are tokens of kind ``receipt:<32-hex operation id>`` (40 characters); the column was 16,
which SQLite ignores and PostgreSQL enforces.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tokens", schema=None) as batch_op:
        batch_op.alter_column("kind", existing_type=sa.String(length=16), type_=sa.String(length=64), existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("tokens", schema=None) as batch_op:
        batch_op.alter_column("kind", existing_type=sa.String(length=64), type_=sa.String(length=16), existing_nullable=False)
