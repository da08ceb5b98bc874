"""The runJob operation for a backup job: an Environment Backup written from one snapshot of the
database (deduplicated against the previous one, and kept in the backup catalogue like every
backup), then stored as one package file in the job's folder of its repository. The file appears
under its final name only once it is whole; a cancel or a failure leaves no partial file."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import BinaryIO, cast

from envclone.archive import export_archive
from envclone.archive.package import package_size
from envclone.domain.archives import ArchiveKind
from envclone.domain.job_run import (
    BACKUP_STEP,
    STORE_STEP,
    JobRunRequest,
    RepositoryUnwritable,
    backup_file_name,
    check_runnable,
    folder_part,
    repository_folder,
)
from envclone.domain.operation import Operation
from envclone.domain.page import Row
from envclone.engine import Recorder
from envclone.errors import InvalidRequest, NotFound
from envclone.operations.archiving import ALL_COMPONENTS, write_archive
from envclone.operations.context import OperationContext
from envclone.store import jobs


class _Sink:
    """The package file being written: progress reported and cancel honoured as it goes."""

    def __init__(self, out: BinaryIO, rec: Recorder) -> None:
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


def job_folder(ctx: OperationContext, job_uid: str) -> tuple[Row, Path]:
    """The job and the folder its backups go to; the error that keeps it from running."""
    with ctx.db.read() as conn:
        job = jobs.find_job(conn, job_uid)
        if job is None:
            raise NotFound(f"job {job_uid} not found")
        check_runnable(job["job_type"])
        repository = jobs.find_repository(conn, job["repository_uid"]) if job["repository_uid"] else None
    if repository is None:
        raise InvalidRequest(f"job {job['name']!r} has no repository to write its backups to")
    base = repository_folder(ctx.settings.data_dir, repository["path"], repository["name"])
    return job, base / folder_part(job["folder_name"] or job["name"], "job's folder name")


def _free_name(folder: Path, name: str) -> Path:
    target, n = folder / name, 1
    while target.exists():
        stem, _, ext = name.rpartition(".")
        target, n = folder / f"{stem}_{n}.{ext}", n + 1
    return target


def run_job(ctx: OperationContext, op: Operation, rec: Recorder) -> None:
    request = JobRunRequest.model_validate(op.params)
    job, folder = job_folder(ctx, request.job_uid)
    rec.set_result(jobUid=job["uid"], jobName=job["name"], jobType=job["job_type"])
    created = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    with rec.step(BACKUP_STEP):
        with ctx.db.snapshot() as conn:
            written = write_archive(ctx, conn, ArchiveKind.ENVIRONMENT_BACKUP, ALL_COMPONENTS, created, rec)
        rec.set_result(backupName=written.name)
        rec.check_cancelled()
    with rec.step(STORE_STEP):
        rec.plan(bytes_total=package_size(ctx.blobs, written.manifest))
        try:
            target, size = _store(ctx, op, rec, written.manifest.archive_id, folder, created)
        except OSError as exc:
            raise RepositoryUnwritable(
                f"the backup file cannot be written to job {job['name']!r}'s folder: {exc.strerror or exc}"
            ) from None
        rec.set_result(fileName=target.name, folderName=folder.name, size=size)


def _store(
    ctx: OperationContext, op: Operation, rec: Recorder, archive_id: str, folder: Path, created: dt.datetime
) -> tuple[Path, int]:
    """Write the package under a hidden name, then give it its own. Runs hold the environment one
    at a time, so a hidden part file already there is what an interrupted run left: removed."""
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob(".*.part"):
        stale.unlink(missing_ok=True)
    part = folder / f".{op.id}.part"
    try:
        with part.open("wb") as out:
            sink = _Sink(out, rec)
            export_archive(ctx.blobs, archive_id, cast(BinaryIO, sink))
            out.flush()
            os.fsync(out.fileno())
        rec.check_cancelled()
        target = _free_name(folder, backup_file_name(created))
        os.replace(part, target)
    finally:
        part.unlink(missing_ok=True)
    return target, sink.size
