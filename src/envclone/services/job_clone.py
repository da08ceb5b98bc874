"""Cloning a job: the request checked against the store (source, kind, name, repository) before
anything is recorded, then run as a cloneJob operation; and the operations such a request starts,
read, stopped or dismissed as the tasks a client holds."""

from __future__ import annotations

from enum import StrEnum

from envclone.domain import job_clone
from envclone.domain.job_clone import JobCloneRequest
from envclone.domain.operation import Operation
from envclone.domain.principal import Permission, Principal
from envclone.errors import NotFound
from envclone.operations.job_clone.run import checked_source
from envclone.services.context import ServiceContext
from envclone.store import operations as repo

# The operation kinds a job's client sees as tasks.
TASK_KINDS = frozenset({job_clone.KIND})


class TaskEnd(StrEnum):
    STOPPED = "stopped"  # it was running: cancelled, its change not made
    REMOVED = "removed"  # it had finished: its record is gone


def start_job_clone(ctx: ServiceContext, who: Principal, request: JobCloneRequest) -> Operation:
    who.require(Permission.WRITE_CONTENT)
    request = request.check()
    checked_source(ctx, request)
    return ctx.engine.submit(job_clone.KIND, request.model_dump(mode="json"), created_by=who.login)


def get_task(ctx: ServiceContext, who: Principal, number: int) -> Operation:
    who.require(Permission.READ_CONTENT)
    with ctx.db.read() as conn:
        try:
            op = repo.load_seq(conn, number)
        except NotFound:
            op = None
    if op is None or op.kind not in TASK_KINDS:
        raise NotFound(f"task {number} not found")
    return ctx.engine.get(op.id)


def end_task(ctx: ServiceContext, who: Principal, number: int) -> TaskEnd:
    """Stop a running task (its change is then not made; NotCancellable once it is being made)
    or remove a finished one's record."""
    who.require(Permission.WRITE_CONTENT)
    op = get_task(ctx, who, number)
    if not op.status.is_terminal:
        ctx.engine.cancel(op.id)
        return TaskEnd.STOPPED
    with ctx.db.begin() as conn:
        if not repo.forget(conn, op.id):
            raise NotFound(f"task {number} not found")
    return TaskEnd.REMOVED
