"""/v1/operations: every operation in one shape, with step messages localized by Accept-Language
and progress with rate and time remaining."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.encoders import jsonable_encoder
from starlette.concurrency import run_in_threadpool

from envclone.api.credentials import context
from envclone.api.native import schemas as s
from envclone.api.native.auth import authenticated
from envclone.api.native.paging import paging
from envclone.api.native.responses import OpId, ok
from envclone.domain.clock import utcnow
from envclone.domain.operation import Operation, Step, StepResult
from envclone.domain.principal import Principal
from envclone.errors import InvalidRequest
from envclone.locales import Translator, translator_for
from envclone.services import operations

who_dep = Depends(authenticated)
# The native API shows step results as it always has (the spellings EPM's statusDetails uses);
# clients such as the CLI compare against these strings.
STEP_RESULT: dict[StepResult, str] = {
    StepResult.PENDING: "pending",
    StepResult.IN_PROGRESS: "inProgress",
    StepResult.SUCCESS: "success",
    StepResult.FAILED: "failed",
    StepResult.NOT_APPLICABLE: "NA",
}


def render_step(step: Step, tr: Translator) -> dict[str, Any]:
    return {**step.to_json(), "result": STEP_RESULT[step.result], "message": tr(step.key)}


def render(op: Operation, tr: Translator) -> dict[str, Any]:
    """``progress`` is the engine's one model (domain.progress), rendered as it is."""
    return {
        "id": op.id,
        "number": op.seq,
        "kind": op.kind,
        "status": op.status.value,
        "parameters": op.params,
        "steps": [render_step(step, tr) for step in op.steps],
        "progress": op.progress_view(utcnow()).to_json(),
        "result": {k: v for k, v in op.result.items() if not k.startswith("_")},
        "error": {"code": op.error_code, "message": op.error_message} if op.error_code else None,
        "created": op.created,
        "started": op.started,
        "ended": op.ended,
        "created_by": op.created_by,
        "locale": tr.locale,
    }


def json_response(body: dict[str, Any]) -> Response:
    """What FastAPI would send for ``body`` (its JSONResponse of jsonable_encoder's output), with
    the standard encoder walking the body in C and jsonable_encoder asked only about the values
    it cannot write itself (datetimes): a status poll's largest cost after the read itself."""
    content = json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":"), default=jsonable_encoder)
    return Response(content.encode(), media_type="application/json")


NOT_CANCELLABLE = "not_cancellable: the operation has ended or passed its point of no return"


def translator(request: Request) -> Translator:
    return translator_for(request.headers.get("accept-language"), context(request).settings.locale)


def build_router() -> APIRouter:
    router = APIRouter(prefix="/operations", tags=["operations"])

    @router.get("", **ok(s.Page[s.Operation], 200, 400, 401, 403))
    async def list_operations(request: Request, who: Principal = who_dep) -> dict[str, Any]:
        limit, offset, filters = paging(request)
        unknown = set(filters) - {"kind", "status"}
        if unknown:
            raise InvalidRequest(f"unknown filter(s): {', '.join(sorted(unknown))}")
        ops, total = await run_in_threadpool(
            operations.list_operations,
            context(request),
            who,
            kind=filters.get("kind"),
            status=filters.get("status"),
            limit=limit,
            offset=offset,
        )
        tr = translator(request)
        return {"items": [render(op, tr) for op in ops], "total": total, "limit": limit, "offset": offset}

    @router.get("/{op_id}", **ok(s.Operation, 200, 401, 403, 404))
    async def get_operation(op_id: OpId, request: Request, who: Principal = who_dep) -> Response:
        """By id, or by number (the job id the EPM dialect hands out)."""
        # One running here or ended a moment ago is read from memory; others cost a worker thread.
        op = operations.peek_operation(context(request), who, op_id)
        if op is None:
            op = await run_in_threadpool(operations.get_operation, context(request), who, op_id)
        return json_response(render(op, translator(request)))

    @router.post(
        "/{op_id}/cancel", status_code=202, **ok(s.Operation, 202, 401, 403, 404, 409, texts={409: NOT_CANCELLABLE})
    )
    async def cancel(op_id: OpId, request: Request, who: Principal = who_dep) -> dict[str, Any]:
        """By id or number, as GET takes it. 202: it will stop and change nothing; 409
        not_cancellable: it has ended or passed its point of no return."""
        op = await run_in_threadpool(operations.cancel, context(request), who, op_id)
        return render(op, translator(request))

    return router
