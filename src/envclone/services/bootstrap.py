"""First start and every start: migrate the schema, make sure built-in roles, settings and change
counters exist, and create the first Service Administrator when the environment has no users."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass

import sqlalchemy as sa

from envclone.auth.passwords import hash_password
from envclone.domain.components import Component
from envclone.domain.roles import GRANULAR_ROLES, PREDEFINED_ROLES, Role
from envclone.services.context import ServiceContext
from envclone.services.environment import defaults
from envclone.store import server_state, tables
from envclone.store.database import bump


@dataclass(frozen=True)
class FirstAdmin:
    login: str
    generated_password: str | None  # shown once when the operator gave none


def _ensure_roles(conn: sa.Connection) -> bool:
    existing = set(conn.execute(sa.select(tables.roles.c.name)).scalars())
    rows = [{"name": r.value, "kind": "predefined", "description": ""} for r in PREDEFINED_ROLES] + [
        {"name": r.value, "kind": "granular", "description": ""} for r in GRANULAR_ROLES
    ]
    missing = [row for row in rows if row["name"] not in existing]
    if missing:
        conn.execute(tables.roles.insert(), missing)
    return bool(missing)


def _ensure_counters(conn: sa.Connection) -> None:
    table = tables.component_generations
    existing = set(conn.execute(sa.select(table.c.component)).scalars())
    missing = [{"component": c.value, "generation": 0} for c in Component if c.value not in existing]
    if missing:
        conn.execute(table.insert(), missing)


def _ensure_settings(conn: sa.Connection, ctx: ServiceContext) -> bool:
    # Defaults are stored, not implied, so that two environments that agree on a setting have the
    # same digest whether or not someone ever set it.
    existing = set(conn.execute(sa.select(tables.settings.c.key)).scalars())
    missing = [{"key": k, "value": v} for k, v in defaults(ctx).items() if k not in existing]
    if missing:
        conn.execute(tables.settings.insert(), missing)
    return bool(missing)


def _ensure_instance_id(conn: sa.Connection) -> None:
    # Tells two servers apart even behind different URLs (a clone refuses source == target).
    server_state.put_if_absent(conn, server_state.INSTANCE_ID, uuid.uuid4().hex)


def _ensure_admin(conn: sa.Connection, ctx: ServiceContext) -> FirstAdmin | None:
    if conn.execute(sa.select(tables.users.c.login).limit(1)).first() is not None:
        return None
    login = ctx.settings.admin_user
    given = ctx.settings.admin_password.get_secret_value() if ctx.settings.admin_password else None
    password = given or secrets.token_urlsafe(12)
    conn.execute(
        tables.users.insert().values(
            login=login, display_name="Service Administrator", email="", password_hash=hash_password(password)
        )
    )
    conn.execute(
        tables.role_assignments.insert(),
        [
            {"principal_kind": "user", "principal_name": login, "role_name": Role.SERVICE_ADMINISTRATOR.value},
            {"principal_kind": "user", "principal_name": login, "role_name": Role.IDENTITY_DOMAIN_ADMINISTRATOR.value},
        ],
    )
    return FirstAdmin(login=login, generated_password=None if given else password)


def bootstrap(ctx: ServiceContext) -> FirstAdmin | None:
    ctx.db.migrate()
    with ctx.db.begin() as conn:
        _ensure_counters(conn)
        _ensure_instance_id(conn)
        # Bootstrap writes without the repositories, so it marks what it changed itself; a plain
        # restart changes nothing and must not make the next backup re-read everything.
        roles_added = _ensure_roles(conn)
        admin = _ensure_admin(conn, ctx)
        if roles_added or admin is not None:
            bump(conn, Component.USERS)
        if _ensure_settings(conn, ctx):
            bump(conn, Component.SETTINGS)
    return admin
