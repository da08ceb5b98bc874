"""A job run as envclone names it: the operation kind of each job kind that runs, their steps and
weights, the request, and where a job's backups go (its repository's folder, then the job's folder
name). Pure: no I/O. What a replication or a copy needs beyond this: domain.replication,
domain.restore_point."""

from __future__ import annotations

import datetime as dt
from pathlib import Path, PurePath

from pydantic import BaseModel, ConfigDict, Field

from envclone.domain import clone
from envclone.domain.job_clone import FIELD_LIMIT, JobType
from envclone.domain.progress import step_phase
from envclone.errors import EnvcloneError, InvalidRequest

KIND = "runJob"  # a backup job's run
REPLICA_KIND = "runReplicaJob"
COPY_KIND = "runBackupCopyJob"  # backup copy and immediate backup copy jobs

BACKUP_STEP = "Writing the Environment Backup"
STORE_STEP = "Storing the backup file in the repository"
STEPS = (BACKUP_STEP, STORE_STEP)
# Writing the archive reads the whole environment; storing it copies its chunks once more.
PHASES = (step_phase(BACKUP_STEP, 60), step_phase(STORE_STEP, 40))

# A replication writes a fresh Environment Backup, then clones it to the replica as a clone does.
REPLICA_STEPS = (BACKUP_STEP, *clone.STEPS)
REPLICA_PHASES = (step_phase(BACKUP_STEP, 20), *clone.PHASES)

FIND_STEP = "Finding the source jobs' backups"
COPY_STEP = "Copying the missing chunks to the target repository"
COPY_STEPS = (FIND_STEP, COPY_STEP)
COPY_PHASES = (step_phase(FIND_STEP, 5), step_phase(COPY_STEP, 95))

KIND_OF: dict[JobType, str] = {
    JobType.BACKUP: KIND,
    JobType.REPLICA: REPLICA_KIND,
    JobType.BACKUP_COPY: COPY_KIND,
    JobType.IMMEDIATE_BACKUP_COPY: COPY_KIND,
}
KINDS = frozenset(KIND_OF.values())
REPOSITORIES_DIR = "repositories"  # under the data directory, for repositories with a relative path


class RepositoryUnwritable(EnvcloneError, code="repository_unwritable", status=409):
    """The job's repository folder cannot be written."""


class JobRunRequest(BaseModel):
    """The run's parameters: which job (its settings are read when the run starts), and for an
    immediate copy, the backup run whose new backup started it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    job_uid: str = Field(min_length=1, max_length=FIELD_LIMIT)
    after_run: str | None = Field(None, max_length=FIELD_LIMIT)


def kind_of(job_type: str) -> str:
    """The operation kind that runs a job of ``job_type``; InvalidRequest for a type that no run knows."""
    try:
        return KIND_OF[JobType(job_type)]
    except ValueError:
        raise InvalidRequest(f"{job_type} jobs cannot be started: no such job kind") from None


def folder_part(name: str, what: str) -> str:
    """``name`` as one folder name inside a repository: no separator, no '..', nothing hidden, so a
    job's folder can never lead outside its repository."""
    if not name or name != name.strip() or name in (".", "..") or name.startswith("."):
        raise InvalidRequest(f"the {what} {name!r} is not usable as a folder name")
    if any(c in name for c in '/\\\0:*?"<>|') or PurePath(name).name != name:
        raise InvalidRequest(f"the {what} {name!r} must be one folder name, without separators or reserved signs")
    return name


def is_bucket(path: str) -> bool:
    """A repository on an S3 bucket: its path is an ``s3://bucket/prefix?endpoint=...`` URL."""
    return path.startswith("s3://")


def repository_folder(data_dir: Path, path: str, name: str) -> Path:
    """A repository's folder: its path (a relative one under ``<data dir>/repositories``), or its
    name when it has no path."""
    folder = Path(path or folder_part(name, "repository name")).expanduser()
    return folder if folder.is_absolute() else data_dir / REPOSITORIES_DIR / folder


def backup_file_name(created: dt.datetime) -> str:
    """One file per run, named by its time (no ':' so that any file system takes it)."""
    return f"{created.strftime('%Y-%m-%dT%H-%M-%S')}_Environment_Backup.zip"
