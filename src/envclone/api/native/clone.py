"""/v1/clone: start a clone, preview one (dry run), and download a finished clone's change report.
The target password travels in the body over the caller's connection and is never echoed."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field, StringConstraints
from starlette.concurrency import run_in_threadpool

from envclone.api.body import body_schema, read_model
from envclone.api.credentials import context
from envclone.api.native import schemas as s
from envclone.api.native.auth import authenticated
from envclone.api.native.operations import render, translator
from envclone.api.native.responses import OpId, ok
from envclone.api.native.schemas import Strict
from envclone.domain.clone import CloneRequest
from envclone.domain.principal import Principal
from envclone.services import clone, clone_preview

who_dep = Depends(authenticated)


class CloneBody(Strict):
    target_url: Annotated[str, StringConstraints(min_length=1, max_length=2000)]
    target_user: Annotated[str, StringConstraints(min_length=1, max_length=250)]
    target_password: Annotated[str, StringConstraints(min_length=1, max_length=4096)] = Field(repr=False)
    snapshot_name: Annotated[str, StringConstraints(max_length=250)] | None = None
    environment_backup: bool = False
    options: dict[str, bool] = Field(default_factory=dict)

    def request(self) -> CloneRequest:
        return CloneRequest.model_validate(self.model_dump(exclude={"target_password", "list_limit"}))


class PreviewBody(CloneBody):
    # How many keys each list of created, replaced and removed objects holds at most; the
    # preview's ``truncated`` says how many each left out.
    list_limit: Annotated[int, Field(ge=0, le=100_000)] = clone_preview.LIST_LIMIT


# What a preview answers (services.clone_preview), for the OpenAPI document; the service's dict is
# returned as it is, so keys a failed preview leaves out stay out rather than turn null.
class PreviewCheck(BaseModel):
    check: str
    ok: bool
    problem: str | None


class ComponentChange(BaseModel):
    before: int
    after: int
    created: int
    replaced: int
    removed: int
    unchanged: int
    objects: dict[str, list[str]] = Field(description="keys created, replaced, removed (at most list_limit each)")
    truncated: dict[str, int] = Field(description="how many keys each list of objects left out")


class SnapshotUsed(BaseModel):
    name: str
    kind: str
    created: str
    ageSeconds: int  # noqa: N815
    changedSince: list[str] | None = Field(description="components changed since; null: another environment's")  # noqa: N815
    stale: bool


class ClonePreview(BaseModel):
    ok: bool = Field(description="false when the clone would fail; problem then says why")
    problem: str | None
    checks: list[PreviewCheck]
    options: dict[str, bool | None] | None = None
    backupName: str | None = Field(None, description="the snapshot the clone would send")  # noqa: N815
    takes_snapshot: bool | None = Field(None, description="no snapshot yet: the clone would take one first")
    snapshot: SnapshotUsed | None = Field(None, description="the snapshot, its age, what changed since")
    warnings: list[str] = Field(default_factory=list, description="e.g. the source changed since the snapshot")
    components: dict[str, ComponentChange] = Field(description="empty when a check failed")
    chunks: int | None = None
    chunks_to_send: int | None = None
    bytes_to_send: int | None = Field(None, description="stored bytes the target lacks")
    bytes_total: int | None = None


def build_router() -> APIRouter:
    router = APIRouter(prefix="/clone", tags=["clone"])

    @router.post(
        "",
        status_code=202,
        openapi_extra=body_schema(CloneBody),
        **ok(s.Operation, 202, 400, 401, 403, 404, 409, 413, 422),
    )
    async def start(request: Request, who: Principal = who_dep) -> dict[str, Any]:
        body = await read_model(request, CloneBody, 64 * 1024)
        op = await run_in_threadpool(clone.start_clone, context(request), who, body.request(), body.target_password)
        return render(op, translator(request))

    @router.post(
        "/preview", openapi_extra=body_schema(PreviewBody), **ok(ClonePreview, 200, 400, 401, 403, 404, 409, 413, 422)
    )
    async def preview(request: Request, who: Principal = who_dep) -> dict[str, Any]:
        body = await read_model(request, PreviewBody, 64 * 1024)
        return await run_in_threadpool(
            partial(clone_preview.preview_clone, list_limit=body.list_limit),
            context(request),
            who,
            body.request(),
            body.target_password,
        )

    @router.get("/{op_id}/report", **ok(s.ChangeReport, 200, 401, 403, 404))
    async def change_report(op_id: OpId, request: Request, who: Principal = who_dep) -> Response:
        data = await run_in_threadpool(clone.report, context(request), who, op_id)
        return Response(
            data,
            media_type="application/json",
            headers={"Content-Disposition": f'attachment; filename="clone-{op_id}-report.json"'},
        )

    return router
