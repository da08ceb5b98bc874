"""/v1/transfer: what a cloning source calls on its target — have/want, chunk and manifest
upload (verified on arrival), and the atomic apply that returns an operation. The bodies are the
peer protocol's models (domain.transfer); this module only parses, calls the service and renders."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from envclone.api.body import body_schema, read_model
from envclone.api.credentials import context
from envclone.api.native import schemas as s
from envclone.api.native.auth import authenticated
from envclone.api.native.operations import render, translator
from envclone.api.native.responses import ChunkId, ComponentName, OpId, errors, ok
from envclone.domain import transfer as wire  # the peer protocol, shared with peer/client.py
from envclone.domain.principal import Principal
from envclone.errors import InvalidRequest, NotAuthenticated, PayloadTooLarge
from envclone.services import transfer

who_dep = Depends(authenticated)
MAX_CHUNK_BLOB = 64 * 1024 * 1024
MAX_MANIFEST_BLOB = 256 * 1024 * 1024


def _receipt(request: Request) -> str:
    receipt = request.headers.get(wire.RECEIPT_HEADER, "")
    if not receipt:
        raise NotAuthenticated("send the apply's receipt in X-Envclone-Receipt")
    return receipt


async def _body(request: Request, who: Principal, limit: int) -> bytes:
    """The whole body, once ``who`` may send it (before a byte is read) and no larger than ``limit``
    (refused on its Content-Length already)."""
    return bytes(await _buffer(request, who, limit))


async def _buffer(request: Request, who: Principal, limit: int) -> bytearray:
    """``_body`` as read, not copied into bytes: for a body that is cut into parts at once."""
    transfer.may_receive(who)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"the body is larger than {limit} bytes")
    data = bytearray()
    async for piece in request.stream():
        data.extend(piece)
        if len(data) > limit:
            raise PayloadTooLarge(f"the body is larger than {limit} bytes")
    return data


def build_router() -> APIRouter:
    router = APIRouter(prefix="/transfer", tags=["transfer"])

    @router.post("/missing", openapi_extra=body_schema(wire.MissingRequest), responses=errors(400, 401, 403, 413, 422))
    async def missing(request: Request, who: Principal = who_dep) -> wire.MissingResponse:
        body = await read_model(request, wire.MissingRequest, 4 * 1024 * 1024)
        return wire.MissingResponse(missing=await run_in_threadpool(transfer.missing, context(request), who, body.ids))

    @router.put(
        "/chunks/{chunk_id}", status_code=201, openapi_extra=s.BYTES_BODY, responses=errors(400, 401, 403, 413, 422)
    )
    async def put_chunk(chunk_id: ChunkId, request: Request, who: Principal = who_dep) -> wire.ChunkStored:
        size = request.query_params.get("size", "")
        if not (size.isascii() and size.isdigit() and len(size) <= 12):
            raise InvalidRequest("size (the chunk's content length, a plain integer) is required")
        blob = await _body(request, who, MAX_CHUNK_BLOB)
        new = await run_in_threadpool(transfer.receive_chunk, context(request), who, chunk_id, int(size), blob)
        return wire.ChunkStored(id=chunk_id, stored=new)

    @router.post("/chunks", status_code=201, openapi_extra=s.BYTES_BODY, responses=errors(400, 401, 403, 413, 422))
    async def put_chunks(request: Request, who: Principal = who_dep) -> wire.ChunksStored:
        """Several chunks in one body (domain.transfer.encode_chunks), each verified on arrival."""
        body = await _buffer(request, who, wire.MAX_BATCH_BYTES)
        try:
            items = wire.decode_chunks(body)
        except ValueError as exc:
            raise InvalidRequest(f"the body is not a batch of chunks: {exc}") from None
        # Each chunk is its own copy now: the body is not held beside them while they are stored
        # (several batches arrive at once, each up to MAX_BATCH_BYTES).
        del body
        stored = await run_in_threadpool(transfer.receive_chunks, context(request), who, items)
        return wire.ChunksStored(received=len(items), stored=stored)

    @router.put("/manifests", status_code=201, openapi_extra=s.BYTES_BODY, responses=errors(400, 401, 403, 413, 422))
    async def put_manifest(request: Request, who: Principal = who_dep) -> wire.ManifestStored:
        blob = await _body(request, who, MAX_MANIFEST_BLOB)
        return await run_in_threadpool(transfer.receive_manifest, context(request), who, blob)

    # The apply's answers are the whole rendered operation; the models name the part a source reads.
    @router.post(
        "/apply",
        status_code=202,
        openapi_extra=body_schema(wire.ApplyRequest),
        **ok(wire.ApplyAccepted, 202, 400, 401, 403, 404, 409, 413, 422),
    )
    async def apply(request: Request, who: Principal = who_dep) -> dict[str, Any]:
        body = await read_model(request, wire.ApplyRequest, 1024 * 1024)
        op, receipt = await run_in_threadpool(transfer.start_apply, context(request), who, body)
        return {**render(op, translator(request)), "receipt": receipt}

    @router.get("/apply/{op_id}", **ok(wire.ApplyStatus, 200, 401, 404))
    async def apply_status(op_id: OpId, request: Request) -> dict[str, Any]:
        """Authenticated by the receipt the apply returned, not by a login (see services.transfer)."""
        op = await run_in_threadpool(transfer.apply_status, context(request), op_id, _receipt(request))
        return render(op, translator(request))

    @router.post(
        "/apply/{op_id}/cancel",
        status_code=202,
        **ok(wire.ApplyStatus, 202, 401, 404, 409, texts={409: "not_cancellable: past its point of no return"}),
    )
    async def cancel_apply(op_id: OpId, request: Request) -> dict[str, Any]:
        """The source cancelling its clone, by the receipt; 409 not_cancellable past the point of no return."""
        op = await run_in_threadpool(transfer.cancel_apply, context(request), op_id, _receipt(request))
        return render(op, translator(request))

    @router.get("/apply/{op_id}/report", **ok(s.ChangeReport, 200, 401, 404))
    async def apply_report(op_id: OpId, request: Request) -> Response:
        data = await run_in_threadpool(transfer.apply_report, context(request), op_id, _receipt(request))
        return Response(data, media_type="application/json")

    @router.get("/index/{component}", responses=errors(401, 403, 422))
    async def component_index(
        component: ComponentName, request: Request, who: Principal = who_dep
    ) -> wire.ComponentIndex:
        index = await run_in_threadpool(transfer.component_index, context(request), who, component)
        return wire.ComponentIndex(index=index)

    return router
