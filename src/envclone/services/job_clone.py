"""Cloning a job: the request checked against the store (source, kind, name, repository) before
anything is recorded, then run as a cloneJob operation (its task: services.tasks)."""

from __future__ import annotations

from envclone.domain import job_clone
from envclone.domain.job_clone import JobCloneRequest
from envclone.domain.operation import Operation
from envclone.domain.principal import Permission, Principal
from envclone.operations.job_clone.run import checked_source
from envclone.services.context import ServiceContext


def start_job_clone(ctx: ServiceContext, who: Principal, request: JobCloneRequest) -> Operation:
    who.require(Permission.WRITE_CONTENT)
    request = request.check()
    checked_source(ctx, request)
    return ctx.engine.submit(job_clone.KIND, request.model_dump(mode="json"), created_by=who.login)
