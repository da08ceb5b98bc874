"""Composition root: builds the store, blob store, engine and service context from Settings, runs
the start-up bootstrap and recovery, registers the operation kinds, and mounts every API surface
on one ASGI app."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from envclone import __version__
from envclone.api import epm, native, strategy
from envclone.api.errors import install_error_handlers
from envclone.archive import use_layout
from envclone.blobs.store import open_blob_store
from envclone.domain import clone, copy, maintenance, restore, verify
from envclone.engine import Engine, OperationKind, Registry
from envclone.engine.scheduler import DailyScheduler
from envclone.operations.clone.apply import run_apply
from envclone.operations.clone.run import run_clone
from envclone.operations.copy import run_copy_backup
from envclone.operations.maintenance import run_daily_maintenance
from envclone.operations.restore import run_restore
from envclone.operations.verify import run_verify
from envclone.services.bootstrap import FirstAdmin, bootstrap
from envclone.services.context import ServiceContext
from envclone.services.environment import instance_id
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
    registry.register(OperationKind(copy.KIND, run_copy_backup, copy.STEPS))
    # A clone holds the source too: a restore or maintenance must not change it mid-transfer.
    registry.register(OperationKind(clone.KIND, run_clone, clone.STEPS, exclusive=True, phases=clone.PHASES))
    registry.register(
        OperationKind(clone.APPLY_KIND, run_apply, clone.APPLY_STEPS, exclusive=True, phases=clone.APPLY_PHASES)
    )
    return registry


def build_context(settings: Settings, registry: Registry | None = None) -> tuple[ServiceContext, FirstAdmin | None]:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    ctx = ServiceContext(
        settings=settings, db=Database(settings.database_url), blobs=open_blob_store(settings.blob_url)
    )
    use_layout(ctx.blobs, settings.chunk_layout)
    admin = bootstrap(ctx)
    # One server runs one environment's operations, so the runner is the environment's database
    # itself: stable across restarts on another port, host or config path, so that recovery
    # always finds what the previous run left open.
    runner_id = f"environment:{instance_id(ctx)}"
    ctx.attach(Engine(ctx.db, registry or build_registry(), ctx, runner_id=runner_id))
    recovered = ctx.engine.recover()
    if recovered:
        log.info("resumed %d interrupted operation(s)", len(recovered))
    return ctx, admin


def create_app(ctx: ServiceContext) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        scheduler = DailyScheduler(ctx.db, MaintenanceSchedule(ctx)) if ctx.settings.scheduler else None
        if scheduler:
            scheduler.start()
        yield
        if scheduler:
            scheduler.stop()
        ctx.engine.shutdown(wait=False)

    app = FastAPI(
        title="envclone",
        version=__version__,
        description="Environment backup, clone, restore and duplication server.",
        lifespan=lifespan,
    )
    app.state.ctx = ctx
    install_error_handlers(app, renderers={epm.PREFIX: epm.render_error, strategy.PREFIX: strategy.render_error})
    app.include_router(native.build_router())
    app.include_router(epm.build_router())
    app.include_router(strategy.build_router())

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
