"""``envclone worker``: one process that takes operation jobs from the queue and runs them on the
engine (a procrastinate worker, ``worker_concurrency`` at once). Beside the jobs, every heartbeat
it renews its claim on what it runs, takes over what a dead worker left (stale heartbeats: resumed
or failed with the reason) and re-enqueues any queued operation whose job is missing; and the daily
schedules (maintenance, jobs) tick in one worker at a time: a procrastinate periodic task with a
lock, and a database lock inside the tick, so a slot is never handled twice across processes."""

from __future__ import annotations

import datetime as dt
import logging

from procrastinate import App, PsycopgConnector
from procrastinate.jobs import Status

from envclone.domain.clock import utcnow
from envclone.engine.scheduler import DailyScheduler, Periodic
from envclone.queue.jobs import QUEUE, RUN_OPERATION, SETTLE_STALLED, TICK_SCHEDULES, ProcrastinateQueue, conninfo
from envclone.services.context import ServiceContext
from envclone.services.job_schedules import JobSchedules
from envclone.services.maintenance_schedule import MaintenanceSchedule
from envclone.store import locks
from envclone.store import operations as operations_repo

log = logging.getLogger("envclone.worker")
SCHEDULES_LOCK = "schedules"
# Procrastinate's cron has an optional sixth field, seconds: the schedules tick twice a minute, as
# the in-process scheduler does (engine.scheduler.Periodic's default interval).
SCHEDULE_CRON = "* * * * * */30"


class Worker:
    def __init__(self, ctx: ServiceContext, queue: ProcrastinateQueue) -> None:
        self.ctx, self.queue = ctx, queue
        s = ctx.settings
        self.heartbeat_seconds, self.stale_seconds = s.worker_heartbeat_seconds, s.worker_stale_seconds

    # -- what a heartbeat does --------------------------------------------------------------------
    def heartbeat(self, _now: dt.datetime | None = None) -> None:
        engine = self.ctx.engine
        engine.beat()
        taken = engine.recover()  # stale ones only: with a queue, recover never touches live work
        if taken:
            log.info("took over %d operation(s) of a worker that stopped", len(taken))
        self.sweep()

    def sweep(self) -> list[str]:
        """Enqueue again every operation queued for longer than the stale time that has no job
        waiting (its job was taken by a worker that died before claiming it, or a requeue's
        enqueue was lost with its process). A duplicate job is harmless: the claim runs one."""
        before = utcnow() - dt.timedelta(seconds=self.stale_seconds)
        with self.ctx.db.read() as conn:
            queued = operations_repo.queued_before(conn, before)
        if not queued:
            return []
        waiting = self.queue.waiting()
        lost = [op_id for op_id in queued if op_id not in waiting]
        for op_id in lost:
            with self.ctx.db.begin() as conn:
                self.queue.enqueue(conn, op_id)
            log.warning("operation %s was queued without a job; enqueued it again", op_id)
        return lost

    # -- the schedules ----------------------------------------------------------------------------
    def tick_schedules(self, now: dt.datetime) -> bool:
        """Tick daily maintenance and the job schedules, unless another process is ticking them
        now (False). Their slots are kept in the database, so whichever worker ticks next goes on
        where the last one stopped."""
        if not self.ctx.settings.scheduler:
            return False
        with locks.attempt(self.ctx.db, SCHEDULES_LOCK) as mine:
            if not mine:
                return False
            DailyScheduler(self.ctx.db, MaintenanceSchedule(self.ctx)).tick(now)
            JobSchedules(self.ctx).tick(now)
        return True

    # -- the process ------------------------------------------------------------------------------
    def app(self) -> App:
        """The procrastinate app of this worker: its tasks and periodic tasks."""
        app = App(connector=PsycopgConnector(conninfo=conninfo(self.ctx.settings.database_url), min_size=1, max_size=4))

        @app.task(name=RUN_OPERATION, queue=QUEUE)
        def run_operation(op_id: str) -> None:
            self.ctx.engine.run(op_id)

        # queueing_lock: at most one tick waits; lock: at most one runs (the tick's own database
        # lock also holds against an older worker that ticks by itself).
        @app.periodic(cron=SCHEDULE_CRON)
        @app.task(name=TICK_SCHEDULES, queue=QUEUE, lock=TICK_SCHEDULES, queueing_lock=TICK_SCHEDULES)
        def tick_schedules(timestamp: int) -> None:
            self.tick_schedules(dt.datetime.fromtimestamp(timestamp, dt.UTC))

        # A job a dead worker was running stays "doing" in procrastinate's table: marked failed
        # here (the operation itself was settled by the heartbeat's take-over).
        @app.periodic(cron="* * * * *")
        @app.task(name=SETTLE_STALLED, queue=QUEUE, queueing_lock=SETTLE_STALLED)
        async def settle_stalled_jobs(timestamp: int) -> None:
            stalled = await app.job_manager.get_stalled_jobs(
                task_name=RUN_OPERATION, seconds_since_heartbeat=self.stale_seconds
            )
            for job in stalled:
                await app.job_manager.finish_job(job, status=Status.FAILED, delete_job=False)

        return app

    def run(self) -> None:
        """Work until SIGINT or SIGTERM; running operations end first (a SIGKILL leaves them to
        the other workers' take-over)."""
        beat = Periodic("worker-heartbeat", self.heartbeat, interval=self.heartbeat_seconds)
        beat.start()
        try:
            self.app().run_worker(
                name=self.ctx.engine.runner_id,
                queues=[QUEUE],
                concurrency=self.ctx.settings.worker_concurrency,
                update_heartbeat_interval=self.heartbeat_seconds,
                stalled_worker_timeout=self.stale_seconds,
                delete_jobs="successful",
                fetch_job_polling_interval=min(5.0, self.heartbeat_seconds),
            )
        finally:
            beat.stop()
            self.ctx.engine.shutdown(wait=False)
            self.queue.close()
