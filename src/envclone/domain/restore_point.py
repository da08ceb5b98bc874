"""A repository's layout, as backup, copy and verify read it: one chunk store for the whole
repository (``chunks/``, ``manifests/``, as a blob store at the repository's folder, so that the
backups of every job kept there share their chunks), and in each job's folder one restore point
record per backup, naming the archive, written only once the archive's manifest is published.
A backup job also keeps each backup as an exported package file (.zip) beside its record. Pure."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

POINT_SUFFIX = ".point.json"


class RestorePoint(BaseModel):
    """One backup in a job's folder: which archive of the repository's chunk store it is, when it
    was taken, by which job, and (for a copy) the job it was copied from."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    archive_id: str = Field(min_length=1, max_length=200)
    backup_name: str = Field(min_length=1, max_length=250)
    created: dt.datetime
    job_uid: str = Field(min_length=1, max_length=250)
    copied_from: str | None = Field(None, max_length=250)

    @property
    def file_name(self) -> str:
        """The record's name in its job's folder: the backup's time, as the package file has it, and
        its archive's id (itself unique and sortable by time)."""
        return f"{self.created.strftime('%Y-%m-%dT%H-%M-%S')}_{self.archive_id}{POINT_SUFFIX}"
