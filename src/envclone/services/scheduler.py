"""Runs daily maintenance at the environment's configured start time (in its time zone), then
verifies the new backup. Each daily slot is handled once: run, or skipped when ``skipNext`` was
asked for. If another operation
holds the environment (a clone or restore), maintenance waits for it and runs at the next tick,
instead of killing it as Oracle's does."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from envclone.auth.principal import Principal
from envclone.domain import maintenance, verify
from envclone.domain.roles import Role
from envclone.errors import Conflict
from envclone.operations import catalog
from envclone.services import backups, environment
from envclone.services.context import ServiceContext
from envclone.store import tables

log = logging.getLogger("envclone.scheduler")
SLOT_KEY = "maintenance_slot"
SYSTEM = Principal.of("scheduler", {Role.SERVICE_ADMINISTRATOR.value})


def latest_slot(now: dt.datetime, start: str, zone: str) -> dt.datetime:
    """The most recent scheduled start at or before ``now`` (aware, UTC), as naive UTC."""
    tz = ZoneInfo(zone)
    local = now.astimezone(tz)
    hour, minute = (int(part) for part in start.split(":"))
    slot = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if slot > local:
        slot = (local - dt.timedelta(days=1)).replace(hour=hour, minute=minute, second=0, microsecond=0)
    return slot.astimezone(dt.UTC).replace(tzinfo=None)


def _state(conn: sa.Connection, key: str) -> object:
    t = tables.server_state
    return conn.execute(sa.select(t.c.value).where(t.c.key == key)).scalar()


def _set_state(conn: sa.Connection, key: str, value: object) -> None:
    t = tables.server_state
    conn.execute(t.delete().where(t.c.key == key))
    conn.execute(t.insert().values(key=key, value=value))


class MaintenanceScheduler:
    def __init__(self, ctx: ServiceContext, *, interval: float = 30.0) -> None:
        self.ctx = ctx
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="envclone-scheduler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.tick(dt.datetime.now(dt.UTC))
            except Exception:
                log.exception("daily maintenance scheduling failed; will try again")

    def _verify_latest(self) -> bool:
        """Scheduled verification: the newest Environment Backup is read back and checked once,
        soon after it is written; the result stays on the backup (GET /v1/backups/{name}/verify)."""
        if not self.ctx.settings.verify_backups:
            return False
        ops = tables.operations
        with self.ctx.db.read() as conn:
            newest = catalog.latest(conn, catalog.ENVIRONMENT_BACKUP)
            if newest is None or newest["verified"] is not None:
                return False
            running = conn.execute(
                sa.select(ops.c.id).where(ops.c.kind == verify.KIND, ops.c.status.in_(("queued", "running")))
            ).first()
        if running is None:
            self.ctx.engine.submit(verify.KIND, {"backup_name": newest["name"]}, created_by=SYSTEM.login)
        return True

    def tick(self, now: dt.datetime) -> str:
        """Handle the current slot once: 'ran', 'skipped', 'waiting' (environment busy), then
        'verifying' (the new backup is being checked) or 'idle'."""
        settings = environment.get_settings(self.ctx, SYSTEM)
        slot = latest_slot(now, settings["maintenance_start_time"], settings["maintenance_time_zone"])
        with self.ctx.db.begin() as conn:
            last = _state(conn, SLOT_KEY)
            if last is None:  # first start: the next slot is the first one to run
                _set_state(conn, SLOT_KEY, slot.isoformat())
                return "idle"
            done = dt.datetime.fromisoformat(str(last)) >= slot
            if not done and backups.skip_next(conn):
                _set_state(conn, SLOT_KEY, slot.isoformat())
                _set_state(conn, backups.SKIP_NEXT, False)
                log.info("daily maintenance of %s skipped as requested", slot)
                return "skipped"
        if done:
            return "verifying" if self._verify_latest() else "idle"
        try:
            self.ctx.engine.submit(maintenance.KIND, {"scheduled": slot.isoformat()}, created_by=SYSTEM.login)
        except Conflict:
            return "waiting"
        with self.ctx.db.begin() as conn:
            _set_state(conn, SLOT_KEY, slot.isoformat())
        return "ran"
