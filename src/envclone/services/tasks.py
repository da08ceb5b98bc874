"""The operations a job's client starts (job clones and runs), read, stopped or dismissed as the
tasks it holds, by number. Other operations are not tasks: their numbers are not found here."""

from __future__ import annotations

from enum import StrEnum

from envclone.domain import job_clone, job_run
from envclone.domain.operation import Operation
from envclone.domain.principal import Permission, Principal
from envclone.errors import NotFound
from envclone.services.context import ServiceContext
from envclone.store import operations as repo

# Each task kind, with what stopping or dismissing one takes: what starting one takes.
TASK_KINDS: dict[str, Permission] = {job_clone.KIND: Permission.WRITE_CONTENT, job_run.KIND: Permission.MIGRATE}


class TaskEnd(StrEnum):
    STOPPED = "stopped"  # it was open: cancelled, its change not made
    REMOVED = "removed"  # it had finished: its record is gone


def get_task(ctx: ServiceContext, who: Principal, number: int) -> Operation:
    who.require(Permission.READ_CONTENT)
    with ctx.db.read() as conn:
        try:
            op: Operation | None = repo.load_seq(conn, number)
        except NotFound:
            op = None
    if op is None or op.kind not in TASK_KINDS:
        raise NotFound(f"task {number} not found")
    return ctx.engine.get(op.id)


def end_task(ctx: ServiceContext, who: Principal, number: int) -> TaskEnd:
    """Stop an open task (its change is then not made; NotCancellable once it is being made) or
    remove a finished one's record."""
    op = get_task(ctx, who, number)
    who.require(TASK_KINDS[op.kind])
    if not op.status.is_terminal:
        ctx.engine.cancel(op.id)
        return TaskEnd.STOPPED
    with ctx.db.begin() as conn:
        if not repo.forget(conn, op.id):
            raise NotFound(f"task {number} not found")
    return TaskEnd.REMOVED
