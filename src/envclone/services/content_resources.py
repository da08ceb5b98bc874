"""The content resources the native API administers, each a Resource over one table with the
hooks its rules need. Ids that the vendor formats fix (32-hex object ids, Veeam URNs) are made
here when the caller gives none."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa

from envclone.auth import tokens
from envclone.auth.passwords import hash_password
from envclone.blobs.s3_location import parse_s3_url
from envclone.domain.job_run import is_bucket
from envclone.domain.page import Row
from envclone.domain.principal import Permission
from envclone.errors import Conflict, InvalidRequest, NotFound
from envclone.services.resource import Resource
from envclone.store import tables
from envclone.store.repository import TableRepository


def new_object_id() -> str:
    return uuid.uuid4().hex.upper()


def _with_id(column: str, make: Any) -> Any:
    def prepare(_conn: sa.Connection, values: dict[str, Any], creating: bool) -> dict[str, Any]:
        if creating and not values.get(column):
            values = {**values, column: make()}
        return values

    return prepare


# --- users and roles ---------------------------------------------------------------------------
def _prepare_user(_conn: sa.Connection, values: dict[str, Any], _creating: bool) -> dict[str, Any]:
    values = dict(values)
    if "password" in values:
        password = values.pop("password")
        values["password_hash"] = hash_password(password) if password else None
    return values


def _credentials_changed(conn: sa.Connection, before: Row, after: Row) -> None:
    # A new password (a new salted hash, even for the same password), or the account disabled or
    # enabled again: what was proved before no longer holds, so every token and session of the
    # user ends, and re-enabling revives none.
    if before["password_hash"] != after["password_hash"] or before["enabled"] != after["enabled"]:
        tokens.revoke_user(conn, after["login"])


def _forget_user(conn: sa.Connection, row: Row) -> None:
    _forget_principal("user", "login")(conn, row)
    tokens.revoke_user(conn, row["login"])


def _principal_exists(conn: sa.Connection, kind: str, name: str) -> None:
    table = tables.users if kind == "user" else tables.groups
    column = table.c.login if kind == "user" else table.c.name
    if kind not in ("user", "group"):
        raise InvalidRequest("kind must be user or group")
    if conn.execute(sa.select(column).where(column == name)).first() is None:
        raise NotFound(f"{kind} {name} not found")


def _forget_principal(kind: str, name_column: str) -> Any:
    def hook(conn: sa.Connection, row: Row) -> None:
        name = row[name_column]
        ra, gm = tables.role_assignments, tables.group_members
        conn.execute(ra.delete().where(ra.c.principal_kind == kind, ra.c.principal_name == name))
        conn.execute(gm.delete().where(gm.c.member_kind == kind, gm.c.member_name == name))

    return hook


def _prepare_member(conn: sa.Connection, values: dict[str, Any], _creating: bool) -> dict[str, Any]:
    _principal_exists(conn, values["member_kind"], values["member_name"])
    if values["member_kind"] == "group" and values["member_name"] == values["group_name"]:
        raise InvalidRequest("a group cannot be a member of itself")
    return values


def _prepare_assignment(conn: sa.Connection, values: dict[str, Any], _creating: bool) -> dict[str, Any]:
    _principal_exists(conn, values["principal_kind"], values["principal_name"])
    roles_repo.get(conn, {"name": values["role_name"]})
    return values


def _prepare_role(_conn: sa.Connection, values: dict[str, Any], creating: bool) -> dict[str, Any]:
    if creating:
        values = {**values, "kind": "application"}
    return values


def _keep_builtin_roles(_conn: sa.Connection, row: Row) -> None:
    if row["kind"] != "application":
        raise Conflict(f"the {row['kind']} role {row['name']} is built in and cannot be deleted")


roles_repo = TableRepository(tables.roles)

USERS = Resource(
    TableRepository(tables.users),
    read=Permission.ADMINISTER_USERS,
    write=Permission.ADMINISTER_USERS,
    filters=frozenset({"login__prefix", "email", "enabled"}),
    hidden=frozenset({"password_hash"}),
    prepare=_prepare_user,
    before_delete=_forget_user,
    after_update=_credentials_changed,
    render_extra=lambda row: {"has_password": row.get("password_hash") is not None},
)
GROUPS = Resource(
    TableRepository(tables.groups),
    read=Permission.ADMINISTER_USERS,
    write=Permission.ADMINISTER_USERS,
    filters=frozenset({"name__prefix"}),
    before_delete=_forget_principal("group", "name"),
)
GROUP_MEMBERS = Resource(
    TableRepository(tables.group_members, label="group member"),
    read=Permission.ADMINISTER_USERS,
    write=Permission.ADMINISTER_USERS,
    scope="group_name",
    parent=GROUPS.repo,
    filters=frozenset({"member_kind"}),
    prepare=_prepare_member,
)
ROLES = Resource(
    roles_repo,
    read=Permission.READ_CONTENT,
    write=Permission.ADMINISTER_USERS,
    filters=frozenset({"kind"}),
    prepare=_prepare_role,
    before_delete=_keep_builtin_roles,
    immutable=frozenset({"kind"}),
)
ROLE_ASSIGNMENTS = Resource(
    TableRepository(tables.role_assignments, label="role assignment"),
    read=Permission.ADMINISTER_USERS,
    write=Permission.ADMINISTER_USERS,
    filters=frozenset({"principal_kind", "principal_name", "role_name"}),
    prepare=_prepare_assignment,
)

# --- artifacts ---------------------------------------------------------------------------------
PROJECTS = Resource(
    TableRepository(tables.projects),
    filters=frozenset({"name", "name__prefix", "owner"}),
    prepare=_with_id("id", new_object_id),
)
OBJECTS = Resource(
    TableRepository(tables.metadata_objects, label="object"),
    scope="project_id",
    parent=PROJECTS.repo,
    filters=frozenset(
        {"type", "subtype", "name", "name__prefix", "folder_path", "folder_path__prefix", "is_schema", "owner"}
    ),
    prepare=_with_id("id", new_object_id),
)
PROFILE_FOLDERS = Resource(
    TableRepository(tables.profile_folders, label="profile folder"),
    scope="project_id",
    parent=PROJECTS.repo,
    filters=frozenset({"owner"}),
    prepare=_with_id("id", new_object_id),
)
SUBSCRIPTIONS = Resource(
    TableRepository(tables.subscriptions),
    scope="project_id",
    parent=PROJECTS.repo,
    filters=frozenset({"kind", "owner", "recipient"}),
    prepare=_with_id("id", new_object_id),
)

# --- configuration and jobs --------------------------------------------------------------------
CONFIG_OBJECTS = Resource(
    TableRepository(tables.config_objects, label="configuration object"),
    filters=frozenset({"type", "subtype", "name", "name__prefix"}),
    prepare=_with_id("id", new_object_id),
)
_repository_uid = _with_id("uid", lambda: f"urn:veeam:Repository:{uuid.uuid4()}")


def _prepare_repository(conn: sa.Connection, values: dict[str, Any], creating: bool) -> dict[str, Any]:
    """A bucket repository's URL is checked before it is stored: one holding a key (user:secret@)
    never reaches the database, and a mistyped one is refused now rather than at its first run."""
    path = values.get("path")
    if isinstance(path, str) and is_bucket(path):
        try:
            parse_s3_url(path)
        except ValueError as exc:
            raise InvalidRequest(f"repository path: {exc}") from None
    prepared: dict[str, Any] = _repository_uid(conn, values, creating)
    return prepared


REPOSITORIES = Resource(
    TableRepository(tables.repositories, label="repository"),
    filters=frozenset({"name", "kind"}),
    prepare=_prepare_repository,
)
JOBS = Resource(
    TableRepository(tables.jobs),
    filters=frozenset({"name", "name__prefix", "job_type", "repository_uid"}),
    prepare=_with_id("uid", lambda: f"urn:veeam:Job:{uuid.uuid4()}"),
)
