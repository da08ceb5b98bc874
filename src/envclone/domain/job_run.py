"""A job run as envclone names it: the kind, its steps and their weights, its request, and where a
backup job's file goes (its repository's folder, then the job's folder name, then one file per
run). Pure: no I/O. Only backup jobs run so far; the other kinds say so."""

from __future__ import annotations

import datetime as dt
from pathlib import Path, PurePath

from pydantic import BaseModel, ConfigDict, Field

from envclone.domain.job_clone import FIELD_LIMIT, JobType
from envclone.domain.progress import step_phase
from envclone.errors import EnvcloneError, InvalidRequest

KIND = "runJob"
BACKUP_STEP = "Writing the Environment Backup"
STORE_STEP = "Storing the backup file in the repository"
STEPS = (BACKUP_STEP, STORE_STEP)
# Writing the archive reads the whole environment; storing it copies its chunks once more.
PHASES = (step_phase(BACKUP_STEP, 60), step_phase(STORE_STEP, 40))
RUNNABLE = frozenset({JobType.BACKUP})
REPOSITORIES_DIR = "repositories"  # under the data directory, for repositories with a relative path


class RepositoryUnwritable(EnvcloneError, code="repository_unwritable", status=409):
    """The job's repository folder cannot be written."""


class JobRunRequest(BaseModel):
    """The run's parameters: which job (its settings are read when the run starts)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    job_uid: str = Field(min_length=1, max_length=FIELD_LIMIT)


def check_runnable(job_type: str) -> None:
    if job_type not in RUNNABLE:
        raise InvalidRequest(f"{job_type} jobs cannot be started yet: only Backup jobs run so far")


def folder_part(name: str, what: str) -> str:
    """``name`` as one folder name inside a repository: no separator, no '..', nothing hidden, so a
    job's folder can never lead outside its repository."""
    if not name or name != name.strip() or name in (".", "..") or name.startswith("."):
        raise InvalidRequest(f"the {what} {name!r} is not usable as a folder name")
    if any(c in name for c in '/\\\0:*?"<>|') or PurePath(name).name != name:
        raise InvalidRequest(f"the {what} {name!r} must be one folder name, without separators or reserved signs")
    return name


def repository_folder(data_dir: Path, path: str, name: str) -> Path:
    """A repository's folder: its path (a relative one under ``<data dir>/repositories``), or its
    name when it has no path."""
    folder = Path(path or folder_part(name, "repository name")).expanduser()
    return folder if folder.is_absolute() else data_dir / REPOSITORIES_DIR / folder


def backup_file_name(created: dt.datetime) -> str:
    """One file per run, named by its time (no ':' so that any file system takes it)."""
    return f"{created.strftime('%Y-%m-%dT%H-%M-%S')}_Environment_Backup.zip"
