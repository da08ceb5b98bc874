"""/v1/transfer: what a cloning source calls on its target — have/want, chunk and manifest
upload (verified on arrival), and the atomic apply that returns an operation."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request, Response
from pydantic import Field, StringConstraints
from starlette.concurrency import run_in_threadpool

from envclone.api.body import read_model
from envclone.api.credentials import context
from envclone.api.native.auth import authenticated
from envclone.api.native.operations import render, translator
from envclone.api.native.schemas import Strict
from envclone.auth.principal import Principal
from envclone.errors import InvalidRequest, NotAuthenticated, PayloadTooLarge
from envclone.services import transfer

who_dep = Depends(authenticated)
MAX_CHUNK_BLOB = 64 * 1024 * 1024
MAX_MANIFEST_BLOB = 256 * 1024 * 1024
ComponentName = Literal[
    "artifacts",
    "users",
    "configuration",
    "jobs",
    "jobConsole",
    "applicationAudit",
    "dataManagement",
    "files",
    "settings",
]
Hex64 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class MissingBody(Strict):
    ids: list[Hex64] = Field(max_length=transfer.MAX_IDS)


class ApplyBody(Strict):
    archive_id: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    components: list[ComponentName] = Field(min_length=1)
    keep_settings: list[Annotated[str, StringConstraints(max_length=64)]] = Field(default_factory=list)
    digests: dict[ComponentName, Hex64] = Field(default_factory=dict)
    source: dict[str, Any] = Field(default_factory=dict)


async def _body(request: Request, limit: int) -> bytes:
    data = bytearray()
    async for piece in request.stream():
        data.extend(piece)
        if len(data) > limit:
            raise PayloadTooLarge(f"the body is larger than {limit} bytes")
    return bytes(data)


def build_router() -> APIRouter:
    router = APIRouter(prefix="/transfer", tags=["transfer"])

    @router.post("/missing")
    async def missing(request: Request, who: Principal = who_dep) -> dict[str, Any]:
        body = await read_model(request, MissingBody, 4 * 1024 * 1024)
        return {"missing": await run_in_threadpool(transfer.missing, context(request), who, body.ids)}

    @router.put("/chunks/{chunk_id}", status_code=201)
    async def put_chunk(chunk_id: str, request: Request, who: Principal = who_dep) -> dict[str, Any]:
        size = request.query_params.get("size", "")
        if not size.isdigit():
            raise InvalidRequest("size (the chunk's content length) is required")
        blob = await _body(request, MAX_CHUNK_BLOB)
        new = await run_in_threadpool(transfer.receive_chunk, context(request), who, chunk_id, int(size), blob)
        return {"id": chunk_id, "stored": new}

    @router.put("/manifests", status_code=201)
    async def put_manifest(request: Request, who: Principal = who_dep) -> dict[str, Any]:
        blob = await _body(request, MAX_MANIFEST_BLOB)
        return await run_in_threadpool(transfer.receive_manifest, context(request), who, blob)

    @router.post("/apply", status_code=202)
    async def apply(request: Request, who: Principal = who_dep) -> dict[str, Any]:
        body = await read_model(request, ApplyBody, 1024 * 1024)
        op, receipt = await run_in_threadpool(
            transfer.start_apply,
            context(request),
            who,
            body.archive_id,
            list(body.components),
            body.keep_settings,
            {str(k): v for k, v in body.digests.items()},
            body.source,
        )
        return {**render(op, translator(request)), "receipt": receipt}

    @router.get("/apply/{op_id}")
    async def apply_status(op_id: str, request: Request) -> dict[str, Any]:
        """Authenticated by the receipt the apply returned, not by a login (see services.transfer)."""
        receipt = request.headers.get("x-envclone-receipt", "")
        if not receipt:
            raise NotAuthenticated("send the apply's receipt in X-Envclone-Receipt")
        op = await run_in_threadpool(transfer.apply_status, context(request), op_id, receipt)
        return render(op, translator(request))

    @router.get("/apply/{op_id}/report")
    async def apply_report(op_id: str, request: Request) -> Response:
        receipt = request.headers.get("x-envclone-receipt", "")
        if not receipt:
            raise NotAuthenticated("send the apply's receipt in X-Envclone-Receipt")
        data = await run_in_threadpool(transfer.apply_report, context(request), op_id, receipt)
        return Response(data, media_type="application/json")

    @router.get("/index/{component}")
    async def component_index(component: str, request: Request, who: Principal = who_dep) -> dict[str, Any]:
        index = await run_in_threadpool(transfer.component_index, context(request), who, component)
        return {"count": index} if isinstance(index, int) else {"index": index}

    return router
