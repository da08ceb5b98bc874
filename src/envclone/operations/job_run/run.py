"""The runJob operation for a backup job: an Environment Backup written from one snapshot of the
database (deduplicated against the previous one, and kept in the backup catalogue like every
backup), then stored in its repository: its chunks into the repository's chunk store (those it
lacks), its restore point record and one exported package file into the job's folder. The file
appears under its final name only once it is whole; a cancel or a failure leaves no partial file."""

from __future__ import annotations

import datetime as dt
from typing import BinaryIO, cast

from envclone.archive import export_archive
from envclone.archive.package import package_size
from envclone.domain.archives import ArchiveKind
from envclone.domain.job_run import BACKUP_STEP, STORE_STEP, JobRunRequest, RepositoryUnwritable, backup_file_name
from envclone.domain.operation import Operation
from envclone.domain.restore_point import RestorePoint
from envclone.engine import Recorder
from envclone.operations.archiving import ALL_COMPONENTS, Written, write_archive
from envclone.operations.context import OperationContext
from envclone.operations.job_targets import job_repository, load_job
from envclone.operations.repository import PackageFile


class _Sink:
    """The package file being written: progress reported and cancel honoured as it goes."""

    def __init__(self, out: PackageFile, rec: Recorder) -> None:
        self._out, self._rec = out, rec
        self.size = 0

    def write(self, data: bytes) -> int:
        self._out.write(data)
        self.size += len(data)
        self._rec.advance(nbytes=len(data))
        self._rec.check_cancelled()
        return len(data)

    def flush(self) -> None:
        self._out.flush()


def run_job(ctx: OperationContext, op: Operation, rec: Recorder) -> None:
    request = JobRunRequest.model_validate(op.params)
    job = load_job(ctx, request.job_uid)
    repository, folder_name = job_repository(ctx, job)
    rec.set_result(jobUid=job["uid"], jobName=job["name"], jobType=job["job_type"])
    created = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    with rec.step(BACKUP_STEP):
        written = backup_now(ctx, rec, created)
    with rec.step(STORE_STEP):
        rec.plan(bytes_total=package_size(ctx.blobs, written.manifest) + written.size)
        point = RestorePoint(
            archive_id=written.manifest.archive_id, backup_name=written.name, created=created, job_uid=job["uid"]
        )
        try:
            file = repository.package_file(folder_name, backup_file_name(created), op.id)
            name, size = _store(ctx, rec, written.manifest.archive_id, file)
            stats = repository.publish(ctx.blobs, folder_name, point, lambda n: rec.advance(nbytes=n))
        except OSError as exc:
            raise RepositoryUnwritable(
                f"the backup file cannot be written to job {job['name']!r}'s folder: {exc.strerror or exc}"
            ) from None
        rec.set_result(
            fileName=name, folderName=folder_name, size=size, archiveId=point.archive_id,
            chunksStored=stats.chunks_sent, bytesStored=stats.bytes_sent,
        )  # fmt: skip


def backup_now(ctx: OperationContext, rec: Recorder, created: dt.datetime) -> Written:
    """An Environment Backup of the environment as it is now, recorded in the backup catalogue."""
    with ctx.db.snapshot() as conn:
        written = write_archive(ctx, conn, ArchiveKind.ENVIRONMENT_BACKUP, ALL_COMPONENTS, created, rec)
    rec.set_result(backupName=written.name)
    rec.check_cancelled()
    return written


def _store(ctx: OperationContext, rec: Recorder, archive_id: str, file: PackageFile) -> tuple[str, int]:
    """Write the package, then give it its name; a cancel or a failure leaves nothing visible."""
    try:
        sink = _Sink(file, rec)
        export_archive(ctx.blobs, archive_id, cast(BinaryIO, sink))
        rec.check_cancelled()
        return file.commit(), sink.size
    except BaseException:
        file.abort()
        raise
