"""The two kinds of archive daily maintenance writes, as EPM names them, and how an archive's name
is made from its kind and creation time. Pure naming; the archives repository is store/archives.py."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum


class ArchiveKind(StrEnum):
    ENVIRONMENT_BACKUP = "environment_backup"  # every component, records and files included
    ARTIFACT_SNAPSHOT = "artifact_snapshot"  # what a migration needs (DESIGN.md, "the environment's content")

    @property
    def suffix(self) -> str:
        return "Environment_Backup" if self is ArchiveKind.ENVIRONMENT_BACKUP else "Artifact_Snapshot.zip"


def archive_name(kind: ArchiveKind | str, created: dt.datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SS/Environment_Backup`` (or ``.../Artifact_Snapshot.zip``)."""
    return f"{created.strftime('%Y-%m-%dT%H:%M:%S')}/{ArchiveKind(kind).suffix}"
