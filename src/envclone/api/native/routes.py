"""The /v1 router: content CRUD, records, files, settings, environment digest and tokens."""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

import envclone.api.convertors  # noqa: F401  (registers the "anytext" path convertor)
from envclone.api.body import body_schema, read_model, validate
from envclone.api.credentials import context
from envclone.api.native import backups, clone, jobs, operations, transfer
from envclone.api.native import schemas as s
from envclone.api.native.auth import authenticated
from envclone.api.native.content import CRUDS
from envclone.api.native.crud import mount
from envclone.api.native.paging import page_body, paging
from envclone.api.native.responses import ANY_CLIENT_ERROR, Area, FileName, ImageKind, RecordKind, binary, errors, ok
from envclone.domain.principal import Principal
from envclone.errors import InvalidRequest, PayloadTooLarge
from envclone.services import authentication, environment, files, records

who_dep = Depends(authenticated)
JSON_LIMIT = 16 * 1024 * 1024


def build_router() -> APIRouter:
    router = APIRouter(prefix="/v1", responses=ANY_CLIENT_ERROR)
    # First: routes are matched in order, and status polls are the most frequent request by far.
    router.include_router(operations.build_router())
    for crud in CRUDS:
        mount(router, crud)
    _auth_routes(router)
    _record_routes(router)
    _file_routes(router)
    _environment_routes(router)
    router.include_router(backups.build_router())
    router.include_router(transfer.build_router())
    router.include_router(clone.build_router())
    router.include_router(jobs.build_router())
    return router


def _auth_routes(router: APIRouter) -> None:
    @router.post(
        "/auth/token",
        tags=["auth"],
        openapi_extra=body_schema(s.TokenRequest, form=True),
        **ok(s.Token, 200, 400, 401, 413, 422),
    )
    async def token(request: Request) -> dict[str, Any]:
        """OAuth 2.0 resource-owner password grant, as a form (RFC 6749) or as JSON."""
        if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            form = await request.form()
            body = validate(s.TokenRequest, {k: v for k, v in form.items() if isinstance(v, str)})
        else:
            body = await read_model(request, s.TokenRequest, 64 * 1024)
        issued, expires = await run_in_threadpool(
            authentication.issue_token, context(request), body.username, body.password
        )
        ttl = context(request).settings.token_ttl_seconds
        return {"access_token": issued, "token_type": "Bearer", "expires_in": ttl, "expires_at": expires}

    @router.get("/auth/whoami", tags=["auth"], **ok(s.WhoAmI, 200, 401))
    async def whoami(who: Principal = who_dep) -> dict[str, Any]:
        return {"login": who.login, "roles": sorted(who.roles)}

    @router.post("/auth/revoke", tags=["auth"], status_code=204, responses=errors(401))
    async def revoke(request: Request, who: Principal = who_dep) -> Response:
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer":
            await run_in_threadpool(authentication.revoke_token, context(request), value.strip())
        return Response(status_code=204)


def _record_routes(router: APIRouter) -> None:
    @router.get("/records/{kind}", tags=["records"], **ok(s.Page[s.Record], 200, 400, 401, 403, 404))
    async def query_records(kind: RecordKind, request: Request, who: Principal = who_dep) -> dict[str, Any]:
        limit, offset, filters = paging(request)
        unknown = set(filters) - {"actor", "action", "subject", "status", "since", "until"}
        if unknown:
            raise InvalidRequest(f"unknown filter(s): {', '.join(sorted(unknown))}")
        where = {k: v for k, v in filters.items() if k not in ("since", "until")}
        where["ts__gte"], where["ts__lt"] = filters.get("since"), filters.get("until")
        page = await run_in_threadpool(records.query, context(request), who, kind, where, limit=limit, offset=offset)
        return page_body(page)

    @router.post(
        "/records/{kind}",
        tags=["records"],
        status_code=201,
        openapi_extra=body_schema(s.Batch),
        **ok(s.Created, 201, 400, 401, 403, 404, 413, 422),
    )
    async def append_records(kind: RecordKind, request: Request, who: Principal = who_dep) -> dict[str, Any]:
        batch = await read_model(request, s.Batch, JSON_LIMIT)
        items = [validate(s.RecordIn, item).model_dump() for item in batch.items]
        count = await run_in_threadpool(records.append, context(request), who, kind, items)
        return {"created": count}


def _file_routes(router: APIRouter) -> None:
    @router.get("/files/{area}", tags=["files"], **ok(s.Page[s.StoredFile], 200, 400, 401, 403, 404))
    async def list_files(area: Area, request: Request, who: Principal = who_dep) -> dict[str, Any]:
        limit, offset, filters = paging(request)
        unknown = set(filters) - {"prefix"}
        if unknown:
            raise InvalidRequest(f"unknown filter(s): {', '.join(sorted(unknown))}")
        page = await run_in_threadpool(
            files.list_files, context(request), who, area, prefix=filters.get("prefix"), limit=limit, offset=offset
        )
        return page_body(page)

    @router.put(
        "/files/{area}/{name:anytext}",
        tags=["files"],
        status_code=201,
        openapi_extra=s.BYTES_BODY,
        **ok(s.StoredFile, 201, 400, 401, 403, 404, 409, 413),
    )
    async def upload(area: Area, name: FileName, request: Request, who: Principal = who_dep) -> dict[str, Any]:
        raw = request.query_params.get("modified")
        try:
            modified = dt.datetime.fromisoformat(raw) if raw else None
        except ValueError:
            raise InvalidRequest(f"modified: {raw!r} is not an ISO 8601 date and time") from None
        upload = await run_in_threadpool(
            partial(files.start_upload, context(request), who, area, name, modified=modified)
        )
        try:
            async for chunk in request.stream():
                if chunk:
                    await run_in_threadpool(upload.write, chunk)
            return await run_in_threadpool(upload.finish)
        finally:
            upload.abort()

    @router.get(
        "/files/{area}/{name:anytext}", tags=["files"], **binary("application/octet-stream", 200, 401, 403, 404)
    )
    async def download(area: Area, name: FileName, request: Request, who: Principal = who_dep) -> StreamingResponse:
        row, chunks = await run_in_threadpool(files.open_file, context(request), who, area, name)
        headers = {
            "Content-Length": str(row["size"]),
            "ETag": f'"{row["hash"]}"',
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name, safe='')}",
        }
        return StreamingResponse(chunks, media_type="application/octet-stream", headers=headers)

    @router.delete("/files/{area}/{name:anytext}", tags=["files"], status_code=204, responses=errors(401, 403, 404))
    async def delete(area: Area, name: FileName, request: Request, who: Principal = who_dep) -> Response:
        await run_in_threadpool(files.delete_file, context(request), who, area, name)
        return Response(status_code=204)


def _environment_routes(router: APIRouter) -> None:
    @router.get("/environment", tags=["environment"], **ok(s.Environment, 200, 401))
    async def info(request: Request, who: Principal = who_dep) -> dict[str, Any]:
        return await run_in_threadpool(environment.identity, context(request))

    @router.get("/environment/digest", tags=["environment"], **ok(s.Digest, 200, 401, 403))
    async def digest(request: Request, who: Principal = who_dep) -> dict[str, Any]:
        return await run_in_threadpool(environment.digest, context(request), who)

    @router.get("/settings", tags=["settings"], **ok(s.Settings, 200, 401, 403))
    async def get_settings(request: Request, who: Principal = who_dep) -> dict[str, Any]:
        return await run_in_threadpool(environment.get_settings, context(request), who)

    @router.patch(
        "/settings",
        tags=["settings"],
        openapi_extra=body_schema(s.SettingsUpdate),
        **ok(s.Settings, 200, 400, 401, 403, 413, 422),
    )
    async def patch_settings(request: Request, who: Principal = who_dep) -> dict[str, Any]:
        body = await read_model(request, s.SettingsUpdate, 64 * 1024)
        return await run_in_threadpool(environment.update_settings, context(request), who, body.values())

    @router.put(
        "/settings/images/{kind}",
        tags=["settings"],
        openapi_extra=s.BYTES_BODY,
        **ok(s.Image, 200, 400, 401, 403, 404, 413, 422),
    )
    async def put_image(kind: ImageKind, request: Request, who: Principal = who_dep) -> dict[str, Any]:
        environment.may_put_image(who)  # before the image is read into memory
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > environment.MAX_IMAGE_BYTES:
            raise PayloadTooLarge(f"images are limited to {environment.MAX_IMAGE_BYTES} bytes")
        data = bytearray()
        async for chunk in request.stream():
            data.extend(chunk)
            if len(data) > environment.MAX_IMAGE_BYTES:
                raise PayloadTooLarge(f"images are limited to {environment.MAX_IMAGE_BYTES} bytes")
        media = request.headers.get("content-type", "application/octet-stream")
        return await run_in_threadpool(environment.put_image, context(request), who, kind, bytes(data), media)

    @router.get("/settings/images/{kind}", tags=["settings"], **binary("application/octet-stream", 200, 401, 403, 404))
    async def get_image(kind: ImageKind, request: Request, who: Principal = who_dep) -> Response:
        value, data = await run_in_threadpool(environment.get_image, context(request), who, kind)
        return Response(data, media_type=value.get("content_type", "application/octet-stream"))
