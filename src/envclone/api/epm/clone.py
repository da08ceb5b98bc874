"""EPM Clone Environment: POST /v1/services/clone and GET /v1/services/clone/status (the latest
clone), in the document's shapes: intermittentStatus, localized statusDetails, backup and times."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from envclone.api.body import body_schema, read_model
from envclone.api.credentials import context
from envclone.api.epm import render, schemas
from envclone.api.epm.auth import authenticated
from envclone.api.epm.responses import ok
from envclone.domain.clone import KIND
from envclone.domain.principal import Principal
from envclone.errors import InvalidRequest, NotFound
from envclone.locales import translator_for
from envclone.services import clone, operations

who_dep = Depends(authenticated)
PREFIX = "/interop/rest"


def _password(encoded: str) -> str:
    try:
        return base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise InvalidRequest("targetEncryptPassword must be the base64 encoding of the target password") from None


def build_router() -> APIRouter:
    router = APIRouter(tags=["EPM"])  # mounted under /interop/rest by routes.py

    @router.post(
        "/v1/services/clone",
        openapi_extra=body_schema(schemas.CloneRequestBody),
        **ok(schemas.JobStarted, 400, 401, 403, 409, 413, 422),
    )
    async def start_clone(request: Request, who: Principal = who_dep) -> dict[str, Any]:
        body = await read_model(request, schemas.CloneRequestBody, 1024 * 1024)
        password = _password(body.target_password)
        await run_in_threadpool(clone.start_clone, context(request), who, body.to_request(), password)
        href = str(request.base_url).rstrip("/") + PREFIX + "/v1/services/clone/status"
        link = {"rel": "Job Status", "href": href, "data": None, "action": "GET"}
        return {**render.envelope(status=-1, links=[link]), "intermittentStatus": None}

    @router.get("/v1/services/clone/status", **ok(schemas.CloneStatus, 401, 403, 404))
    async def clone_status(request: Request, who: Principal = who_dep) -> dict[str, Any]:
        op = await run_in_threadpool(operations.latest, context(request), who, KIND)
        if op is None:
            raise NotFound("no clone has been run in this environment")
        tr = translator_for(request.headers.get("accept-language"), context(request).settings.locale)
        code = render.status_code(op)
        # details: the error of a failed clone; for a successful one the warnings (a stale
        # snapshot), null when there are none, as in the document's example.
        warnings = op.result.get("warnings") or []
        details = op.error_message if code > 0 else (" ".join(warnings) or None) if code == 0 else None
        return {
            **render.envelope(status=code, details=details),
            "backupName": op.result.get("backupName"),
            "backupCreatedTime": op.result.get("backupCreatedTime"),
            "cloneStartTime": op.started.isoformat(timespec="seconds") if op.started else None,
            "cloneCompletedTime": op.result.get("cloneCompletedTime") if code == 0 else None,
            "intermittentStatus": render.intermittent(op),
            "statusDetails": render.status_details(op, tr),
        }

    return router
