"""The daily scheduler handles each slot once, in the configured zone, honours skipNext, and waits
while another operation holds the environment; daily maintenance is its work in the server."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import sqlalchemy as sa

from envclone.domain import maintenance
from envclone.domain.operation import Operation
from envclone.domain.principal import Principal
from envclone.engine.scheduler import DailyScheduler, latest_slot
from envclone.errors import Conflict
from envclone.services import backups, environment, operations
from envclone.services.context import ServiceContext
from envclone.services.maintenance_schedule import MaintenanceSchedule
from envclone.store.database import Database
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
    scheduler = DailyScheduler(ctx.db, MaintenanceSchedule(ctx))
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
    return operations.list_operations(ctx, ADMIN, kind=None, status=None, limit=50, offset=0)[0]


class _FakeWork:
    """Daily work that records what the scheduler asked of it, busy while ``busy`` is set."""

    slot_key = "test_slot"

    def __init__(self) -> None:
        self.runs: list[dt.datetime] = []
        self.busy = False
        self.skip = False

    def start_time(self) -> tuple[str, str]:
        return "02:00", "Europe/Paris"

    def take_skip(self, conn: sa.Connection) -> bool:
        skip, self.skip = self.skip, False
        return skip

    def run(self, slot: dt.datetime) -> None:
        if self.busy:
            raise Conflict("busy")
        self.runs.append(slot)

    def follow_up(self) -> bool:
        return False


def test_a_busy_environment_delays_the_slot_without_losing_it(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'db.sqlite'}")
    db.migrate()
    work = _FakeWork()
    scheduler = DailyScheduler(db, work)
    day1 = dt.datetime(2026, 1, 10, 0, 0, tzinfo=UTC)  # 01:00 in Paris (CET)
    assert scheduler.tick(day1) == "idle"
    work.busy = True
    assert scheduler.tick(day1 + dt.timedelta(hours=2)) == "waiting"
    work.busy = False
    assert scheduler.tick(day1 + dt.timedelta(hours=3)) == "ran"
    assert scheduler.tick(day1 + dt.timedelta(hours=4)) == "idle"
    assert work.runs == [dt.datetime(2026, 1, 10, 1, 0)]  # 02:00 Paris as naive UTC
    work.skip = True
    assert scheduler.tick(day1 + dt.timedelta(days=1, hours=2)) == "skipped"
    assert scheduler.tick(day1 + dt.timedelta(days=1, hours=3)) == "idle"
    assert len(work.runs) == 1


class _MovableWork(_FakeWork):
    """Fake work whose start time the test changes, as a user or a clone changes the setting."""

    def __init__(self) -> None:
        super().__init__()
        self.start = "02:00"

    def start_time(self) -> tuple[str, str]:
        return self.start, "UTC"


def test_a_changed_start_time_applies_from_the_next_slot_not_at_once(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'db.sqlite'}")
    db.migrate()
    work = _MovableWork()
    scheduler = DailyScheduler(db, work)
    day1 = dt.datetime(2026, 1, 10, 1, 0, tzinfo=UTC)
    assert scheduler.tick(day1) == "idle"  # handled: 9 Jan 02:00
    work.start = "00:30"  # earlier today than now, later than the last slot handled
    assert scheduler.tick(day1 + dt.timedelta(minutes=5)) == "idle"  # not a missed slot: nothing runs
    assert work.runs == []
    assert scheduler.tick(day1 + dt.timedelta(days=1)) == "ran"  # 11 Jan 00:30, the next slot
    assert work.runs == [dt.datetime(2026, 1, 11, 0, 30)]
    work.start = "23:00"  # a later time the same day runs at that time, once
    assert scheduler.tick(day1 + dt.timedelta(days=1, hours=1)) == "idle"
    assert scheduler.tick(day1 + dt.timedelta(days=1, hours=22, minutes=1)) == "ran"
    assert scheduler.tick(day1 + dt.timedelta(days=1, hours=22, minutes=2)) == "idle"
    assert work.runs[-1] == dt.datetime(2026, 1, 11, 23, 0)
