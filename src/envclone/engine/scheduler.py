"""Runs one piece of daily work at its configured start time (in its time zone): each daily slot
is handled once, run or skipped, and a slot whose work cannot start yet (the environment is busy)
is tried again at the next tick. What the work is, and whether to skip it, is the caller's."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from typing import Protocol
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from envclone.errors import Conflict
from envclone.store import server_state
from envclone.store.database import Database

log = logging.getLogger("envclone.scheduler")

# What tick() did, for logs and tests.
RAN, SKIPPED, WAITING, VERIFYING, IDLE = "ran", "skipped", "waiting", "verifying", "idle"
# Beside a work's slot key: the start time and zone its last slot was computed from.
SCHEDULE_SUFFIX = ":schedule"


class DailyWork(Protocol):
    """The work a DailyScheduler runs; implemented above the engine (daily maintenance)."""

    # The server_state key under which the last slot handled is kept: one per kind of work.
    slot_key: str

    def start_time(self) -> tuple[str, str]:
        """The daily start as "HH:MM" and its IANA time zone; read at every tick, so a change
        applies from the next slot."""
        ...

    def take_skip(self, conn: sa.Connection) -> bool:
        """True if this slot is to be skipped; the request is consumed in ``conn``'s transaction,
        the one that records the slot as handled, so a skip is never lost nor used twice."""
        ...

    def run(self, slot: dt.datetime) -> None:
        """Start the slot's work; raises Conflict while the environment is busy."""
        ...

    def follow_up(self) -> bool:
        """Called while no slot is due: start or watch whatever checks the last run's output
        (verification of the new backup); True while there is such work."""
        ...


def latest_slot(now: dt.datetime, start: str, zone: str) -> dt.datetime:
    """The most recent scheduled start at or before ``now`` (aware, UTC), as naive UTC."""
    tz = ZoneInfo(zone)
    local = now.astimezone(tz)
    hour, minute = (int(part) for part in start.split(":"))
    slot = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if slot > local:
        slot = (local - dt.timedelta(days=1)).replace(hour=hour, minute=minute, second=0, microsecond=0)
    return slot.astimezone(dt.UTC).replace(tzinfo=None)


class Periodic:
    """Calls ``tick(now)`` every ``interval`` seconds in a daemon thread until stopped; a tick that
    fails is logged and the next one tries again. The clock of every scheduler here."""

    def __init__(self, name: str, tick: Callable[[dt.datetime], object], *, interval: float = 30.0) -> None:
        self.interval = interval
        self._tick, self._name = tick, name
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"envclone-{name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self._tick(dt.datetime.now(dt.UTC))
            except Exception:
                log.exception("%s failed; will try again", self._name)


class DailyScheduler(Periodic):
    def __init__(self, db: Database, work: DailyWork, *, interval: float = 30.0) -> None:
        super().__init__("scheduler", self.tick, interval=interval)
        self.db = db
        self.work = work

    def tick(self, now: dt.datetime) -> str:
        """Handle the current slot once: RAN, SKIPPED, WAITING (environment busy), then VERIFYING
        (the work's follow-up is under way) or IDLE."""
        start, zone = self.work.start_time()
        slot = latest_slot(now, start, zone)
        key = self.work.slot_key
        schedule = f"{start} {zone}"
        with self.db.begin() as conn:
            last = server_state.get(conn, key)
            if last is None:  # first start: the next slot is the first one to run
                server_state.put(conn, key, slot.isoformat())
                server_state.put(conn, key + SCHEDULE_SUFFIX, schedule)
                return IDLE
            if server_state.get(conn, key + SCHEDULE_SUFFIX) not in (None, schedule):
                # The start time or zone changed (by hand or by a clone): it applies from the next
                # slot. Without this a new time earlier in the day than the old one would look like
                # a missed slot and run at once, in the middle of whatever the user is doing.
                server_state.put(conn, key, max(slot, dt.datetime.fromisoformat(str(last))).isoformat())
                server_state.put(conn, key + SCHEDULE_SUFFIX, schedule)
                return IDLE
            server_state.put_if_absent(conn, key + SCHEDULE_SUFFIX, schedule)
            done = dt.datetime.fromisoformat(str(last)) >= slot
            if not done and self.work.take_skip(conn):
                server_state.put(conn, key, slot.isoformat())
                log.info("daily work of %s skipped as requested", slot)
                return SKIPPED
        if done:
            return VERIFYING if self.work.follow_up() else IDLE
        try:
            self.work.run(slot)
        except Conflict:
            return WAITING
        with self.db.begin() as conn:
            server_state.put(conn, key, slot.isoformat())
        return RAN
