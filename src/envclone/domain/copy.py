"""Restore Backup (an archived backup copied in as a stored snapshot) as the rest of the code names
it: the kind, its step, the request and EPM's naming of the copy. Pure: no I/O."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

KIND = "restoreBackup"
STEP = "Copying backup into the environment"
STEPS = (STEP,)


class CopyRequest(BaseModel):
    """The copy operation's parameters (its dump)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    backup_name: str
    target_name: str


def default_target(backup_name: str) -> str:
    """EPM's convention: the backup's timestamp, an underscore, its kind's suffix
    (``2022-03-10T06:37:48_Artifact_Snapshot.zip``)."""
    return backup_name.replace("/", "_")
