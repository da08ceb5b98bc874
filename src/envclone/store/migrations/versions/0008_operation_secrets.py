"""operation secrets, sealed

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 09:00:00

An operation's secrets (a clone's target password) kept sealed (AES-GCM, auth.sealing) beside the
operation instead of in one process's memory: a restarted server, or another worker process,
can then finish or take over the operation. Removed with the operation's final status.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "operation_secrets",
        sa.Column("operation_id", sa.String(length=32), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("operation_id", name=op.f("pk_operation_secrets")),
    )


def downgrade() -> None:
    op.drop_table("operation_secrets")
