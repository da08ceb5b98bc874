"""Jobs run on their own schedules (issue 9): every job whose schedule is enabled (the job's
``schedule_enabled`` and its definition's ``schedule.daily`` with ``isEnabled`` and ``localTime``
"HH:MM", as Veeam writes a daily schedule) starts once per day at that time, in the environment's
time zone (the ``maintenance_time_zone`` setting). Each job is one DailyWork of the engine's
scheduler, so a job's slots follow the same rules as daily maintenance: a slot is handled once, a
slot whose run cannot start yet (the environment is busy) is tried again at the next tick, a
changed time applies from its next occurrence, and a new job's first run is its next slot."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
from typing import Any

import sqlalchemy as sa

from envclone.engine.scheduler import DailyScheduler, Periodic
from envclone.errors import Conflict, EnvcloneError
from envclone.services import environment, job_runs
from envclone.services.context import ServiceContext
from envclone.services.maintenance_schedule import SYSTEM
from envclone.store import jobs

log = logging.getLogger("envclone.jobs")
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
SLOT_PREFIX = "job_slot:"


def slot_key(uid: str) -> str:
    """The server_state key of a job's last handled slot: a job's uid (up to 250 characters) does
    not fit the 64-character key with the scheduler's suffix, so it is named by a hash of it."""
    return SLOT_PREFIX + hashlib.blake2b(uid.encode(), digest_size=16).hexdigest()


def daily_time(job: dict[str, Any]) -> str | None:
    """The job's daily start "HH:MM" if its schedule is enabled, else None."""
    if not job.get("schedule_enabled"):
        return None
    definition = job.get("definition")
    schedule = definition.get("schedule") if isinstance(definition, dict) else None
    daily = schedule.get("daily") if isinstance(schedule, dict) else None
    if not isinstance(daily, dict) or daily.get("isEnabled") is not True:
        return None
    start = daily.get("localTime")
    if not isinstance(start, str):
        return None
    hour, _, minute = start.partition(":")
    start = f"{hour.zfill(2)}:{minute}"  # Veeam writes "9:30" as well as "09:30"
    return start if _HHMM.match(start) else None


class JobRun:
    """One job's daily work, for the engine's DailyScheduler."""

    def __init__(self, ctx: ServiceContext, uid: str, start: str, zone: str) -> None:
        self.ctx, self.uid = ctx, uid
        self.slot_key = slot_key(uid)
        self._start, self._zone = start, zone

    def start_time(self) -> tuple[str, str]:
        return self._start, self._zone

    def take_skip(self, conn: sa.Connection) -> bool:
        return False

    def run(self, slot: dt.datetime) -> None:
        """Start the job's run; Conflict (the environment is busy) is retried at the next tick. A
        job that cannot run at all (its repository or secret is gone) is logged, and its slot
        counts as handled: the next day tries again, the log is not flooded."""
        try:
            job_runs.start_job(self.ctx, SYSTEM, self.uid)
        except Conflict:
            raise
        except EnvcloneError as exc:
            log.warning("scheduled run of job %s at %s could not start: %s", self.uid, slot, exc.message)

    def follow_up(self) -> bool:
        return False


class JobSchedules(Periodic):
    """Ticks every scheduled job, on the engine's periodic clock."""

    def __init__(self, ctx: ServiceContext, *, interval: float = 30.0) -> None:
        super().__init__("job-scheduler", self.tick, interval=interval)
        self.ctx = ctx

    def tick(self, now: dt.datetime) -> dict[str, str]:
        """What each scheduled job's slot did (the scheduler's words: ran, waiting, idle)."""
        zone = str(environment.get_settings(self.ctx, SYSTEM)["maintenance_time_zone"])
        with self.ctx.db.read() as conn:
            scheduled = [(job["uid"], daily_time(job)) for job in jobs.list_jobs(conn)]
        done: dict[str, str] = {}
        for uid, start in scheduled:
            if start is not None:
                done[uid] = DailyScheduler(self.ctx.db, JobRun(self.ctx, uid, start, zone)).tick(now)
        return done
