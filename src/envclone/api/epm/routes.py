"""EPM routes: parse Oracle's request, call a service, render Oracle's response. Paths and field
names are Oracle's; links point back at this server."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from envclone.api.body import body_schema, read_model
from envclone.api.credentials import context
from envclone.api.epm import clone as clone_routes
from envclone.api.epm import jobs, render, schemas, snapshots
from envclone.api.epm.auth import authenticated
from envclone.api.epm.responses import ANY_CLIENT_ERROR, ApiVersion, JobId, ok
from envclone.domain import maintenance
from envclone.domain import restore as restore_op
from envclone.domain.principal import Principal
from envclone.errors import InvalidRequest
from envclone.services import backups

PREFIX = "/interop/rest"
BODY_LIMIT = 1024 * 1024
who_dep = Depends(authenticated)
RESTORE_OK = "Environment backup restored successfully"


def _self(request: Request) -> list[dict[str, Any]]:
    return [{"href": str(request.url), "rel": "self", "data": None, "action": request.method}]


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + PREFIX


def build_router() -> APIRouter:
    router = APIRouter(prefix=PREFIX, tags=["EPM"], responses=ANY_CLIENT_ERROR)
    _restore_routes(router)
    _backup_routes(router)
    _maintenance_routes(router)
    router.include_router(clone_routes.build_router())
    router.include_router(snapshots.build_router())
    return router


def _restore_routes(router: APIRouter) -> None:
    @router.post(
        "/v1/services/restoreenvironment",
        openapi_extra=body_schema(schemas.RestoreEnvironmentRequest),
        **ok(schemas.JobStarted, 400, 401, 403, 404, 409, 413, 422),
    )
    async def restore_environment(request: Request, who: Principal = who_dep) -> dict[str, Any]:
        body = await read_model(request, schemas.RestoreEnvironmentRequest, BODY_LIMIT)
        op = await run_in_threadpool(backups.start_restore, context(request), who, body.to_request())
        link = render.job_link(_base(request), f"/v1/services/restoreenvironment/status/{op.seq}")
        return {**render.envelope(status=-1, links=[link]), "intermittentStatus": None}

    @router.get("/v1/services/restoreenvironment/status/{job_id}", **ok(schemas.JobStatus, 401, 403, 404, 422))
    async def restore_status(job_id: JobId, request: Request, who: Principal = who_dep) -> dict[str, Any]:
        op = await jobs.job(request, who, job_id, restore_op.KIND)
        code = render.status_code(op)
        details = RESTORE_OK if code == 0 else (op.error_message if code > 0 else "")
        return {**render.envelope(status=code, details=details), "intermittentStatus": render.intermittent(op)}


def _backup_routes(router: APIRouter) -> None:
    @router.get("/v2/backups/list", **ok(schemas.BackupList, 401, 403))
    async def list_backups(request: Request, who: Principal = who_dep) -> dict[str, Any]:
        rows = await run_in_threadpool(backups.list_backups, context(request), who)
        return render.envelope(items=[row["name"] for row in rows], links=_self(request))


def _maintenance_routes(router: APIRouter) -> None:
    async def current(request: Request, who: Principal) -> dict[str, Any]:
        ctx = context(request)
        value = await run_in_threadpool(backups.maintenance_time, ctx, who)
        return {
            **render.envelope(links=_self(request)),
            "version": ctx.settings.version,
            "dailyMaintenanceStartTime": value["start_time"],
            "timeZone": value["time_zone"],
        }

    async def run_now(request: Request, who: Principal, skip_next: bool) -> dict[str, Any]:
        op = await run_in_threadpool(backups.run_maintenance, context(request), who, skip_next=skip_next)
        link = render.job_link(_base(request), f"/v2/maintenance/rundailymaintenance/status/{op.seq}")
        return render.envelope(status=-1, links=[link])

    @router.get("/v2/maintenance/getdailymaintenancestarttime", **ok(schemas.MaintenanceTime, 401, 403))
    async def get_time_v2(request: Request, who: Principal = who_dep) -> dict[str, Any]:
        return await current(request, who)

    @router.put(
        "/v2/maintenance/setdailymaintenancestarttime",
        openapi_extra=body_schema(schemas.MaintenanceStartTime),
        **ok(schemas.MaintenanceTime, 400, 401, 403, 413, 422),
    )
    async def set_time_v2(request: Request, who: Principal = who_dep) -> dict[str, Any]:
        body = await read_model(request, schemas.MaintenanceStartTime, BODY_LIMIT)
        time, zone = body.split()
        await run_in_threadpool(backups.set_maintenance_time, context(request), who, time, zone)
        return await current(request, who)

    @router.post(
        "/v2/maintenance/rundailymaintenance",
        openapi_extra=body_schema(schemas.RunMaintenance, required=False),
        **ok(schemas.Envelope, 400, 401, 403, 409, 413, 422),
    )
    async def run_v2(request: Request, who: Principal = who_dep) -> dict[str, Any]:
        has_body = request.headers.get("content-length", "0") != "0"
        body = await read_model(request, schemas.RunMaintenance, BODY_LIMIT) if has_body else schemas.RunMaintenance()
        return await run_now(request, who, body.skip_next)

    @router.get("/v2/maintenance/rundailymaintenance/status/{job_id}", **ok(schemas.JobStatus, 401, 403, 404, 422))
    async def run_status(job_id: JobId, request: Request, who: Principal = who_dep) -> dict[str, Any]:
        op = await jobs.job(request, who, job_id, maintenance.KIND)
        code = render.status_code(op)
        details = op.error_message if code > 0 else None
        return {**render.envelope(status=code, details=details), "intermittentStatus": render.intermittent(op)}

    @router.get("/{api_version}/services/dailymaintenance", **ok(schemas.MaintenanceTime, 401, 403))
    async def get_time_v1(api_version: ApiVersion, request: Request, who: Principal = who_dep) -> dict[str, Any]:
        return await current(request, who)

    @router.put("/{api_version}/services/dailymaintenance", **ok(schemas.MaintenanceTime, 401, 403, 422))
    async def set_time_v1(api_version: ApiVersion, request: Request, who: Principal = who_dep) -> dict[str, Any]:
        raw = request.query_params.get("StartTime") or request.query_params.get("startTime")
        if not raw:
            raise InvalidRequest("StartTime is required, e.g. ?StartTime=02:00")
        time, _, zone = raw.strip().partition(" ")
        await run_in_threadpool(backups.set_maintenance_time, context(request), who, time, zone.strip() or None)
        return await current(request, who)

    @router.post("/{api_version}/services/maintenancewindow", **ok(schemas.Envelope, 401, 403, 409, 422))
    async def run_v1(api_version: ApiVersion, request: Request, who: Principal = who_dep) -> dict[str, Any]:
        skip = request.query_params.get("skipNext", request.query_params.get("SkipNext", "false"))
        if skip.lower() not in ("true", "false"):
            raise InvalidRequest("skipNext must be true or false")
        return await run_now(request, who, skip.lower() == "true")
