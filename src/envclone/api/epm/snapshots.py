"""EPM files and snapshots under ``/{api_version}/applicationsnapshots`` (list, details, chunked
upload, download, delete) and Restore Backup under ``/v2/backups/restore``, in Oracle's paths and
shapes. Parse, call the snapshots service, render; nothing else."""

from __future__ import annotations

import datetime as dt
import re
from functools import partial
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse
from pydantic import Field
from starlette.concurrency import run_in_threadpool

import envclone.api.convertors  # noqa: F401  (registers the "anytext" path convertor)
from envclone.api.body import body_schema, parse_json, read_model, validate
from envclone.api.credentials import context
from envclone.api.epm import jobs, render, schemas
from envclone.api.epm.auth import authenticated
from envclone.api.epm.responses import ApiVersion, JobId, StoredName, binary, ok
from envclone.domain.files import FileArea
from envclone.domain.limits import INT64_MAX
from envclone.domain.principal import Principal
from envclone.errors import InvalidRequest, MalformedJson, PayloadTooLarge
from envclone.services import snapshots
from envclone.services._staging import MAX_CHUNK, ChunkSpec

who_dep = Depends(authenticated)
BODY_LIMIT = 64 * 1024
FILES = "/{api_version}/applicationsnapshots"
_BARE_KEY = re.compile(r"([{,]\s*)([A-Za-z_]\w*)\s*:")
_EXT_DIRS = {FileArea.INBOX.value: FileArea.INBOX.value}
# An upload is one chunk of the file's bytes; ``q`` says which (Oracle's JSON in a query parameter).
UPLOAD: dict[str, Any] = {
    "parameters": [
        {
            "name": "q",
            "in": "query",
            "required": True,
            "description": 'JSON: {"isFirst": true, "isLast": true, "chunkSize": N, "fileSize": N}',
            "schema": {"type": "string"},
        }
    ],
    "requestBody": {
        "required": True,
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    },
}


class UploadQuery(schemas.Lenient):
    """``q`` of an upload: Oracle's samples send it as JSON, some with unquoted keys."""

    is_first: schemas.EpmBool = Field(alias="isFirst")
    is_last: schemas.EpmBool = Field(alias="isLast")
    chunk_size: Annotated[int, Field(ge=0, le=INT64_MAX)] | None = Field(None, alias="chunkSize")
    file_size: Annotated[int, Field(ge=0, le=INT64_MAX)] | None = Field(None, alias="fileSize")
    ext_dir_path: str | None = Field(None, alias="extDirPath")


def _query(request: Request) -> tuple[ChunkSpec, str | None]:
    raw = request.query_params.get("q")
    if raw is None or not raw.strip():
        raise MalformedJson('the q parameter is required, e.g. q={"isFirst":true,"isLast":true,"chunkSize":N}')
    try:
        data = parse_json(raw, "the q parameter")
    except MalformedJson:
        try:
            data = parse_json(_BARE_KEY.sub(r'\1"\2":', raw), "the q parameter")
        except MalformedJson as exc:
            raise MalformedJson(f"{exc.message}: {raw[:200]!r}") from None
    query = validate(UploadQuery, data)
    ext = query.ext_dir_path or request.query_params.get("extDirPath")
    area = None
    if ext is not None:
        area = _EXT_DIRS.get(ext.strip().strip("/").lower())
        if area is None:
            raise InvalidRequest(f"extDirPath {ext!r} is not supported: use inbox")
    spec = ChunkSpec(query.is_first, query.is_last, query.chunk_size, query.file_size)
    return spec, area


def _self(request: Request) -> list[dict[str, Any]]:
    return [{"href": str(request.url), "rel": "self", "data": None, "action": request.method}]


def _link(request: Request, rel: str, action: str, suffix: str = "") -> dict[str, Any]:
    href = quote(str(request.url).split("?", 1)[0].rstrip("/") + suffix, safe=":/%")
    return {"href": href, "rel": rel, "data": None, "action": action}


def _item(item: snapshots.Stored) -> dict[str, Any]:
    # Oracle documents size and time for EXTERNAL files only and leaves them null for LCM
    # snapshots; envclone gives both for every item (a client that ignores them loses nothing,
    # one that shows them no longer shows "None"). docs/compatibility.md says so.
    millis = round(item.modified.replace(tzinfo=dt.UTC).timestamp() * 1000) if item.modified else None
    return {
        "name": item.name,
        "type": "LCM" if item.is_snapshot else "EXTERNAL",
        "size": str(item.size),
        "lastmodifiedtime": str(millis) if millis is not None else None,
    }


def _extension(item: snapshots.Stored) -> str:
    base, dot, ext = item.name.rpartition(".")
    if dot and base and "/" not in ext:
        return ext
    return "zip" if item.is_snapshot else ""


def build_router() -> APIRouter:
    router = APIRouter(tags=["EPM"])
    _content_routes(router)
    _item_routes(router)
    _restore_backup_routes(router)
    return router


def _content_routes(router: APIRouter) -> None:
    # Before the item routes: a name may not swallow "/contents".
    @router.post(
        FILES + "/{name:anytext}/contents",
        openapi_extra=UPLOAD,
        **ok(schemas.Envelope, 400, 401, 403, 404, 409, 413, 422),
    )
    async def upload(
        api_version: ApiVersion, name: StoredName, request: Request, who: Principal = who_dep
    ) -> dict[str, Any]:
        spec, area = _query(request)
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_CHUNK:
            raise PayloadTooLarge(f"a chunk may not be larger than {MAX_CHUNK} bytes (50 MiB)")
        ctx = context(request)
        receiver = await run_in_threadpool(snapshots.start_chunk, ctx, who, name, spec)
        try:
            async for data in request.stream():
                if data:
                    await run_in_threadpool(receiver.write, data)
            await run_in_threadpool(partial(snapshots.finish_chunk, ctx, receiver, area))
        finally:
            receiver.abort()
        return render.envelope(links=_self(request))

    @router.get(FILES + "/{name:anytext}/contents", **binary(401, 403, 404))
    async def download(
        api_version: ApiVersion, name: StoredName, request: Request, who: Principal = who_dep
    ) -> StreamingResponse:
        item, chunks = await run_in_threadpool(snapshots.open_content, context(request), who, name)
        headers = {
            "fileExtension": _extension(item),
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(item.name.rpartition('/')[2], safe='')}",
        }
        if not item.manifest_id:
            headers["Content-Length"] = str(item.size)
        return StreamingResponse(chunks, media_type="application/octet-stream", headers=headers)


def _item_routes(router: APIRouter) -> None:
    @router.get(FILES, **ok(schemas.StoredList, 401, 403))
    async def list_files(api_version: ApiVersion, request: Request, who: Principal = who_dep) -> dict[str, Any]:
        items = await run_in_threadpool(snapshots.list_stored, context(request), who)
        return render.envelope(items=[_item(i) for i in items], links=_self(request))

    @router.get(FILES + "/{name:anytext}", **ok(schemas.StoredDetailsList, 401, 403, 404))
    async def details(
        api_version: ApiVersion, name: StoredName, request: Request, who: Principal = who_dep
    ) -> dict[str, Any]:
        item = await run_in_threadpool(snapshots.describe, context(request), who, name)
        archive = item.manifest_id is not None
        body = {
            "name": item.name,
            "type": "LCM" if item.is_snapshot else "EXTERNAL",
            "canexport": archive,
            "canimport": False,
            "canupload": not archive,
            "candownload": True,
        }
        links = [*_self(request), _link(request, "download", "GET", "/contents")]
        if not archive:
            links += [_link(request, "upload", "POST", "/contents"), _link(request, "delete", "DELETE")]
        return render.envelope(items=[body], links=links)

    @router.delete(FILES + "/{name:anytext}", **ok(schemas.Envelope, 401, 403, 404, 409))
    async def delete(
        api_version: ApiVersion, name: StoredName, request: Request, who: Principal = who_dep
    ) -> dict[str, Any]:
        await run_in_threadpool(snapshots.delete, context(request), who, name)
        return render.envelope(links=_self(request))


def _restore_backup_routes(router: APIRouter) -> None:
    @router.post(
        "/v2/backups/restore",
        openapi_extra=body_schema(schemas.RestoreBackupRequest),
        **ok(schemas.Envelope, 400, 401, 403, 404, 409, 413, 422),
    )
    async def restore_backup(request: Request, who: Principal = who_dep) -> dict[str, Any]:
        body = await read_model(request, schemas.RestoreBackupRequest, BODY_LIMIT)
        ctx = context(request)
        op = await run_in_threadpool(snapshots.start_restore_backup, ctx, who, body.backup_name, body.target)
        link = _link(request, "Job Status", "GET", f"/status/{op.seq}")
        return render.envelope(status=-1, links=[link])

    @router.get("/v2/backups/restore/status/{job_id}", **ok(schemas.RestoreBackupStatus, 401, 403, 404, 422))
    async def restore_backup_status(job_id: JobId, request: Request, who: Principal = who_dep) -> dict[str, Any]:
        op = await run_in_threadpool(snapshots.get_restore_backup, context(request), who, jobs.number(job_id))
        code = render.status_code(op)
        items = None
        if code == 0:
            items = [{"backupName": op.result.get("backupName"), "targetName": op.result.get("snapshotName")}]
        body = render.envelope(status=code, details=op.error_message if code > 0 else None, items=items)
        return {**body, "links": _self(request), "intermittentStatus": render.intermittent(op)}
