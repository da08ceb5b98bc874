"""Composition root: builds the store, blob store, engine and service context from Settings, runs
the start-up bootstrap and recovery, registers the operation kinds, and mounts every API surface
on one ASGI app."""

from __future__ import annotations

import logging
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
from envclone.services.bootstrap import FirstAdmin, bootstrap
from envclone.services.context import ServiceContext
from envclone.services.environment import instance_id
from envclone.services.job_runs import copy_new_backups
from envclone.services.job_schedules import JobSchedules
from envclone.services.maintenance_schedule import MaintenanceSchedule
from envclone.settings import Settings
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
    registry.register(OperationKind(verify.KIND, run_verify, verify.STEPS))
    registry.register(OperationKind(verify.STORE_KIND, run_verify_store, verify.STORE_STEPS))
    registry.register(OperationKind(copy.KIND, run_copy_backup, copy.STEPS))
    # A clone holds the source too: a restore or maintenance must not change it mid-transfer.
    registry.register(
        OperationKind(clone.KIND, run_clone, clone.STEPS, exclusive=True, phases=clone.PHASES, reattach=reattaches)
    )
    registry.register(
        OperationKind(clone.APPLY_KIND, run_apply, clone.APPLY_STEPS, exclusive=True, phases=clone.APPLY_PHASES)
    )
    # Project duplication: the kinds that import change content and hold the lock (the target's
    # wait for the source's package included); the export only reads one snapshot.
    d = duplication
    registry.register(
        OperationKind(d.DUPLICATE_KIND, run_duplicate, d.DUPLICATE_STEPS, exclusive=True, phases=d.duplicate_phases())
    )
    registry.register(OperationKind(d.EXPORT_KIND, run_export, d.EXPORT_STEPS, phases=d.export_phases()))
    registry.register(
        OperationKind(d.IMPORT_KIND, run_import, d.IMPORT_STEPS, exclusive=True, phases=d.import_phases())
    )
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


def build_context(settings: Settings, registry: Registry | None = None) -> tuple[ServiceContext, FirstAdmin | None]:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    blobs = open_blob_store(settings.blob_url, credentials=settings.blob_credentials())
    ctx = ServiceContext(settings=settings, db=Database(settings.database_url), blobs=blobs)
    # Every store this process opens (the environment's, job repositories, storage folders) takes
    # the setting when it holds no chunks yet; a store already of packs stays so.
    set_default_layout(settings.chunk_layout)
    use_layout(ctx.blobs, settings.chunk_layout)
    admin = bootstrap(ctx)
    # One server runs one environment's operations, so the runner is the environment's database
    # itself: stable across restarts on another port, host or config path, so that recovery
    # always finds what the previous run left open.
    runner_id = f"environment:{instance_id(ctx)}"
    ctx.attach(Engine(ctx.db, registry or build_registry(), ctx, runner_id=runner_id, sealer=sealer_for(settings)))
    # Immediate backup copy jobs copy each new backup as soon as its run has written it.
    ctx.engine.when_finished(partial(copy_new_backups, ctx))
    recovered = ctx.engine.recover()
    if recovered:
        log.info("resumed %d interrupted operation(s)", len(recovered))
    return ctx, admin


def create_app(ctx: ServiceContext) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        scheduler = DailyScheduler(ctx.db, MaintenanceSchedule(ctx)) if ctx.settings.scheduler else None
        job_schedules = JobSchedules(ctx) if ctx.settings.scheduler else None
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
