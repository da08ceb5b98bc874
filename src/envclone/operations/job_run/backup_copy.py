"""The runBackupCopyJob operation, for backup copy and immediate backup copy jobs: every restore
point of the source jobs' folders that the copy job's folder lacks is copied from the source's
repository into the copy job's, sending only the chunks the destination repository does not hold;
each point's record is written once its archive is whole there. A cancel between chunks leaves
the points copied so far, each whole; the next run copies only what is still missing."""

from __future__ import annotations

from dataclasses import dataclass

from envclone.archive import load_manifest
from envclone.domain.job_run import COPY_STEP, FIND_STEP, JobRunRequest
from envclone.domain.operation import Operation
from envclone.domain.restore_point import RestorePoint
from envclone.engine import Recorder
from envclone.operations.context import OperationContext
from envclone.operations.job_targets import job_repository, load_job, source_jobs
from envclone.operations.repository import Repository


@dataclass(frozen=True)
class _Copy:
    source: Repository
    point: RestorePoint
    size: int  # logical bytes of its archive


def run_backup_copy_job(ctx: OperationContext, op: Operation, rec: Recorder) -> None:
    request = JobRunRequest.model_validate(op.params)
    job = load_job(ctx, request.job_uid)
    destination, folder_name = job_repository(ctx, job)
    rec.set_result(jobUid=job["uid"], jobName=job["name"], jobType=job["job_type"], folderName=folder_name)
    with rec.step(FIND_STEP):
        have = {p.archive_id for p in destination.points(folder_name)}
        todo: list[_Copy] = []
        for source_job in source_jobs(ctx, job):
            source, source_folder = job_repository(ctx, source_job)
            for point in source.points(source_folder):
                if point.archive_id not in have:
                    have.add(point.archive_id)
                    manifest = load_manifest(source.blobs, point.archive_id)
                    todo.append(_Copy(source, point, sum(e.size for _, e in manifest.entries())))
        rec.set_result(restorePoints=len(todo))
        rec.check_cancelled()
    totals = {"chunks": 0, "chunksSent": 0, "bytesSent": 0, "bytesTotal": 0}
    copied: list[str] = []
    with rec.step(COPY_STEP):
        rec.plan(bytes_total=sum(c.size for c in todo))
        for item in todo:
            copy = item.point.model_copy(update={"job_uid": job["uid"], "copied_from": item.point.job_uid})
            stats = destination.publish(
                item.source.blobs, folder_name, copy, lambda n: rec.advance(nbytes=n), rec.check_cancelled
            )
            copied.append(copy.file_name)
            totals["chunks"] += stats.chunks
            totals["chunksSent"] += stats.chunks_sent
            totals["bytesSent"] += stats.bytes_sent
            totals["bytesTotal"] += stats.bytes_total
            rec.set_result(copied=copied, **totals)
        rec.set_result(copied=copied, **totals)
