"""The file areas of an environment's files component. A stored snapshot is a package file of
the ``snapshots`` area; the names are stored in the files table and must stay stable."""

from enum import StrEnum


class FileArea(StrEnum):
    INBOX = "inbox"
    OUTBOX = "outbox"
    SNAPSHOTS = "snapshots"
