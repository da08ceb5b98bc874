"""project duplications

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 06:00:00

One row per side of a project duplication this server runs (Strategy's projectDuplications): the
request's sides and settings as JSON, who asked, and the operation doing the work.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "duplications",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("operation_id", sa.String(length=32), nullable=False),
        sa.Column("source", sa.JSON(), nullable=False),
        sa.Column("target", sa.JSON(), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("creator", sa.String(length=250), nullable=False),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.Column("updated", sa.DateTime(), nullable=False),
        sa.Column("manifest_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duplications")),
        sa.UniqueConstraint("operation_id", name=op.f("uq_duplications_operation_id")),
    )
    with op.batch_alter_table("duplications", schema=None) as batch_op:
        batch_op.create_index("ix_duplications_created", ["created"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("duplications", schema=None) as batch_op:
        batch_op.drop_index("ix_duplications_created")
    op.drop_table("duplications")
