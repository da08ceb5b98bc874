"""The cloneJob operation: check the request against the store as it is when the operation runs
(the source may have gone, the name been taken meanwhile), then register the new job in one
transaction after the point of no return. A cancel before that point leaves no job behind."""

from __future__ import annotations

import uuid

from envclone.domain.job_clone import (
    STEP_CHECK,
    STEP_REGISTER,
    JobCloneRequest,
    JobKindMismatch,
    JobNameTaken,
    RepositoryNotFound,
    cloned_row,
)
from envclone.domain.operation import Operation
from envclone.domain.page import Row
from envclone.engine import Recorder
from envclone.errors import NotFound
from envclone.operations.context import OperationContext
from envclone.store import jobs

UID_PREFIX = "urn:veeam:Job:"


def checked_source(ctx: OperationContext, request: JobCloneRequest) -> Row:
    """The source job, or the error that refuses this clone now: source gone, another kind, name
    taken, repository missing. Services run the same checks before recording the operation."""
    with ctx.db.read() as conn:
        source = jobs.find_job(conn, request.source_uid)
        if source is None:
            raise NotFound(f"job {request.source_uid} not found")
        if source["job_type"] != request.job_type.value:
            raise JobKindMismatch(
                f"job {source['name']!r} is a {source['job_type']} job; "
                f"{request.job_type.value} clone options do not apply to it"
            )
        if jobs.job_named(conn, request.name) is not None:
            raise JobNameTaken(f"a job named {request.name!r} already exists")
        if request.repository_uid is not None and jobs.find_repository(conn, request.repository_uid) is None:
            raise RepositoryNotFound(f"repository {request.repository_uid} not found")
    return source


def run_job_clone(ctx: OperationContext, op: Operation, rec: Recorder) -> None:
    request = JobCloneRequest.model_validate(op.params).check()
    with rec.step(STEP_CHECK):
        source = checked_source(ctx, request)
        rec.check_cancelled()
    with rec.step(STEP_REGISTER):
        row = cloned_row(source, request, f"{UID_PREFIX}{uuid.uuid4()}")
        rec.pass_point_of_no_return()
        with ctx.db.begin() as conn:
            if jobs.job_named(conn, request.name) is not None:  # taken since the check
                raise JobNameTaken(f"a job named {request.name!r} already exists")
            jobs.insert_job(conn, row)
        rec.set_result(jobUid=row["uid"], jobName=row["name"], sourceUid=source["uid"])
