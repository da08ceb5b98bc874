"""Composition root: builds the store, blob store, engine and service context from Settings, runs
the start-up bootstrap and recovery, registers the operation kinds, and mounts every API surface
on one ASGI app."""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

from fastapi import FastAPI

from envclone import __version__
from envclone.api import epm, native, strategy, veeam
from envclone.api.client_address import ClientAddressMiddleware
from envclone.api.errors import Renderer, install_error_handlers
from envclone.archive import set_default_layout, use_layout
from envclone.auth.sealing import Sealer
from envclone.blobs.store import open_blob_store
from envclone.domain import clone, copy, duplication, job_clone, job_run, maintenance, restore, verify
from envclone.engine import Engine, OperationKind, Registry
from envclone.engine.scheduler import DailyScheduler
from envclone.errors import ConfigError
from envclone.operations.clone.apply import run_apply
from envclone.operations.clone.replica import run_replica_job
from envclone.operations.clone.run import run_clone
from envclone.operations.clone.target_apply import reattaches
from envclone.operations.copy import run_copy_backup
from envclone.operations.duplicate import run_duplicate, run_export, run_import
from envclone.operations.job_clone import run_job_clone
from envclone.operations.job_run import run_backup_copy_job, run_job
from envclone.operations.maintenance import run_daily_maintenance
from envclone.operations.restore import run_restore
from envclone.operations.verify import run_verify, run_verify_store
from envclone.queue.schema import live_workers
from envclone.services.bootstrap import FirstAdmin, bootstrap
from envclone.services.context import ServiceContext
from envclone.services.environment import instance_id
from envclone.services.job_runs import copy_new_backups
from envclone.services.job_schedules import JobSchedules
from envclone.services.maintenance_schedule import MaintenanceSchedule
from envclone.settings import Settings
from envclone.store import locks
from envclone.store.database import Database

log = logging.getLogger("envclone")


def build_registry() -> Registry:
    registry = Registry()
    # Maintenance is exclusive too: a backup taken while a restore replaces content would be of
    # neither state, and two at once would only duplicate work.
    registry.register(
        OperationKind(
            maintenance.KIND,
            run_daily_maintenance,
            maintenance.STEPS,
            exclusive=True,
            cancellable=False,
            phases=maintenance.PHASES,
        )
    )
    # A restore and a clone's apply may be cancelled until their point of no return, where the one
    # transaction that replaces content begins (operations.apply_archive).
    registry.register(OperationKind(restore.KIND, run_restore, restore.STEPS, exclusive=True, phases=restore.PHASES))
    # A verification only reads: one interrupted (a server restarted, a worker killed) runs again
    # from the start instead of failing.
    registry.register(OperationKind(verify.KIND, run_verify, verify.STEPS, resumable=True))
    registry.register(OperationKind(verify.STORE_KIND, run_verify_store, verify.STORE_STEPS, resumable=True))
    registry.register(OperationKind(copy.KIND, run_copy_backup, copy.STEPS))
    # A clone holds the source too: a restore or maintenance must not change it mid-transfer.
    registry.register(
        OperationKind(clone.KIND, run_clone, clone.STEPS, exclusive=True, phases=clone.PHASES, reattach=reattaches)
    )
    registry.register(
        OperationKind(clone.APPLY_KIND, run_apply, clone.APPLY_STEPS, exclusive=True, phases=clone.APPLY_PHASES)
    )
    # Project duplication: the local kind exports then imports and holds the lock; the target
    # side takes it itself once its package is here (operations.content_lock), so its wait for the
    # source (up to an hour) refuses nothing; the export only reads one snapshot.
    d = duplication
    registry.register(
        OperationKind(d.DUPLICATE_KIND, run_duplicate, d.DUPLICATE_STEPS, exclusive=True, phases=d.duplicate_phases())
    )
    registry.register(OperationKind(d.EXPORT_KIND, run_export, d.EXPORT_STEPS, phases=d.export_phases()))
    registry.register(OperationKind(d.IMPORT_KIND, run_import, d.IMPORT_STEPS, phases=d.import_phases()))
    # A job clone changes one row of the jobs component in one transaction: not exclusive.
    registry.register(OperationKind(job_clone.KIND, run_job_clone, job_clone.STEPS))
    # A job run writes a backup: exclusive like maintenance, so it never reads half a restore.
    registry.register(OperationKind(job_run.KIND, run_job, job_run.STEPS, exclusive=True, phases=job_run.PHASES))
    # A replication is a clone: it holds the source as a clone does.
    registry.register(
        OperationKind(
            job_run.REPLICA_KIND, run_replica_job, job_run.REPLICA_STEPS, exclusive=True, phases=job_run.REPLICA_PHASES
        )
    )
    # A backup copy reads and writes repositories only, never the environment's content.
    registry.register(
        OperationKind(job_run.COPY_KIND, run_backup_copy_job, job_run.COPY_STEPS, phases=job_run.COPY_PHASES)
    )
    return registry


def sealer_for(settings: Settings) -> Sealer:
    """The sealer of this deployment's secrets at rest: the configured key, else the key file."""
    if settings.secret_key is not None:
        return Sealer(settings.secret_key.get_secret_value().encode())
    assert settings.secret_key_file is not None  # set by the settings' defaults
    return Sealer.from_key_file(settings.secret_key_file)


def build_context(
    settings: Settings, registry: Registry | None = None, *, worker: bool = False
) -> tuple[ServiceContext, FirstAdmin | None]:
    """The service context of one process: by default (``settings.workers`` > 0) a server that runs
    its operations itself, as it always has; with workers 0 an API process that only enqueues
    them, and with ``worker`` a worker process that runs them (both scale-out, PostgreSQL only)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    distributed = worker or settings.workers == 0
    if distributed:
        _check_scale_out(settings, worker=worker)
    blobs = open_blob_store(settings.blob_url, credentials=settings.blob_credentials())
    ctx = ServiceContext(settings=settings, db=Database(settings.database_url), blobs=blobs)
    # Every store this process opens (the environment's, job repositories, storage folders) takes
    # the setting when it holds no chunks yet; a store already of packs stays so.
    set_default_layout(settings.chunk_layout)
    use_layout(ctx.blobs, settings.chunk_layout)
    if distributed:
        return _build_distributed(ctx, registry or build_registry(), worker=worker)
    if live_workers(ctx.db, settings.worker_stale_seconds):
        # This process would take every open operation for its own at start-up (recover), the
        # queued ones the workers are about to run included, and run its own beside theirs.
        raise ConfigError(
            "`envclone worker` processes are running on this database: start API processes with "
            "`envclone serve --workers 0` (or stop the workers to run everything in one process)"
        )
    admin = bootstrap(ctx)
    # One server runs one environment's operations, so the runner is the environment's database
    # itself: stable across restarts on another port, host or config path, so that recovery
    # always finds what the previous run left open.
    runner_id = f"environment:{instance_id(ctx)}"
    ctx.attach(
        Engine(
            ctx.db,
            registry or build_registry(),
            ctx,
            runner_id=runner_id,
            sealer=sealer_for(settings),
            workers=settings.workers,
        )
    )
    # Immediate backup copy jobs copy each new backup as soon as its run has written it.
    ctx.engine.when_finished(partial(copy_new_backups, ctx))
    recovered = ctx.engine.recover()
    if recovered:
        log.info("resumed %d interrupted operation(s)", len(recovered))
    return ctx, admin


def _check_scale_out(settings: Settings, *, worker: bool) -> None:
    what = "envclone worker" if worker else "serve --workers 0 (an API process that only enqueues operations)"
    if not settings.database_url.startswith("postgresql"):
        raise ConfigError(
            f"{what} needs PostgreSQL, where the operations and their task queue are shared by every "
            "process: set ENVCLONE_DATABASE_URL=postgresql+psycopg://... With SQLite, run `envclone serve` "
            "without --workers 0: it runs operations itself"
        )
    assert settings.secret_key_file is not None  # set by the settings' defaults
    if settings.secret_key is None and not settings.secret_key_file.is_file():
        # A key file made here would be this process's alone: what an API process seals, a worker
        # could not open.
        raise ConfigError(
            f"{what}: every process of a scale-out deployment must share one sealing key; set "
            "ENVCLONE_SECRET_KEY (32 characters or more), or ENVCLONE_SECRET_KEY_FILE to a key file they all read"
        )


def _build_distributed(
    ctx: ServiceContext, registry: Registry, *, worker: bool
) -> tuple[ServiceContext, FirstAdmin | None]:
    # The task queue (procrastinate, psycopg: ~12 MB) is imported by the processes that use it only.
    from envclone.queue import ProcrastinateQueue, install_schema

    settings = ctx.settings
    # Processes starting together: one migrates and bootstraps, then the next finds it done.
    with locks.held(ctx.db, "start-up"):
        admin = bootstrap(ctx)
        install_schema(ctx.db, live_within_seconds=settings.worker_stale_seconds)
    queue = ProcrastinateQueue(settings.database_url)
    # Each process is a runner of its own: a claim names the process that runs the operation, and
    # a stale heartbeat tells the others that this process stopped.
    runner_id = f"{'worker' if worker else 'api'}:{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    stale = settings.worker_stale_seconds
    engine = Engine(
        ctx.db,
        registry,
        ctx,
        runner_id=runner_id,
        sealer=sealer_for(settings),
        workers=0,
        queue=queue,
        stale_after=dt.timedelta(seconds=stale),
    )
    engine.interrupted_reason = f"interrupted: the worker running this operation stopped (no heartbeat for {stale:g} s)"
    ctx.attach(engine)
    if worker:
        engine.when_finished(partial(copy_new_backups, ctx))
        taken = engine.recover()
        if taken:
            log.info("resumed %d operation(s) of a worker that stopped", len(taken))
    return ctx, admin


def run_worker(settings: Settings) -> None:
    """Run one worker process until it is stopped (``envclone worker``)."""
    from envclone.queue import ProcrastinateQueue
    from envclone.queue.worker import Worker

    ctx, _admin = build_context(settings, worker=True)
    assert isinstance(ctx.engine.queue, ProcrastinateQueue)
    Worker(ctx, ctx.engine.queue).run()


def create_app(ctx: ServiceContext) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # The schedules run where operations run: in this process by default, in the workers when
        # this process only enqueues (workers 0).
        local = ctx.settings.scheduler and ctx.settings.workers > 0
        scheduler = DailyScheduler(ctx.db, MaintenanceSchedule(ctx)) if local else None
        job_schedules = JobSchedules(ctx) if local else None
        if scheduler:
            scheduler.start()
        if job_schedules:
            job_schedules.start()
        yield
        if scheduler:
            scheduler.stop()
        if job_schedules:
            job_schedules.stop()
        ctx.engine.shutdown(wait=False)

    app = FastAPI(
        title="envclone",
        version=__version__,
        description="Environment backup, clone, restore and duplication server.",
        lifespan=lifespan,
    )
    app.state.ctx = ctx
    # Added first, so that it runs inside ClientAddressMiddleware (middleware added last is outermost).
    app.add_middleware(native.StatusPollShortcut, ctx=ctx)
    app.add_middleware(ClientAddressMiddleware)
    renderers: dict[str, Renderer] = {
        epm.PREFIX: epm.render_error,
        strategy.PREFIX: strategy.render_error,
        f"{veeam.PREFIX}/": veeam.render_error,
    }
    install_error_handlers(app, renderers=renderers)
    app.include_router(native.build_router())
    app.include_router(epm.build_router())
    app.include_router(strategy.build_router())
    app.include_router(veeam.build_router())

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
