"""The database schema as SQLAlchemy Core tables. Each content table names its component and the
columns that are internal (ids a copy may change) in ``info``; everything else is content, and
references between content tables use natural keys (logins, names, 32-hex ids) so that a copy
keeps them. Alembic migrations in ``migrations/`` must match this file."""

from __future__ import annotations

import sqlalchemy as sa

from envclone.domain.components import Component

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

NAME = 250  # longest name of a user, group, object, job... (Veeam limits job names to 50 itself)
HEX32 = 32


def _empty_object() -> dict[str, object]:
    return {}


def _empty_list() -> list[object]:
    return []


def _content(component: Component, *internal: str, key: tuple[str, ...] = ()) -> dict[str, object]:
    return {"component": component, "internal": frozenset(internal), "key": key}


# --- users -------------------------------------------------------------------------------------
users = sa.Table(
    "users",
    metadata,
    sa.Column("login", sa.String(NAME), primary_key=True),
    sa.Column("display_name", sa.String(NAME), nullable=False, server_default=""),
    sa.Column("email", sa.String(NAME), nullable=False, server_default=""),
    sa.Column("password_hash", sa.String(255), nullable=True),
    sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
    info=_content(Component.USERS, key=("login",)),
)
groups = sa.Table(
    "groups",
    metadata,
    sa.Column("name", sa.String(NAME), primary_key=True),
    sa.Column("description", sa.String(2000), nullable=False, server_default=""),
    info=_content(Component.USERS, key=("name",)),
)
group_members = sa.Table(
    "group_members",
    metadata,
    sa.Column("group_name", sa.String(NAME), sa.ForeignKey("groups.name", ondelete="CASCADE"), primary_key=True),
    sa.Column("member_kind", sa.String(8), primary_key=True),  # user | group
    sa.Column("member_name", sa.String(NAME), primary_key=True),
    info=_content(Component.USERS, key=("group_name", "member_kind", "member_name")),
)
roles = sa.Table(
    "roles",
    metadata,
    sa.Column("name", sa.String(NAME), primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),  # predefined | granular | application
    sa.Column("description", sa.String(2000), nullable=False, server_default=""),
    info=_content(Component.USERS, key=("name",)),
)
role_assignments = sa.Table(
    "role_assignments",
    metadata,
    sa.Column("principal_kind", sa.String(8), primary_key=True),  # user | group
    sa.Column("principal_name", sa.String(NAME), primary_key=True),
    sa.Column("role_name", sa.String(NAME), sa.ForeignKey("roles.name", ondelete="CASCADE"), primary_key=True),
    info=_content(Component.USERS, key=("principal_kind", "principal_name", "role_name")),
)

# --- artifacts ---------------------------------------------------------------------------------
projects = sa.Table(
    "projects",
    metadata,
    sa.Column("id", sa.String(HEX32), primary_key=True),
    sa.Column("name", sa.String(NAME), nullable=False, unique=True),
    sa.Column("description", sa.String(2000), nullable=False, server_default=""),
    sa.Column("default_locale", sa.Integer, nullable=False, server_default="1033"),
    sa.Column("owner", sa.String(NAME), nullable=False, server_default=""),
    info=_content(Component.ARTIFACTS, key=("id",)),
)
metadata_objects = sa.Table(
    "metadata_objects",
    metadata,
    sa.Column("project_id", sa.String(HEX32), sa.ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("id", sa.String(HEX32), primary_key=True),
    sa.Column("type", sa.Integer, nullable=False),
    sa.Column("subtype", sa.Integer, nullable=False, server_default="0"),
    sa.Column("name", sa.String(NAME), nullable=False),
    sa.Column("folder_path", sa.String(2000), nullable=False, server_default="/"),
    sa.Column("is_schema", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("owner", sa.String(NAME), nullable=False, server_default=""),
    sa.Column("definition", sa.JSON, nullable=False, default=_empty_object),
    sa.Column("acl", sa.JSON, nullable=False, default=_empty_list),
    sa.Column("translations", sa.JSON, nullable=False, default=_empty_object),
    sa.Index("ix_metadata_objects_project_type", "project_id", "type"),
    sa.Index("ix_metadata_objects_project_name", "project_id", "name"),
    info=_content(Component.ARTIFACTS, key=("project_id", "id")),
)
profile_folders = sa.Table(
    "profile_folders",
    metadata,
    sa.Column("project_id", sa.String(HEX32), sa.ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("id", sa.String(HEX32), primary_key=True),
    sa.Column("owner", sa.String(NAME), nullable=False),
    sa.Column("name", sa.String(NAME), nullable=False),
    info=_content(Component.ARTIFACTS, key=("project_id", "id")),
)
subscriptions = sa.Table(
    "subscriptions",
    metadata,
    sa.Column("project_id", sa.String(HEX32), sa.ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("id", sa.String(HEX32), primary_key=True),
    sa.Column("name", sa.String(NAME), nullable=False),
    sa.Column("kind", sa.String(8), nullable=False),  # user | contact
    sa.Column("owner", sa.String(NAME), nullable=False, server_default=""),
    sa.Column("recipient", sa.String(NAME), nullable=False),
    sa.Column("object_id", sa.String(HEX32), nullable=True),
    sa.Column("schedule", sa.String(NAME), nullable=False, server_default=""),
    sa.Column("definition", sa.JSON, nullable=False, default=_empty_object),
    info=_content(Component.ARTIFACTS, key=("project_id", "id")),
)

# --- configuration -----------------------------------------------------------------------------
config_objects = sa.Table(
    "config_objects",
    metadata,
    sa.Column("id", sa.String(HEX32), primary_key=True),
    sa.Column("type", sa.Integer, nullable=False),  # Strategy object type: 34 users/groups, 44 security roles...
    sa.Column("subtype", sa.Integer, nullable=False, server_default="0"),
    sa.Column("name", sa.String(NAME), nullable=False),
    sa.Column("description", sa.String(2000), nullable=False, server_default=""),
    sa.Column("definition", sa.JSON, nullable=False, default=_empty_object),
    sa.Index("ix_config_objects_type_name", "type", "name"),
    info=_content(Component.CONFIGURATION, key=("id",)),
)

# --- jobs --------------------------------------------------------------------------------------
repositories = sa.Table(
    "repositories",
    metadata,
    sa.Column("uid", sa.String(NAME), primary_key=True),  # urn:veeam:Repository:<uuid>
    sa.Column("name", sa.String(NAME), nullable=False, unique=True),
    sa.Column("kind", sa.String(32), nullable=False, server_default="local"),
    sa.Column("path", sa.String(2000), nullable=False, server_default=""),
    sa.Column("description", sa.String(2000), nullable=False, server_default=""),
    info=_content(Component.JOBS, key=("uid",)),
)
jobs = sa.Table(
    "jobs",
    metadata,
    sa.Column("uid", sa.String(NAME), primary_key=True),  # urn:veeam:Job:<uuid>
    sa.Column("name", sa.String(NAME), nullable=False, unique=True),
    sa.Column("job_type", sa.String(32), nullable=False),
    sa.Column("description", sa.String(2000), nullable=False, server_default=""),
    sa.Column("repository_uid", sa.String(NAME), sa.ForeignKey("repositories.uid"), nullable=True),
    sa.Column("folder_name", sa.String(NAME), nullable=False, server_default=""),
    sa.Column("schedule_enabled", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("definition", sa.JSON, nullable=False, default=_empty_object),
    info=_content(Component.JOBS, key=("uid",)),
)

# --- records (jobConsole, applicationAudit, dataManagement share one shape) ---------------------
records = sa.Table(
    "records",
    metadata,
    sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("component", sa.String(32), nullable=False),
    sa.Column("ts", sa.DateTime, nullable=False),
    sa.Column("actor", sa.String(NAME), nullable=False, server_default=""),
    sa.Column("action", sa.String(NAME), nullable=False, server_default=""),
    sa.Column("subject", sa.String(NAME), nullable=False, server_default=""),
    sa.Column("status", sa.String(32), nullable=False, server_default=""),
    sa.Column("details", sa.JSON, nullable=False, default=_empty_object),
    sa.Index("ix_records_component_ts", "component", "ts"),
    # The component is a column here, not one per table: the three record kinds share a shape.
    info={"component_column": "component", "internal": frozenset({"seq"}), "key": ("seq",)},
)

# --- files -------------------------------------------------------------------------------------
files = sa.Table(
    "files",
    metadata,
    sa.Column("area", sa.String(16), primary_key=True),  # inbox | outbox | snapshots
    sa.Column("name", sa.String(255), primary_key=True),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),  # BLAKE3 of the content, also its blob key
    sa.Column("modified", sa.DateTime, nullable=False),
    info=_content(Component.FILES, key=("area", "name")),
)

# --- settings ----------------------------------------------------------------------------------
settings = sa.Table(
    "settings",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.JSON, nullable=False),
    info=_content(Component.SETTINGS, key=("key",)),
)

# --- not content: local to this server ---------------------------------------------------------
tokens = sa.Table(
    "tokens",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),  # SHA-256 of the token; the token itself is never stored
    sa.Column("login", sa.String(NAME), nullable=False),
    sa.Column("kind", sa.String(64), nullable=False),  # access | refresh | receipt:<operation id>
    sa.Column("created", sa.DateTime, nullable=False),
    sa.Column("expires", sa.DateTime, nullable=False),
)
component_generations = sa.Table(
    "component_generations",
    metadata,
    sa.Column("component", sa.String(32), primary_key=True),
    sa.Column("generation", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("digest", sa.String(64), nullable=True),
    sa.Column("digest_generation", sa.BigInteger, nullable=True),
)

# Operations are the server's own history, not environment content: a clone does not copy them.
operations = sa.Table(
    "operations",
    metadata,
    sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("id", sa.String(HEX32), nullable=False, unique=True),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("params", sa.JSON, nullable=False),
    sa.Column("steps", sa.JSON, nullable=False),
    sa.Column("progress", sa.JSON, nullable=False),
    sa.Column("result", sa.JSON, nullable=False),
    sa.Column("error_code", sa.String(64), nullable=True),
    sa.Column("error_message", sa.String(4000), nullable=True),
    sa.Column("created", sa.DateTime, nullable=False),
    sa.Column("started", sa.DateTime, nullable=True),
    sa.Column("ended", sa.DateTime, nullable=True),
    sa.Column("heartbeat", sa.DateTime, nullable=True),
    sa.Column("created_by", sa.String(NAME), nullable=False, server_default=""),
    sa.Column("runner", sa.String(255), nullable=True),  # which server process runs it
    sa.Column("cancel_requested", sa.Boolean, nullable=False, server_default=sa.false()),
    # Set once, by a guarded update that a cancel cannot cross (see store.operations).
    sa.Column("point_of_no_return", sa.DateTime, nullable=True),
    # Set while a content-replacing operation is not terminal: the unique constraint makes "one at
    # a time" hold across processes and databases without a lock service.
    sa.Column("lock_key", sa.String(64), nullable=True, unique=True),
    sa.Index("ix_operations_kind_created", "kind", "created"),
    sa.Index("ix_operations_status", "status"),
)

# An operation's secrets (a clone's target password), sealed by auth.sealing with the operation's
# id as context: whichever process claims the operation opens them, a restart included; removed
# with the operation's final status. Never in clear: the database may be copied or backed up.
operation_secrets = sa.Table(
    "operation_secrets",
    metadata,
    sa.Column("operation_id", sa.String(HEX32), primary_key=True),
    sa.Column("sealed", sa.LargeBinary, nullable=False),
    sa.Column("created", sa.DateTime, nullable=False),
)

# Archives this server keeps (daily Artifact Snapshots and Environment Backups): the server's own
# backup catalogue, not environment content, so a restore never rewrites the list it restores from.
archives = sa.Table(
    "archives",
    metadata,
    sa.Column("name", sa.String(NAME), primary_key=True),  # 2026-04-23T08:48:06/Environment_Backup
    sa.Column("kind", sa.String(32), nullable=False),  # environment_backup | artifact_snapshot
    sa.Column("manifest_id", sa.String(64), nullable=False),
    sa.Column("created", sa.DateTime, nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),  # logical bytes of all entries
    sa.Column("components", sa.JSON, nullable=False),
    sa.Column("digests", sa.JSON, nullable=False),  # component -> content digest at backup time
    sa.Column("generations", sa.JSON, nullable=False),  # component -> change counter at backup time
    sa.Column("source", sa.JSON, nullable=False),  # environment name, version, service type
    sa.Column("verified", sa.DateTime, nullable=True),
    sa.Column("verify_result", sa.JSON, nullable=True),
    sa.Index("ix_archives_kind_created", "kind", "created"),
)

# Small facts about this server that are not content (e.g. "skip the next daily maintenance").
server_state = sa.Table(
    "server_state",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.JSON, nullable=False),
)

# Project duplications (Strategy's projectDuplications): one row per side this server runs, whose
# id is the duplication's (the same on the source and the target of a cross-environment one). The
# server's own history like operations: an environment clone does not copy it.
duplications = sa.Table(
    "duplications",
    metadata,
    sa.Column("id", sa.String(HEX32), primary_key=True),
    sa.Column("role", sa.String(16), nullable=False),  # local | source | target
    sa.Column("operation_id", sa.String(HEX32), nullable=False, unique=True),
    sa.Column("source", sa.JSON, nullable=False),
    sa.Column("target", sa.JSON, nullable=False),
    sa.Column("settings", sa.JSON, nullable=False),
    sa.Column("creator", sa.String(NAME), nullable=False),
    sa.Column("created", sa.DateTime, nullable=False),
    sa.Column("updated", sa.DateTime, nullable=False),
    # The archive of the project (the source's export or an uploaded package), once there is one:
    # the package download reads it, and it is removed with the record.
    sa.Column("manifest_id", sa.String(64), nullable=True),
    sa.Index("ix_duplications_created", "created"),
)
