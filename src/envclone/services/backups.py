"""Backups and daily maintenance as use cases: list the archived backups, run maintenance now,
restore the environment from a backup, read and set the maintenance start time. Checks roles and
validates the request fully before an operation is recorded."""

from __future__ import annotations

import re
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa

from envclone.domain import maintenance, restore, verify
from envclone.domain.archives import ArchiveKind
from envclone.domain.operation import Operation
from envclone.domain.principal import Permission, Principal
from envclone.domain.roles import Role
from envclone.errors import Forbidden, InvalidRequest, NotFound
from envclone.operations.stored_snapshots import find_stored, kind_of, stored_manifest
from envclone.services import environment
from envclone.services.context import ServiceContext
from envclone.store import archives, server_state

_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
SKIP_NEXT = "skip_next_maintenance"


def list_backups(ctx: ServiceContext, who: Principal, kind: str | None = None) -> list[dict[str, Any]]:
    who.require(Permission.MIGRATE)
    with ctx.db.read() as conn:
        return archives.listing(conn, kind)


def get_backup(ctx: ServiceContext, who: Principal, name: str) -> dict[str, Any]:
    who.require(Permission.MIGRATE)
    with ctx.db.read() as conn:
        return archives.get(conn, name)


def run_maintenance(ctx: ServiceContext, who: Principal, *, skip_next: bool = False) -> Operation:
    """Run now; with ``skip_next`` the next scheduled run is skipped (EPM's rundailymaintenance)."""
    who.require(Permission.MIGRATE)
    op = ctx.engine.submit(maintenance.KIND, {"skipNext": skip_next}, created_by=who.login)
    if skip_next:
        set_skip_next(ctx, True)
    return op


# Roles that give access to the application (the identity and granular roles do not).
APPLICATION_ROLES = frozenset({Role.SERVICE_ADMINISTRATOR, Role.POWER_USER, Role.USER, Role.VIEWER})


def start_restore(ctx: ServiceContext, who: Principal, request: restore.RestoreRequest) -> Operation:
    """Restore Environment: Service Administrator, or Migrations - Administer together with an
    application role (Migrations - Administer alone is enough to clone, not to restore)."""
    who.require(Permission.MIGRATE)
    if not any(r.value in who.roles for r in APPLICATION_ROLES):
        raise Forbidden(
            f"{who.login} may not restore the environment: Migrations - Administer needs an application role "
            "as well (Service Administrator, Power User, User or Viewer)"
        )
    if request.users and Role.IDENTITY_DOMAIN_ADMINISTRATOR.value not in who.roles:
        raise Forbidden("restoring users and predefined roles also requires the Identity Domain Administrator role")
    _check_environment_backup(ctx, request.backup_name)
    return ctx.engine.submit(restore.KIND, request.model_dump(mode="json"), created_by=who.login)


def _check_environment_backup(ctx: ServiceContext, name: str) -> None:
    """The backup a restore names: an Environment Backup of the catalogue (listBackups) or, as the
    EPM flow of downloading a backup from one environment and uploading it to another implies, a
    stored snapshot holding every component, of this environment's service type. Only the
    package's manifest is read here; the restore verifies every chunk before changing anything."""
    with ctx.db.read() as conn:
        row = archives.find(conn, name)
        stored = find_stored(conn, name) if row is None else None
    if stored is None:
        if row is None or row["kind"] != ArchiveKind.ENVIRONMENT_BACKUP:
            raise NotFound(
                f"environment backup {name} not found: name one listed by listBackups or an uploaded Environment Backup"
            )
        return
    manifest = stored_manifest(ctx, stored)
    if kind_of(manifest) != ArchiveKind.ENVIRONMENT_BACKUP:
        held = ", ".join(sorted({c for c, _ in manifest.entries()}))
        raise NotFound(
            f"environment backup {name} not found: the stored snapshot {stored['name']} is not an Environment "
            f"Backup (it holds only {held})"
        )
    service = manifest.source.get("service_type")
    if service is not None and service != ctx.settings.service_type.value:
        raise InvalidRequest(
            f"{stored['name']} is a backup of a {service} environment and this is a "
            f"{ctx.settings.service_type.value} environment: restore only backups of the same service type"
        )


def start_verify(ctx: ServiceContext, who: Principal, name: str) -> Operation:
    who.require(Permission.MIGRATE)
    with ctx.db.read() as conn:
        archives.get(conn, name)
    return ctx.engine.submit(verify.KIND, {"backup_name": name}, created_by=who.login)


def start_store_verify(ctx: ServiceContext, who: Principal) -> Operation:
    """Read every stored file content and settings image and check it against its hash."""
    who.require(Permission.MIGRATE)
    return ctx.engine.submit(verify.STORE_KIND, {}, created_by=who.login)


def maintenance_time(ctx: ServiceContext, who: Principal) -> dict[str, str]:
    values = environment.get_settings(ctx, who)
    return {"start_time": values["maintenance_start_time"], "time_zone": values["maintenance_time_zone"]}


def set_maintenance_time(ctx: ServiceContext, who: Principal, start: str, zone: str | None) -> dict[str, str]:
    match = _HHMM.match(start.strip())
    if not match:
        raise InvalidRequest(f"{start!r} is not a valid start time: use HH:MM (24-hour)")
    changes = {"maintenance_start_time": f"{int(match.group(1)):02d}:{match.group(2)}"}
    if zone:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise InvalidRequest(f"{zone!r} is not a known IANA time zone") from None
        changes["maintenance_time_zone"] = zone
    environment.update_settings(ctx, who, changes)
    return maintenance_time(ctx, who)


def set_skip_next(ctx: ServiceContext, skip: bool) -> None:
    with ctx.db.begin() as conn:
        server_state.put(conn, SKIP_NEXT, skip)


def skip_next(conn: sa.Connection) -> bool:
    return bool(server_state.get(conn, SKIP_NEXT))
