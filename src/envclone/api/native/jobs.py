"""/v1/jobs/{uid}/clone, /run, /stop and /runs: envclone's own terms for what the Veeam dialect
offers as job actions and backup sessions, on the same services; each action answers the
operation it started (or stopped), which /v1/operations reports on."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field, StringConstraints
from starlette.concurrency import run_in_threadpool

from envclone.api.body import body_schema, read_model
from envclone.api.credentials import context
from envclone.api.native import schemas as s
from envclone.api.native.auth import authenticated
from envclone.api.native.operations import render, translator
from envclone.api.native.responses import JobUid
from envclone.api.native.schemas import Strict
from envclone.domain.job_clone import FIELD_LIMIT, NAME_LIMIT, TEXT_LIMIT, JobCloneRequest, JobType
from envclone.domain.principal import Principal
from envclone.services import job_clone, job_runs, jobs

who_dep = Depends(authenticated)
LIMIT = 64 * 1024
Field250 = Annotated[str, StringConstraints(min_length=1, max_length=FIELD_LIMIT)]


class JobCloneBody(Strict):
    """What a clone changes; the rest is the source job's. A backup or copy job's clone names a
    folder (file) name and a repository; a replication job's clone a replica suffix."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=NAME_LIMIT)]
    # A string (the strict body takes no enum from JSON), checked against the job types.
    job_type: Literal["Backup", "Replica", "BackupCopy", "ImmediateBackupCopy"] | None = Field(
        None, description="the source job's type when left out"
    )
    description: Annotated[str, StringConstraints(max_length=TEXT_LIMIT)] | None = None
    folder_name: Field250 | None = None
    repository_uid: Field250 | None = None
    vm_suffix: Field250 | None = None

    def request(self, source_uid: str, source_type: str) -> JobCloneRequest:
        values = self.model_dump(exclude={"job_type"})
        return JobCloneRequest(source_uid=source_uid, job_type=JobType(self.job_type or source_type), **values)


class JobRuns(BaseModel):
    items: list[s.Operation]


def _errors(*statuses: int) -> dict[int | str, Any]:
    texts = {
        400: "job_name_taken, repository_not_found, job_kind_mismatch: the clone's name is taken, its "
        "repository unknown, its options another kind's",
        401: "not_authenticated",
        403: "forbidden: the user lacks the role",
        404: "not_found: no such job",
        409: "conflict: another run or a restore holds the environment; stop: the job is not running; "
        "not_cancellable: its run can no longer be stopped",
        422: "invalid_request: the body does not match its schema, or the job cannot run (no repository, "
        "no replica target or secret, no source job)",
    }
    return {status: {"model": s.ErrorResponse, "description": texts[status]} for status in statuses}


def build_router() -> APIRouter:
    router = APIRouter(prefix="/jobs", tags=["jobs"])

    @router.post(
        "/{uid}/clone",
        status_code=202,
        openapi_extra=body_schema(JobCloneBody),
        responses={202: {"model": s.Operation}, **_errors(400, 401, 403, 404, 422)},
    )
    async def clone_job(uid: JobUid, request: Request, who: Principal = who_dep) -> dict[str, Any]:
        """Clone the job: a cloneJob operation, whose result names the new job (jobUid)."""
        body = await read_model(request, JobCloneBody, LIMIT)
        ctx = context(request)
        source_type = body.job_type or (await run_in_threadpool(jobs.get_job, ctx, who, uid))["job_type"]
        op = await run_in_threadpool(job_clone.start_job_clone, ctx, who, body.request(uid, source_type))
        return render(op, translator(request))

    @router.post(
        "/{uid}/run", status_code=202, responses={202: {"model": s.Operation}, **_errors(401, 403, 404, 409, 422)}
    )
    async def run_job(uid: JobUid, request: Request, who: Principal = who_dep) -> dict[str, Any]:
        """Start a run of the job now: a backup, a replication or a backup copy, by the job's kind."""
        op = await run_in_threadpool(job_runs.start_job, context(request), who, uid)
        return render(op, translator(request))

    @router.post("/{uid}/stop", status_code=202, responses={202: {"model": s.Operation}, **_errors(401, 403, 404, 409)})
    async def stop_job(uid: JobUid, request: Request, who: Principal = who_dep) -> dict[str, Any]:
        """Stop the job's run: it ends as cancelled, leaving no partial backup."""
        op = await run_in_threadpool(job_runs.stop_job, context(request), who, uid)
        return render(op, translator(request))

    @router.get("/{uid}/runs", responses={200: {"model": JobRuns}, **_errors(401, 403, 404)})
    async def list_runs(uid: JobUid, request: Request, who: Principal = who_dep) -> dict[str, Any]:
        """The job's runs, newest first (the latest 1000)."""
        ctx = context(request)
        await run_in_threadpool(jobs.get_job, ctx, who, uid)
        runs = await run_in_threadpool(job_runs.list_runs, ctx, who, uid)
        tr = translator(request)
        return {"items": [render(op, tr) for op in runs]}

    return router
