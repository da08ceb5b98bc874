"""Running jobs on demand: start (the job checked first: it exists, its kind runs, what it reads
and writes is there), stop (the job's open run is cancelled), the run history, and the immediate
backup copies that a finished backup run starts."""

from __future__ import annotations

import logging

from envclone.domain import job_run
from envclone.domain.job_clone import JobType
from envclone.domain.job_run import JobRunRequest
from envclone.domain.operation import Operation, OperationStatus
from envclone.domain.principal import Permission, Principal
from envclone.errors import Conflict, EnvcloneError, NotFound
from envclone.operations.job_targets import SOURCE_JOBS, check_run
from envclone.services.context import ServiceContext
from envclone.store import jobs
from envclone.store import operations as repo

HISTORY = 1000  # runs listed, newest first
log = logging.getLogger("envclone.jobs")


def start_job(ctx: ServiceContext, who: Principal, job_uid: str) -> Operation:
    """Conflict while another run (or anything that changes content) holds the environment."""
    who.require(Permission.MIGRATE)
    kind = check_run(ctx, job_uid)
    return ctx.engine.submit(kind, JobRunRequest(job_uid=job_uid).model_dump(), created_by=who.login)


def _listing(ctx: ServiceContext, status: str | None) -> list[Operation]:
    """Runs of every kind, newest first (the latest HISTORY of each kind)."""
    with ctx.db.snapshot() as conn:
        found = [
            op
            for kind in sorted(job_run.KINDS)
            for op in repo.listing(conn, kind=kind, status=status, limit=HISTORY, offset=0)
        ]
    return sorted(found, key=lambda op: op.seq or 0, reverse=True)[:HISTORY]


def _open_runs(ctx: ServiceContext, job_uid: str) -> list[Operation]:
    found = [op for status in repo.OPEN for op in _listing(ctx, status)]
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
    chosen = [op for op in _listing(ctx, None) if job_uid is None or op.params.get("job_uid") == job_uid]
    return [ctx.engine.live(op) for op in chosen]


def get_run(ctx: ServiceContext, who: Principal, op_id: str) -> Operation:
    who.require(Permission.READ_CONTENT)
    op = ctx.engine.get(op_id)
    if op.kind not in job_run.KINDS:
        raise NotFound(f"backup session {op_id} not found")
    return op


def copy_new_backups(ctx: ServiceContext, finished: Operation) -> list[Operation]:
    """After a backup run succeeded: start a run of every immediate backup copy job that copies
    that backup job's backups, as the backup run's user. A copy that cannot start now (its
    repository gone, say) is logged and shows in no run; the next backup starts it again, and it
    copies every backup it still lacks."""
    if finished.kind != job_run.KIND or finished.status is not OperationStatus.SUCCEEDED:
        return []
    source = finished.params.get("job_uid")
    with ctx.db.read() as conn:
        followers = [
            row
            for row in jobs.list_jobs(conn)
            if row["job_type"] == JobType.IMMEDIATE_BACKUP_COPY.value
            and source in ((row["definition"] or {}).get(SOURCE_JOBS) or [])
        ]
    started = []
    for row in followers:
        request = JobRunRequest(job_uid=row["uid"], after_run=finished.id)
        try:
            kind = check_run(ctx, row["uid"])
            started.append(ctx.engine.submit(kind, request.model_dump(), created_by=finished.created_by))
        except EnvcloneError as exc:
            log.warning("immediate backup copy job %s did not start: %s", row["uid"], exc.message)
    return started
