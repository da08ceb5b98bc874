"""Strategy's Storage Service under /mstrServices/library/storage: the shared place (a folder both
environments reach, or a bucket) through which cross-environment duplications move their
packages. Parse, call services.storage_service, render; secrets go in and never come back out."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from envclone.api.body import body_schema, read_model
from envclone.api.credentials import context
from envclone.api.strategy import render, schemas
from envclone.api.strategy.responses import errors, who_dep
from envclone.domain.principal import Principal
from envclone.services import storage_service

BASE = "/mstrServices/library/storage"
FIELDS = Query(None, max_length=1000, description="accepted; every field is returned")
_INVALID = {
    400: "INVALID_REQUEST; STORAGE_SERVICE_INVALID (a folder or bucket missing, unreachable, refusing the key or "
    "unwritable); STORAGE_SERVICE_UNSUPPORTED (Azure, GCS)"
}


async def _change(request: Request) -> schemas.StorageChange:
    return await read_model(request, schemas.StorageChange, context(request).settings.max_json_bytes)


def add_routes(router: APIRouter) -> None:
    @router.get(BASE, response_model=schemas.StorageConfig, responses=errors(401, 403))
    async def get_storage(
        request: Request, fields: str | None = FIELDS, who: Principal = who_dep
    ) -> schemas.StorageConfig:
        """The Storage Service's type, alias, location, S3 region and whether it is configured; never a key."""
        return render.storage(await run_in_threadpool(storage_service.get_config, context(request), who))

    @router.post(
        f"{BASE}/validation",
        status_code=204,
        openapi_extra=body_schema(schemas.StorageChange),
        responses={204: {"description": "usable"}, **errors(400, 401, 403, texts=_INVALID)},
    )
    async def validate_storage(request: Request, who: Principal = who_dep) -> Response:
        """Check a configuration by writing there (a folder, or an S3 bucket over the network); changes nothing."""
        change = await _change(request)
        await run_in_threadpool(storage_service.validate, context(request), who, change.shared_file_store.to_service())
        return Response(status_code=204)

    @router.patch(
        BASE,
        status_code=204,
        openapi_extra=body_schema(schemas.StorageChange),
        responses={204: {"description": "configured"}, **errors(400, 401, 403, texts=_INVALID)},
    )
    async def update_storage(request: Request, who: Principal = who_dep) -> Response:
        """Validate and save a configuration (an S3 secret key kept sealed); refused whole when it does not validate."""
        change = await _change(request)
        await run_in_threadpool(storage_service.update, context(request), who, change.shared_file_store.to_service())
        return Response(status_code=204)
