"""/v1 backups, maintenance and restore: envclone's own shape for what the EPM dialect offers in
Oracle's, returning operations that /v1/operations reports on."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import Field, StringConstraints
from starlette.concurrency import run_in_threadpool

from envclone.api.body import body_schema, read_model
from envclone.api.credentials import context
from envclone.api.native import schemas as s
from envclone.api.native.auth import authenticated
from envclone.api.native.operations import render, translator
from envclone.api.native.responses import BackupName, ok
from envclone.api.native.schemas import Strict
from envclone.domain.principal import Principal
from envclone.domain.restore import RestoreRequest
from envclone.services import backups

who_dep = Depends(authenticated)
LIMIT = 64 * 1024


class RestoreBody(Strict):
    backup_name: Annotated[str, StringConstraints(min_length=1, max_length=250)]
    users: bool = False
    maintenance_start_time: bool = True
    stored_snapshots_and_files: bool = False


class MaintenanceBody(Strict):
    skip_next: bool = False


class StartTimeBody(Strict):
    start_time: Annotated[str, StringConstraints(min_length=1, max_length=5)]
    time_zone: Annotated[str, StringConstraints(max_length=64)] | None = Field(None)


def _backup(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != "generations"}


def build_router() -> APIRouter:
    router = APIRouter(tags=["backups"])

    @router.get("/backups", **ok(s.Backups, 200, 401, 403))
    async def list_backups(request: Request, who: Principal = who_dep) -> dict[str, Any]:
        kind = request.query_params.get("kind")
        rows = await run_in_threadpool(backups.list_backups, context(request), who, kind)
        return {"items": [_backup(r) for r in rows]}

    @router.get("/backups/{name:anytext}/verify", **ok(s.Verification, 200, 401, 403, 404))
    async def last_verification(name: BackupName, request: Request, who: Principal = who_dep) -> dict[str, Any]:
        row = await run_in_threadpool(backups.get_backup, context(request), who, name)
        return {"name": row["name"], "verified": row["verified"], "result": row["verify_result"]}

    @router.post("/backups/{name:anytext}/verify", status_code=202, **ok(s.Operation, 202, 401, 403, 404))
    async def verify(name: BackupName, request: Request, who: Principal = who_dep) -> dict[str, Any]:
        op = await run_in_threadpool(backups.start_verify, context(request), who, name)
        return render(op, translator(request))

    @router.post("/store/verify", status_code=202, **ok(s.Operation, 202, 401, 403))
    async def verify_store(request: Request, who: Principal = who_dep) -> dict[str, Any]:
        """Read every stored file content and settings image of this environment and check its hash;
        the operation fails naming each damaged or missing content and its files."""
        op = await run_in_threadpool(backups.start_store_verify, context(request), who)
        return render(op, translator(request))

    @router.get("/backups/{name:anytext}", **ok(s.Backup, 200, 401, 403, 404))
    async def get_backup(name: BackupName, request: Request, who: Principal = who_dep) -> dict[str, Any]:
        return _backup(await run_in_threadpool(backups.get_backup, context(request), who, name))

    @router.post(
        "/restore",
        status_code=202,
        openapi_extra=body_schema(RestoreBody),
        **ok(s.Operation, 202, 400, 401, 403, 404, 409, 413, 422),
    )
    async def restore(request: Request, who: Principal = who_dep) -> dict[str, Any]:
        body = await read_model(request, RestoreBody, LIMIT)
        op = await run_in_threadpool(
            backups.start_restore, context(request), who, RestoreRequest.model_validate(body.model_dump())
        )
        return render(op, translator(request))

    @router.post(
        "/maintenance/run",
        status_code=202,
        openapi_extra=body_schema(MaintenanceBody, required=False),
        **ok(s.Operation, 202, 400, 401, 403, 409, 413, 422),
    )
    async def run_maintenance(request: Request, who: Principal = who_dep) -> dict[str, Any]:
        has_body = request.headers.get("content-length", "0") != "0"
        body = await read_model(request, MaintenanceBody, LIMIT) if has_body else MaintenanceBody()
        op = await run_in_threadpool(backups.run_maintenance, context(request), who, skip_next=body.skip_next)
        return render(op, translator(request))

    @router.get("/maintenance/start-time", **ok(s.StartTime, 200, 401, 403))
    async def get_start_time(request: Request, who: Principal = who_dep) -> dict[str, str]:
        return await run_in_threadpool(backups.maintenance_time, context(request), who)

    @router.put(
        "/maintenance/start-time",
        openapi_extra=body_schema(StartTimeBody),
        **ok(s.StartTime, 200, 400, 401, 403, 413, 422),
    )
    async def set_start_time(request: Request, who: Principal = who_dep) -> dict[str, str]:
        body = await read_model(request, StartTimeBody, LIMIT)
        return await run_in_threadpool(
            backups.set_maintenance_time, context(request), who, body.start_time, body.time_zone
        )

    return router
