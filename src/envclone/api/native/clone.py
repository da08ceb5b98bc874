"""/v1/clone: start a clone, preview one (dry run), and download a finished clone's change report.
The target password travels in the body over the caller's connection and is never echoed."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import Field, StringConstraints
from starlette.concurrency import run_in_threadpool

from envclone.api.body import read_model
from envclone.api.credentials import context
from envclone.api.native.auth import authenticated
from envclone.api.native.operations import render, translator
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


def build_router() -> APIRouter:
    router = APIRouter(prefix="/clone", tags=["clone"])

    @router.post("", status_code=202)
    async def start(request: Request, who: Principal = who_dep) -> dict[str, Any]:
        body = await read_model(request, CloneBody, 64 * 1024)
        op = await run_in_threadpool(clone.start_clone, context(request), who, body.request(), body.target_password)
        return render(op, translator(request))

    @router.post("/preview")
    async def preview(request: Request, who: Principal = who_dep) -> dict[str, Any]:
        body = await read_model(request, PreviewBody, 64 * 1024)
        return await run_in_threadpool(
            partial(clone_preview.preview_clone, list_limit=body.list_limit),
            context(request),
            who,
            body.request(),
            body.target_password,
        )

    @router.get("/{op_id}/report")
    async def change_report(op_id: str, request: Request, who: Principal = who_dep) -> Response:
        data = await run_in_threadpool(clone.report, context(request), who, op_id)
        return Response(
            data,
            media_type="application/json",
            headers={"Content-Disposition": f'attachment; filename="clone-{op_id}-report.json"'},
        )

    return router
