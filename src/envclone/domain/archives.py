"""The two kinds of archive daily maintenance writes, as EPM names them, how an archive's name is
made from its kind and creation time, and its age in words. Pure; the archives repository is
store/archives.py."""

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


def age_text(seconds: float) -> str:
    """An archive's age in words: ``45 s``, ``12 min``, ``3 h 5 min``, ``2 d 4 h``."""
    days, rest = divmod(max(0, int(seconds)), 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min" if minutes else f"{secs} s"
