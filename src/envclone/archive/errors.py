"""Errors of the archive format. Chunk errors name the chunk and the entry it belongs to, so a
damaged archive is reported precisely; nothing here decides what a caller does about it."""

from __future__ import annotations

from envclone.errors import EnvcloneError


class ArchiveError(EnvcloneError):
    """The archive is not valid."""

    code = "archive_invalid"
    status = 500
    exit_code = 6


class ArchiveNotFound(ArchiveError):
    """The archive does not exist."""

    code = "archive_not_found"
    status = 404
    exit_code = 4


class ManifestCorrupt(ArchiveError):
    """The archive's manifest is damaged: its content does not match its hash."""

    code = "manifest_corrupt"


class UnknownAlgorithm(ArchiveError):
    """The archive uses an algorithm this version of envclone does not know."""

    code = "unknown_algorithm"


class ChunkerUnavailable(ArchiveError):
    """The compiled FastCDC chunker is not available; only the slow pure-Python build is installed."""

    code = "chunker_unavailable"


class DuplicateEntry(ArchiveError):
    """An entry with this name was already added to the component."""

    code = "duplicate_entry"
    status = 409
    exit_code = 5


class PackageCorrupt(ArchiveError):
    """The archive package file is damaged or not an archive package."""

    code = "package_corrupt"
    status = 422
    exit_code = 2


class ChunkError(ArchiveError):
    """A chunk of the archive cannot be read."""

    code = "chunk_error"

    def __init__(self, chunk_id: str, entry: str | None = None, reason: str | None = None) -> None:
        self.chunk_id = chunk_id
        self.entry = entry
        where = f" (entry {entry})" if entry else ""
        why = f": {reason}" if reason else ""
        headline = (self.__doc__ or self.code).strip().rstrip(".")
        super().__init__(
            f"{headline}: chunk {chunk_id}{where}{why}",
            details={"chunk": chunk_id, "entry": entry, "reason": reason},
        )


class ChunkMissing(ChunkError):
    """A chunk of the archive is missing from the store."""

    code = "chunk_missing"


class ChunkCorrupt(ChunkError):
    """A chunk of the archive is damaged: its content does not match its name."""

    code = "chunk_corrupt"
