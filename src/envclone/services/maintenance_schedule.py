"""Daily maintenance as the engine's scheduler sees it: when it starts (the environment's
settings), whether the next run was skipped (EPM's skipNext), what to submit, and the scheduled
verification of the newest Environment Backup. Timing and the thread are the engine's."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from envclone.domain import maintenance, verify
from envclone.domain.archives import ArchiveKind
from envclone.domain.principal import Principal
from envclone.domain.roles import Role
from envclone.services import backups, environment
from envclone.services.context import ServiceContext
from envclone.store import archives, server_state
from envclone.store import operations as operations_repo

SLOT_KEY = "maintenance_slot"
SYSTEM = Principal.of("scheduler", {Role.SERVICE_ADMINISTRATOR.value})


class MaintenanceSchedule:
    """The engine's DailyWork for daily maintenance."""

    slot_key = SLOT_KEY

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def start_time(self) -> tuple[str, str]:
        settings = environment.get_settings(self.ctx, SYSTEM)
        return settings["maintenance_start_time"], settings["maintenance_time_zone"]

    def take_skip(self, conn: sa.Connection) -> bool:
        if not backups.skip_next(conn):
            return False
        server_state.put(conn, backups.SKIP_NEXT, False)
        return True

    def run(self, slot: dt.datetime) -> None:
        self.ctx.engine.submit(maintenance.KIND, {"scheduled": slot.isoformat()}, created_by=SYSTEM.login)

    def follow_up(self) -> bool:
        """Scheduled verification: the newest Environment Backup is read back and checked once,
        soon after it is written; the result stays on the backup (GET /v1/backups/{name}/verify)."""
        if not self.ctx.settings.verify_backups:
            return False
        with self.ctx.db.read() as conn:
            newest = archives.latest(conn, ArchiveKind.ENVIRONMENT_BACKUP)
            if newest is None or newest["verified"] is not None:
                return False
            running = operations_repo.any_open(conn, verify.KIND)
        if not running:
            self.ctx.engine.submit(verify.KIND, {"backup_name": newest["name"]}, created_by=SYSTEM.login)
        return True
