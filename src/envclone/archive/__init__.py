"""The archive format (DESIGN.md "Archives"): content-defined chunks named by their BLAKE3 hash,
zstd-compressed and stored once in a BlobStore, plus a self-hashed manifest. No database, no HTTP."""

from envclone.archive.chunk_store import BlobChunkStore, ChunkStore, chunks_of
from envclone.archive.chunker import CHUNKERS, COMPILED, DEFAULT_CHUNKER, Chunker, ChunkerSpec, chunker_spec
from envclone.archive.compress import COMPRESSIONS, DEFAULT_COMPRESSION, Compression, compression
from envclone.archive.errors import (
    ArchiveError,
    ArchiveNotFound,
    ChunkCorrupt,
    ChunkError,
    ChunkerUnavailable,
    ChunkMissing,
    DuplicateEntry,
    ManifestCorrupt,
    PackageCorrupt,
    UnknownAlgorithm,
)
from envclone.archive.gc import GcResult, gc
from envclone.archive.ids import HASHES, chunk_id, manifest_key, new_archive_id
from envclone.archive.manifest import Algorithms, ChunkRef, ComponentEntries, Entry, EntryKind, Manifest
from envclone.archive.negotiate import accept_chunk, accept_manifest, chunk_ids, missing_chunks, missing_for
from envclone.archive.package import (
    PackageStats,
    export_archive,
    import_archive,
    is_package,
    package_size,
    read_package_manifest,
    verify_package,
)
from envclone.archive.reader import ArchiveReader, list_archives, load_manifest
from envclone.archive.writer import ArchiveWriter, WriteStats

__all__ = [
    "CHUNKERS",
    "COMPILED",
    "COMPRESSIONS",
    "DEFAULT_CHUNKER",
    "DEFAULT_COMPRESSION",
    "HASHES",
    "Algorithms",
    "ArchiveError",
    "ArchiveNotFound",
    "ArchiveReader",
    "ArchiveWriter",
    "BlobChunkStore",
    "ChunkCorrupt",
    "ChunkError",
    "ChunkMissing",
    "ChunkRef",
    "ChunkStore",
    "Chunker",
    "ChunkerSpec",
    "ChunkerUnavailable",
    "ComponentEntries",
    "Compression",
    "DuplicateEntry",
    "Entry",
    "EntryKind",
    "GcResult",
    "Manifest",
    "ManifestCorrupt",
    "PackageCorrupt",
    "PackageStats",
    "UnknownAlgorithm",
    "WriteStats",
    "accept_chunk",
    "accept_manifest",
    "chunk_id",
    "chunk_ids",
    "chunker_spec",
    "chunks_of",
    "compression",
    "export_archive",
    "gc",
    "import_archive",
    "is_package",
    "list_archives",
    "load_manifest",
    "manifest_key",
    "missing_chunks",
    "missing_for",
    "new_archive_id",
    "package_size",
    "read_package_manifest",
    "verify_package",
]
