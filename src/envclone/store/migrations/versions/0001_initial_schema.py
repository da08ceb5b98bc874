"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-23 18:43:14.697022
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "component_generations",
        sa.Column("component", sa.String(length=32), nullable=False),
        sa.Column("generation", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=True),
        sa.Column("digest_generation", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("component", name=op.f("pk_component_generations")),
    )
    op.create_table(
        "config_objects",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("type", sa.Integer(), nullable=False),
        sa.Column("subtype", sa.Integer(), server_default="0", nullable=False),
        sa.Column("name", sa.String(length=250), nullable=False),
        sa.Column("description", sa.String(length=2000), server_default="", nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_config_objects")),
    )
    with op.batch_alter_table("config_objects", schema=None) as batch_op:
        batch_op.create_index("ix_config_objects_type_name", ["type", "name"], unique=False)

    op.create_table(
        "files",
        sa.Column("area", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("modified", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("area", "name", name=op.f("pk_files")),
    )
    op.create_table(
        "groups",
        sa.Column("name", sa.String(length=250), nullable=False),
        sa.Column("description", sa.String(length=2000), server_default="", nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_groups")),
    )
    op.create_table(
        "projects",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=250), nullable=False),
        sa.Column("description", sa.String(length=2000), server_default="", nullable=False),
        sa.Column("default_locale", sa.Integer(), server_default="1033", nullable=False),
        sa.Column("owner", sa.String(length=250), server_default="", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_projects")),
        sa.UniqueConstraint("name", name=op.f("uq_projects_name")),
    )
    op.create_table(
        "records",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("component", sa.String(length=32), nullable=False),
        sa.Column("ts", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=250), server_default="", nullable=False),
        sa.Column("action", sa.String(length=250), server_default="", nullable=False),
        sa.Column("subject", sa.String(length=250), server_default="", nullable=False),
        sa.Column("status", sa.String(length=32), server_default="", nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_records")),
    )
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.create_index("ix_records_component_ts", ["component", "ts"], unique=False)

    op.create_table(
        "repositories",
        sa.Column("uid", sa.String(length=250), nullable=False),
        sa.Column("name", sa.String(length=250), nullable=False),
        sa.Column("kind", sa.String(length=32), server_default="local", nullable=False),
        sa.Column("path", sa.String(length=2000), server_default="", nullable=False),
        sa.Column("description", sa.String(length=2000), server_default="", nullable=False),
        sa.PrimaryKeyConstraint("uid", name=op.f("pk_repositories")),
        sa.UniqueConstraint("name", name=op.f("uq_repositories_name")),
    )
    op.create_table(
        "roles",
        sa.Column("name", sa.String(length=250), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("description", sa.String(length=2000), server_default="", nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_roles")),
    )
    op.create_table(
        "settings",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_settings")),
    )
    op.create_table(
        "tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("login", sa.String(length=250), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.Column("expires", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_tokens")),
    )
    op.create_table(
        "users",
        sa.Column("login", sa.String(length=250), nullable=False),
        sa.Column("display_name", sa.String(length=250), server_default="", nullable=False),
        sa.Column("email", sa.String(length=250), server_default="", nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("enabled", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.PrimaryKeyConstraint("login", name=op.f("pk_users")),
    )
    op.create_table(
        "group_members",
        sa.Column("group_name", sa.String(length=250), nullable=False),
        sa.Column("member_kind", sa.String(length=8), nullable=False),
        sa.Column("member_name", sa.String(length=250), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_name"], ["groups.name"], name=op.f("fk_group_members_group_name_groups"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("group_name", "member_kind", "member_name", name=op.f("pk_group_members")),
    )
    op.create_table(
        "jobs",
        sa.Column("uid", sa.String(length=250), nullable=False),
        sa.Column("name", sa.String(length=250), nullable=False),
        sa.Column("job_type", sa.String(length=32), nullable=False),
        sa.Column("description", sa.String(length=2000), server_default="", nullable=False),
        sa.Column("repository_uid", sa.String(length=250), nullable=True),
        sa.Column("folder_name", sa.String(length=250), server_default="", nullable=False),
        sa.Column("schedule_enabled", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["repository_uid"], ["repositories.uid"], name=op.f("fk_jobs_repository_uid_repositories")
        ),
        sa.PrimaryKeyConstraint("uid", name=op.f("pk_jobs")),
        sa.UniqueConstraint("name", name=op.f("uq_jobs_name")),
    )
    op.create_table(
        "metadata_objects",
        sa.Column("project_id", sa.String(length=32), nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("type", sa.Integer(), nullable=False),
        sa.Column("subtype", sa.Integer(), server_default="0", nullable=False),
        sa.Column("name", sa.String(length=250), nullable=False),
        sa.Column("folder_path", sa.String(length=2000), server_default="/", nullable=False),
        sa.Column("is_schema", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("owner", sa.String(length=250), server_default="", nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("acl", sa.JSON(), nullable=False),
        sa.Column("translations", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_metadata_objects_project_id_projects"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("project_id", "id", name=op.f("pk_metadata_objects")),
    )
    with op.batch_alter_table("metadata_objects", schema=None) as batch_op:
        batch_op.create_index("ix_metadata_objects_project_name", ["project_id", "name"], unique=False)
        batch_op.create_index("ix_metadata_objects_project_type", ["project_id", "type"], unique=False)

    op.create_table(
        "profile_folders",
        sa.Column("project_id", sa.String(length=32), nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("owner", sa.String(length=250), nullable=False),
        sa.Column("name", sa.String(length=250), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_profile_folders_project_id_projects"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("project_id", "id", name=op.f("pk_profile_folders")),
    )
    op.create_table(
        "role_assignments",
        sa.Column("principal_kind", sa.String(length=8), nullable=False),
        sa.Column("principal_name", sa.String(length=250), nullable=False),
        sa.Column("role_name", sa.String(length=250), nullable=False),
        sa.ForeignKeyConstraint(
            ["role_name"], ["roles.name"], name=op.f("fk_role_assignments_role_name_roles"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("principal_kind", "principal_name", "role_name", name=op.f("pk_role_assignments")),
    )
    op.create_table(
        "subscriptions",
        sa.Column("project_id", sa.String(length=32), nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=250), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("owner", sa.String(length=250), server_default="", nullable=False),
        sa.Column("recipient", sa.String(length=250), nullable=False),
        sa.Column("object_id", sa.String(length=32), nullable=True),
        sa.Column("schedule", sa.String(length=250), server_default="", nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_subscriptions_project_id_projects"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("project_id", "id", name=op.f("pk_subscriptions")),
    )


def downgrade() -> None:

    op.drop_table("subscriptions")
    op.drop_table("role_assignments")
    op.drop_table("profile_folders")
    with op.batch_alter_table("metadata_objects", schema=None) as batch_op:
        batch_op.drop_index("ix_metadata_objects_project_type")
        batch_op.drop_index("ix_metadata_objects_project_name")

    op.drop_table("metadata_objects")
    op.drop_table("jobs")
    op.drop_table("group_members")
    op.drop_table("users")
    op.drop_table("tokens")
    op.drop_table("settings")
    op.drop_table("roles")
    op.drop_table("repositories")
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.drop_index("ix_records_component_ts")

    op.drop_table("records")
    op.drop_table("projects")
    op.drop_table("groups")
    op.drop_table("files")
    with op.batch_alter_table("config_objects", schema=None) as batch_op:
        batch_op.drop_index("ix_config_objects_type_name")

    op.drop_table("config_objects")
    op.drop_table("component_generations")
