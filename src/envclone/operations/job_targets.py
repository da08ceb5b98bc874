"""Where a job's run reads and writes, checked before anything is recorded and again when the run
starts: the job itself, its repository's folder and the job's folder in it, a replica's target and
secret, a copy's source jobs. Services call ``check_run`` so a client hears at once why a job
cannot run."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from envclone.blobs.store import open_blob_store
from envclone.domain.job_clone import JobType
from envclone.domain.job_run import folder_part, is_bucket, kind_of, repository_folder
from envclone.domain.page import Row
from envclone.domain.replication import SECRETS_DIR, ReplicaTarget, replica_target
from envclone.errors import EnvcloneError, InvalidRequest, NotFound
from envclone.operations.context import OperationContext
from envclone.operations.repository import BucketRepository, FolderRepository, Repository
from envclone.store import jobs

SECRET_LIMIT = 64 * 1024  # bytes: a password file, not anything larger
SOURCE_JOBS = "sourceJobs"  # where a copy job's definition lists the jobs whose backups it copies


def load_job(ctx: OperationContext, job_uid: str) -> Row:
    with ctx.db.read() as conn:
        job = jobs.find_job(conn, job_uid)
    if job is None:
        raise NotFound(f"job {job_uid} not found")
    return job


def job_repository(ctx: OperationContext, job: Row) -> tuple[Repository, str]:
    """The job's repository and the job's folder name in it (its folder or file name)."""
    with ctx.db.read() as conn:
        repository = jobs.find_repository(conn, job["repository_uid"]) if job["repository_uid"] else None
    if repository is None:
        raise InvalidRequest(f"job {job['name']!r} has no repository to write its backups to")
    job_folder = folder_part(job["folder_name"] or job["name"], "job's folder name")
    if is_bucket(repository["path"]):
        return _bucket(ctx, repository), job_folder
    base = repository_folder(ctx.settings.data_dir, repository["path"], repository["name"])
    return FolderRepository(base), job_folder


def _bucket(ctx: OperationContext, repository: Row) -> Repository:
    """A repository whose path is an s3:// URL, opened (its bucket checked) with the key of
    envclone's own object store if set, else the AWS environment variables and files. A bad URL
    or a bucket that refuses is the reason the job cannot run, not a server error."""
    what = f"repository {repository['name']!r}"
    try:
        store = open_blob_store(repository["path"], credentials=ctx.settings.blob_credentials())
    except ValueError as exc:
        raise InvalidRequest(f"{what}: {exc}") from None
    except EnvcloneError as exc:
        raise InvalidRequest(f"{what}: {exc.message}") from None
    return BucketRepository(store, repository["path"].split("?")[0])


def source_jobs(ctx: OperationContext, job: Row) -> list[Row]:
    """The backup jobs a copy job copies from, as its definition lists them."""
    listed = (job["definition"] or {}).get(SOURCE_JOBS)
    if not isinstance(listed, list) or not listed or not all(isinstance(uid, str) for uid in listed):
        raise InvalidRequest(f"backup copy job {job['name']!r} names no source job (its definition's {SOURCE_JOBS})")
    found = []
    for uid in dict.fromkeys(listed):
        source = load_job(ctx, uid)
        if source["job_type"] != JobType.BACKUP.value:
            raise InvalidRequest(f"job {source['name']!r} is a {source['job_type']} job: only backups are copied")
        job_repository(ctx, source)
        found.append(source)
    return found


def secret_path(ctx: OperationContext, target: ReplicaTarget) -> Path:
    return ctx.settings.data_dir / SECRETS_DIR / target.secret


def replica_password(ctx: OperationContext, job: Row) -> tuple[ReplicaTarget, str]:
    """The replica's target and its password: the first line of the secret file, read now (never
    stored elsewhere, never shown), which only its owner may read, as .pgpass and ssh keys must be.
    The errors name the secret, never its content nor the server's path."""
    target = replica_target(job["definition"] or {}, job["name"])
    what = f"replication job {job['name']!r}: the secret {target.secret!r}"
    path = secret_path(ctx, target)
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode) or info.st_size > SECRET_LIMIT:
            raise InvalidRequest(f"{what} is not a password file")
        if os.name == "posix" and info.st_mode & 0o077:
            raise InvalidRequest(f"{what} may be read by other users: chmod 600 it first")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        raise InvalidRequest(f"{what} is not in the server's secrets folder, or cannot be read") from None
    password = text.splitlines()[0] if text else ""
    if not password:
        raise InvalidRequest(f"{what} is empty")
    return target, password


def check_run(ctx: OperationContext, job_uid: str) -> str:
    """The operation kind that runs the job, or the error that keeps it from running."""
    job = load_job(ctx, job_uid)
    kind = kind_of(job["job_type"])
    if job["job_type"] == JobType.REPLICA.value:
        replica_password(ctx, job)
    else:
        job_repository(ctx, job)
    if job["job_type"] in (JobType.BACKUP_COPY.value, JobType.IMMEDIATE_BACKUP_COPY.value):
        source_jobs(ctx, job)
    return kind
