"""Errors of the archive format. Chunk errors name the chunk and the entry it belongs to, so a
damaged archive is reported precisely; nothing here decides what a caller does about it."""

from __future__ import annotations

from envclone.errors import EnvcloneError


class ArchiveError(EnvcloneError, code="archive_invalid", status=500, exit_code=6):
    """The archive is not valid."""


class ArchiveNotFound(ArchiveError, code="archive_not_found", status=404, exit_code=4):
    """The archive does not exist."""


class ManifestCorrupt(ArchiveError, code="manifest_corrupt"):
    """The archive's manifest is damaged: its content does not match its hash."""


class UnknownAlgorithm(ArchiveError, code="unknown_algorithm"):
    """The archive uses an algorithm this version of envclone does not know."""


class ChunkerUnavailable(ArchiveError, code="chunker_unavailable"):
    """The compiled FastCDC chunker is not available; only the slow pure-Python build is installed."""


class DuplicateEntry(ArchiveError, code="duplicate_entry", status=409, exit_code=5):
    """An entry with this name was already added to the component."""


class PackageCorrupt(ArchiveError, code="package_corrupt", status=422, exit_code=2):
    """The archive package file is damaged or not an archive package."""


class ChunkError(ArchiveError, code="chunk_error"):
    """A chunk of the archive cannot be read."""

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


class ChunkMissing(ChunkError, code="chunk_missing"):
    """A chunk of the archive is missing from the store."""


class ChunkCorrupt(ChunkError, code="chunk_corrupt"):
    """A chunk of the archive is damaged: its content does not match its name."""
