"""Strategy's project duplication routes under /projectDuplications (seed 002 and mstrio-py's calls):
parse Strategy's request, call services.duplications, render the record in Strategy's shape. The
fixed paths (versions, validations, restoration) come before ``/{id}`` so that they are not read as
ids. Nothing here decides a status, a rule or who may do what."""

from __future__ import annotations

from fastapi import APIRouter, Header, Path, Query, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from envclone.api.body import body_schema, read_json, read_model, validate
from envclone.api.credentials import context
from envclone.api.strategy import auth, render, schemas, upload
from envclone.api.strategy.responses import errors, who_dep
from envclone.domain.duplication import DuplicationRecord, DuplicationRequest
from envclone.domain.principal import Principal
from envclone.errors import InvalidRequest
from envclone.services import duplications

BASE = "/projectDuplications"
CANCELLED = "cancelled"
DupId = Path(min_length=1, max_length=64, description="the duplication's id (the same on source and target)")
PREFER = Header(None, alias="Prefer", description="respond-async (accepted; duplication is always asynchronous)")

_NOT_FOUND = {404: "ERR004: no duplication with this id"}
_CONFLICT = {409: "PROJECT_NAME_EXISTS: the target name is taken; ERR001: the id is in use on this side"}
_NOT_CANCELLABLE = {409: "DUPLICATION_NOT_CANCELLABLE: not in exporting, export_syncing, import_syncing, importing"}
_RECORD = {"model": schemas.Duplication, "description": "the duplication's record"}
_CANCELLED = {"description": "cancelled"}

_REQUEST_SCHEMA = body_schema(DuplicationRequest)["requestBody"]["content"]["application/json"]["schema"]
_STATUS_SCHEMA = body_schema(schemas.StatusChange)["requestBody"]["content"]["application/json"]["schema"]
_PUT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"oneOf": [_REQUEST_SCHEMA, _STATUS_SCHEMA]}},
            "multipart/form-data": {"schema": upload.FORM_SCHEMA},
        },
    }
}
_FORM_BODY = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": upload.FORM_SCHEMA}}}}
_VALIDATION_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"type": "object", "description": "a source's GET /versions"}}},
    }
}
_PACKAGE = {
    "description": "the .projdup package",
    "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    "headers": {
        "Content-Disposition": {"schema": {"type": "string"}, "description": 'attachment; filename="<id>.projdup"'},
        "Content-Length": {"schema": {"type": "integer"}},
    },
}


def _shown(request: Request, record: DuplicationRecord) -> schemas.Duplication:
    return render.duplication(record, upper=auth.upper_case_status(request))


def _created(request: Request, record: DuplicationRecord) -> JSONResponse:
    return JSONResponse(_shown(request, record).model_dump(mode="json", by_alias=True), status_code=201)


def _check_cancel(body: schemas.StatusChange) -> None:
    if body.status.strip().lower() != CANCELLED:
        raise InvalidRequest(f"status: the only change a client may ask is {CANCELLED!r}, not {body.status!r}")


async def _restore(request: Request, who: Principal) -> JSONResponse:
    ctx = context(request)
    # Before the body: who may not restore is refused without the package being spooled to disk.
    await run_in_threadpool(duplications.may_restore, ctx, who)
    received = await upload.read_upload(request, ctx.settings.max_package_bytes)
    try:
        record = await run_in_threadpool(duplications.restore, ctx, who, received.file, received.metadata)
    finally:
        await received.close()
    return _created(request, record)


def add_routes(router: APIRouter) -> None:
    _fixed_routes(router)
    _record_routes(router)


def _fixed_routes(router: APIRouter) -> None:
    @router.post(
        BASE,
        status_code=201,
        response_model=schemas.Duplication,
        openapi_extra=body_schema(DuplicationRequest),
        responses=errors(400, 401, 403, 404, 409, texts=_CONFLICT),
    )
    async def start(request: Request, prefer: str | None = PREFER, who: Principal = who_dep) -> schemas.Duplication:
        """Start a duplication: whole here when both environment ids are equal, else its source side."""
        ctx = context(request)
        body = await read_model(request, DuplicationRequest, ctx.settings.max_json_bytes)
        return _shown(request, await run_in_threadpool(duplications.start, ctx, who, body))

    @router.get(BASE, response_model=schemas.DuplicationList, responses=errors(400, 401, 403))
    async def list_duplications(
        request: Request,
        offset: int = Query(0, ge=0, le=10**9),
        limit: int = Query(100, ge=1, le=1000),
        who: Principal = who_dep,
    ) -> schemas.DuplicationList:
        """This environment's duplications, newest first, page by page."""
        records, total = await run_in_threadpool(duplications.list_records, context(request), who, offset, limit)
        return render.duplication_list(records, total, upper=auth.upper_case_status(request))

    @router.get(f"{BASE}/versions", response_model=schemas.DuplicationVersions, responses=errors(401, 403))
    async def versions(request: Request, who: Principal = who_dep) -> schemas.DuplicationVersions:
        """What a target needs to know of this source to accept its packages (POST /validations)."""
        found = await run_in_threadpool(duplications.versions, context(request))
        return schemas.DuplicationVersions.model_validate(found)

    @router.post(
        f"{BASE}/validations",
        status_code=204,
        openapi_extra=_VALIDATION_BODY,
        responses={204: {"description": "compatible"}, **errors(400, 401, 403)},
    )
    async def validate_versions(request: Request, who: Principal = who_dep) -> Response:
        """204 when this environment can import packages of a source with these versions."""
        ctx = context(request)
        body = await read_json(request, ctx.settings.max_json_bytes)
        if not isinstance(body, dict):
            raise InvalidRequest("the body must be the JSON object a source's GET /projectDuplications/versions gave")
        await run_in_threadpool(duplications.validate_versions, ctx, body)
        return Response(status_code=204)

    @router.post(
        f"{BASE}/restoration",
        status_code=201,
        response_model=schemas.Duplication,
        openapi_extra=_FORM_BODY,
        responses=errors(400, 401, 403, 409, 413, texts=_CONFLICT),
    )
    async def restore(request: Request, prefer: str | None = PREFER, who: Principal = who_dep) -> JSONResponse:
        """Import an uploaded package (file + metadata) as a new target-side duplication."""
        return await _restore(request, who)


def _record_routes(router: APIRouter) -> None:
    @router.get(
        f"{BASE}/{{dup_id}}", response_model=schemas.Duplication, responses=errors(401, 403, 404, texts=_NOT_FOUND)
    )
    async def get_duplication(request: Request, dup_id: str = DupId, who: Principal = who_dep) -> schemas.Duplication:
        """One side's record: its status, progress and settings."""
        return _shown(request, await run_in_threadpool(duplications.get, context(request), who, dup_id))

    @router.put(
        f"{BASE}/{{dup_id}}",
        status_code=201,
        response_model=None,
        openapi_extra=_PUT_BODY,
        responses={201: _RECORD, 204: _CANCELLED, **errors(400, 401, 403, 404, 409, 413, texts=_CONFLICT)},
    )
    async def put_duplication(
        request: Request, dup_id: str = DupId, prefer: str | None = PREFER, who: Principal = who_dep
    ) -> Response:
        """By its body: the request JSON starts the target side (201); {"status": "cancelled"}
        cancels (204); multipart file + metadata restores a package (201, the document's sample)."""
        if upload.is_multipart(request):
            return await _restore(request, who)
        ctx = context(request)
        data = await read_json(request, ctx.settings.max_json_bytes)
        if isinstance(data, dict) and "status" in data and not {"source", "target"} & set(data):
            await _cancel(request, who, dup_id, validate(schemas.StatusChange, data))
            return Response(status_code=204)
        body = validate(DuplicationRequest, data)
        return _created(request, await run_in_threadpool(duplications.start_target, ctx, who, dup_id, body))

    @router.put(
        f"{BASE}/{{dup_id}}/status",
        status_code=204,
        openapi_extra=body_schema(schemas.StatusChange),
        responses={204: _CANCELLED, **errors(400, 401, 403, 404, 409, texts={**_NOT_FOUND, **_NOT_CANCELLABLE})},
    )
    async def change_status(request: Request, dup_id: str = DupId, who: Principal = who_dep) -> Response:
        """Cancel ({"status": "cancelled"}, any case): mstrio-py's path."""
        body = await read_model(request, schemas.StatusChange, context(request).settings.max_json_bytes)
        await _cancel(request, who, dup_id, body)
        return Response(status_code=204)

    @router.delete(
        f"{BASE}/{{dup_id}}",
        status_code=204,
        responses={204: {"description": "deleted"}, **errors(401, 403, 404, 409, texts=_NOT_FOUND)},
    )
    async def delete_duplication(request: Request, dup_id: str = DupId, who: Principal = who_dep) -> Response:
        """Forget a finished duplication's record (and its package on this side)."""
        await run_in_threadpool(duplications.delete, context(request), who, dup_id)
        return Response(status_code=204)

    @router.get(
        f"{BASE}/{{dup_id}}/backup",
        response_class=StreamingResponse,
        responses={200: _PACKAGE, **errors(401, 403, 404, 409, texts=_NOT_FOUND)},
    )
    async def download(request: Request, dup_id: str = DupId, who: Principal = who_dep) -> StreamingResponse:
        """The package of an exported source side, streamed."""
        package = await run_in_threadpool(duplications.package, context(request), who, dup_id)
        name = "".join(c for c in package.filename if c.isascii() and c.isprintable() and c not in '"\\/')
        headers = {"Content-Disposition": f'attachment; filename="{name}"', "Content-Length": str(package.size)}
        return StreamingResponse(package.chunks, media_type="application/octet-stream", headers=headers)


async def _cancel(request: Request, who: Principal, dup_id: str, body: schemas.StatusChange) -> None:
    _check_cancel(body)
    await run_in_threadpool(duplications.cancel, context(request), who, dup_id)
