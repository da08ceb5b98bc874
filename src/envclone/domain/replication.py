"""What a replication job's definition says about its replica, and the rules a run checks: the
replica's URL and user, and a secret reference (the name of a file in the server's secrets folder
that holds the password), never the password itself; the replica's name is the source
environment's name followed by the job's VmSuffix. Pure: no I/O."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from envclone.domain.job_clone import VM_SUFFIX
from envclone.domain.job_run import folder_part
from envclone.errors import InvalidRequest

TARGET = "replicaTarget"  # where a replica job's definition keeps its target
SECRETS_DIR = "secrets"  # under the data directory
# Every option on: a replica is the whole environment, users, files and settings included.
REPLICA_OPTIONS = {
    "migrateUsers": True,
    "dataManagement": True,
    "jobConsole": True,
    "applicationAudit": True,
    "storedSnapshotsAndFiles": True,
    "maintenanceStartTime": True,
    "appProperties": True,
}


class ReplicaTarget(BaseModel):
    """``definition.replicaTarget``: ``{"url": ..., "user": ..., "secret": <name>}``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str = Field(min_length=1, max_length=2000)
    user: str = Field(min_length=1, max_length=250)
    secret: str = Field(min_length=1, max_length=250)


def replica_target(definition: dict[str, Any], job_name: str) -> ReplicaTarget:
    raw = definition.get(TARGET)
    if raw is None:
        raise InvalidRequest(
            f"replication job {job_name!r} names no replica: its definition needs "
            f'"{TARGET}": {{"url": ..., "user": ..., "secret": <secret file name>}}'
        )
    try:
        target = ReplicaTarget.model_validate(raw)
    except ValidationError as exc:
        fields = ", ".join(".".join((TARGET, *(str(p) for p in e["loc"]))) for e in exc.errors())
        raise InvalidRequest(f"replication job {job_name!r}: its definition's {fields} is not valid") from None
    folder_part(target.secret, "replica's secret name")
    return target


def replica_name(source_name: str, definition: dict[str, Any]) -> str:
    """The name the replica environment must have: the source's, then the job's suffix."""
    return f"{source_name}{definition.get(VM_SUFFIX) or ''}"
