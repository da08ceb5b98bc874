"""The runReplicaJob operation: a replication job clones this environment to its replica. It writes
a fresh Environment Backup (so the replica is the environment as it is now, not as the last
maintenance left it), then clones that backup, every component and option on, through the clone's
own steps (operations.clone), to a target that must be named as the job's replica. The password
comes from the job's secret file when the run starts and lives in memory only."""

from __future__ import annotations

import datetime as dt

from envclone.domain.archives import ArchiveKind
from envclone.domain.clone import CloneRequest, check_target_url
from envclone.domain.job_run import BACKUP_STEP, JobRunRequest
from envclone.domain.operation import Operation
from envclone.domain.replication import REPLICA_OPTIONS, replica_name
from envclone.engine import Recorder
from envclone.operations.archiving import ALL_COMPONENTS, write_archive
from envclone.operations.clone.run import clone_environment
from envclone.operations.context import OperationContext
from envclone.operations.job_targets import load_job, replica_password


def run_replica_job(ctx: OperationContext, op: Operation, rec: Recorder) -> None:
    request = JobRunRequest.model_validate(op.params)
    job = load_job(ctx, request.job_uid)
    target, password = replica_password(ctx, job)
    name = replica_name(ctx.settings.environment_name, job["definition"] or {})
    rec.set_result(jobUid=job["uid"], jobName=job["name"], jobType=job["job_type"], replicaName=name)
    created = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    with rec.step(BACKUP_STEP):
        with ctx.db.snapshot() as conn:
            written = write_archive(ctx, conn, ArchiveKind.ENVIRONMENT_BACKUP, ALL_COMPONENTS, created, rec)
        rec.set_result(backupName=written.name)
        rec.check_cancelled()
    clone = CloneRequest(
        target_url=check_target_url(target.url),
        target_user=target.user,
        snapshot_name=written.name,
        options=REPLICA_OPTIONS,
        replica_name=name,
    )
    clone_environment(ctx, rec, clone, password)
