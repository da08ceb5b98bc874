"""Job clone as envclone names it: the job kinds, the operation's kind and steps, its request (the
operation's parameters, one model for every caller) and the rules a clone must meet, by kind.
Pure: no I/O; the checks that need the store run in services and in the operation."""

from __future__ import annotations

import copy
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from envclone.errors import InvalidRequest

KIND = "cloneJob"
STEP_CHECK = "Checking the source job and the clone options"
STEP_REGISTER = "Registering the cloned job"
STEPS = (STEP_CHECK, STEP_REGISTER)

NAME_LIMIT = 50  # a job's name, as the clone documents limit it
TEXT_LIMIT = 2000  # a description, as the jobs table holds it
FIELD_LIMIT = 250  # a folder, file name or suffix (the jobs table's name width)
VM_SUFFIX = "vmSuffix"  # where a replica job's suffix lives in its definition


class JobType(StrEnum):
    BACKUP = "Backup"
    REPLICA = "Replica"
    BACKUP_COPY = "BackupCopy"
    IMMEDIATE_BACKUP_COPY = "ImmediateBackupCopy"

    @property
    def uses_repository(self) -> bool:
        """Backups and copies are written to a repository; a replica goes to another environment."""
        return self is not JobType.REPLICA


class JobKindMismatch(InvalidRequest, code="job_kind_mismatch", status=400):
    """The clone options are for another kind of job than the source job."""


class JobNameTaken(InvalidRequest, code="job_name_taken", status=400):
    """Another job already has this name."""


class RepositoryNotFound(InvalidRequest, code="repository_not_found", status=400):
    """The repository does not exist."""


class JobCloneRequest(BaseModel):
    """A clone of ``source_uid`` as a job of ``job_type``. What is None is taken from the source,
    except what the kind requires (see ``check``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source_uid: str = Field(min_length=1, max_length=FIELD_LIMIT)
    job_type: JobType
    name: str = Field(min_length=1, max_length=NAME_LIMIT)
    description: str | None = Field(None, max_length=TEXT_LIMIT)
    folder_name: str | None = Field(None, min_length=1, max_length=FIELD_LIMIT)
    repository_uid: str | None = Field(None, min_length=1, max_length=FIELD_LIMIT)
    vm_suffix: str | None = Field(None, min_length=1, max_length=FIELD_LIMIT)

    def check(self) -> JobCloneRequest:
        """The request itself, or InvalidRequest for what the kind requires and it lacks (or has
        and may not): backups and copies name a file and a repository, a replica a suffix."""
        wanted = {"folder_name", "repository_uid"} if self.job_type.uses_repository else {"vm_suffix"}
        given = {name for name in ("folder_name", "repository_uid", "vm_suffix") if getattr(self, name) is not None}
        if missing := wanted - given:
            raise InvalidRequest(f"a {self.job_type.value} job clone needs {', '.join(sorted(missing))}")
        if extra := given - wanted:
            raise InvalidRequest(f"a {self.job_type.value} job clone does not take {', '.join(sorted(extra))}")
        return self


def cloned_row(source: dict[str, Any], request: JobCloneRequest, new_uid: str) -> dict[str, Any]:
    """The new job's row: the source's settings, apart from what the clone sets, under a new UID.
    The definition is copied, not shared, so that the two jobs change independently."""
    definition = copy.deepcopy(source.get("definition") or {})
    if request.vm_suffix is not None:
        definition[VM_SUFFIX] = request.vm_suffix
    return {
        "uid": new_uid,
        "name": request.name,
        "job_type": source["job_type"],
        "description": source["description"] if request.description is None else request.description,
        "repository_uid": request.repository_uid if request.repository_uid is not None else source["repository_uid"],
        "folder_name": request.folder_name if request.folder_name is not None else source["folder_name"],
        "schedule_enabled": source["schedule_enabled"],
        "definition": definition,
    }
