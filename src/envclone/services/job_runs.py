"""Running jobs on demand: start (the job checked first: it exists, its kind runs, it has a
repository), stop (the job's open run is cancelled), and the run history."""

from __future__ import annotations

from envclone.domain import job_run
from envclone.domain.job_run import JobRunRequest
from envclone.domain.operation import Operation
from envclone.domain.principal import Permission, Principal
from envclone.errors import Conflict, NotFound
from envclone.operations.job_run.run import job_folder
from envclone.services.context import ServiceContext
from envclone.store import jobs
from envclone.store import operations as repo

HISTORY = 1000  # runs listed, newest first


def start_job(ctx: ServiceContext, who: Principal, job_uid: str) -> Operation:
    """Conflict while another run (or anything that changes content) holds the environment."""
    who.require(Permission.MIGRATE)
    job_folder(ctx, job_uid)
    return ctx.engine.submit(job_run.KIND, JobRunRequest(job_uid=job_uid).model_dump(), created_by=who.login)


def _open_runs(ctx: ServiceContext, job_uid: str) -> list[Operation]:
    with ctx.db.read() as conn:
        found = [
            op
            for status in repo.OPEN
            for op in repo.listing(conn, kind=job_run.KIND, status=status, limit=HISTORY, offset=0)
        ]
    return [op for op in found if op.params.get("job_uid") == job_uid]


def stop_job(ctx: ServiceContext, who: Principal, job_uid: str) -> Operation:
    """Cancel the job's open run and return it (it ends as cancelled, leaving no backup file);
    Conflict when the job is not running."""
    who.require(Permission.MIGRATE)
    runs = _open_runs(ctx, job_uid)
    if not runs:
        with ctx.db.read() as conn:
            if jobs.find_job(conn, job_uid) is None:
                raise NotFound(f"job {job_uid} not found")
        raise Conflict(f"job {job_uid} is not running")
    return ctx.engine.cancel(runs[0].id)


def list_runs(ctx: ServiceContext, who: Principal, job_uid: str | None = None) -> list[Operation]:
    """The newest runs first, of one job or of all."""
    who.require(Permission.READ_CONTENT)
    with ctx.db.snapshot() as conn:
        listed = repo.listing(conn, kind=job_run.KIND, status=None, limit=HISTORY, offset=0)
    chosen = [op for op in listed if job_uid is None or op.params.get("job_uid") == job_uid]
    return [ctx.engine.live(op) for op in chosen]


def get_run(ctx: ServiceContext, who: Principal, op_id: str) -> Operation:
    who.require(Permission.READ_CONTENT)
    op = ctx.engine.get(op_id)
    if op.kind != job_run.KIND:
        raise NotFound(f"backup session {op_id} not found")
    return op
