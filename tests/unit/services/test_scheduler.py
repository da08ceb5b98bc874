"""The maintenance scheduler handles each daily slot once, in the configured zone, honours
skipNext, and waits while another operation holds the environment."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from envclone.auth.principal import Principal
from envclone.domain.operation import Operation
from envclone.operations import maintenance
from envclone.services import backups, environment, operations
from envclone.services.context import ServiceContext
from envclone.services.scheduler import MaintenanceScheduler, latest_slot
from tests.builders import make_context

ADMIN = Principal.of("admin", {"Service Administrator"})
UTC = dt.UTC


def test_latest_slot_in_a_time_zone() -> None:
    now = dt.datetime(2026, 7, 1, 12, 0, tzinfo=UTC)  # 05:00 in Los Angeles (PDT)
    assert latest_slot(now, "03:00", "America/Los_Angeles") == dt.datetime(2026, 7, 1, 10, 0)
    assert latest_slot(now, "06:00", "America/Los_Angeles") == dt.datetime(2026, 6, 30, 13, 0)
    assert latest_slot(now, "12:00", "UTC") == dt.datetime(2026, 7, 1, 12, 0)


def test_each_slot_runs_once_and_skip_next_skips_one(tmp_path: Path) -> None:
    ctx = make_context(tmp_path)
    environment.update_settings(ctx, ADMIN, {"maintenance_start_time": "02:00", "maintenance_time_zone": "UTC"})
    scheduler = MaintenanceScheduler(ctx)
    day1 = dt.datetime(2026, 3, 1, 1, 0, tzinfo=UTC)
    assert scheduler.tick(day1) == "idle"  # first start: nothing is run for past slots
    assert scheduler.tick(day1 + dt.timedelta(hours=2)) == "ran"
    ops = [op for op in _ops(ctx) if op.kind == maintenance.KIND]
    assert len(ops) == 1
    ctx.engine.wait(ops[0].id, timeout=60)
    assert scheduler.tick(day1 + dt.timedelta(hours=3)) == "verifying"  # the new backup is checked once
    verifying = [op for op in _ops(ctx) if op.kind == "verifyBackup"]
    assert len(verifying) == 1
    assert ctx.engine.wait(verifying[0].id, timeout=60).status.value == "succeeded"
    assert scheduler.tick(day1 + dt.timedelta(hours=4)) == "idle"
    backups.set_skip_next(ctx, True)
    assert scheduler.tick(day1 + dt.timedelta(days=1, hours=2)) == "skipped"
    assert scheduler.tick(day1 + dt.timedelta(days=2, hours=2)) == "ran"


def _ops(ctx: ServiceContext) -> list[Operation]:
    return operations.list_operations(ctx, ADMIN, kind=None, status=None, limit=50, offset=0)
