"""The archive format (DESIGN.md "Archives"): content-defined chunks named by their BLAKE3 hash,
zstd-compressed and stored once in a BlobStore, plus a self-hashed manifest. No database, no HTTP."""

from envclone.archive.chunk_store import BlobChunkStore, ChunkStore
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
from envclone.archive.gc import GcResult, compaction_due, gc, migrate_chunks
from envclone.archive.ids import HASHES, chunk_id, manifest_key, new_archive_id
from envclone.archive.layout import ChunkLayout, chunks_of, layout_of, set_default_layout, use_layout
from envclone.archive.manifest import Algorithms, ChunkRef, ComponentEntries, Entry, EntryKind, Manifest
from envclone.archive.negotiate import accept_chunk, accept_manifest, chunk_ids, missing_chunks, missing_for
from envclone.archive.pack_gc import CompactResult, compact_packs
from envclone.archive.pack_store import PackChunkStore
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
    "ChunkLayout",
    "ChunkMissing",
    "ChunkRef",
    "ChunkStore",
    "Chunker",
    "ChunkerSpec",
    "ChunkerUnavailable",
    "CompactResult",
    "ComponentEntries",
    "Compression",
    "DuplicateEntry",
    "Entry",
    "EntryKind",
    "GcResult",
    "Manifest",
    "ManifestCorrupt",
    "PackChunkStore",
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
    "compact_packs",
    "compaction_due",
    "compression",
    "export_archive",
    "gc",
    "import_archive",
    "is_package",
    "layout_of",
    "list_archives",
    "load_manifest",
    "manifest_key",
    "migrate_chunks",
    "missing_chunks",
    "missing_for",
    "new_archive_id",
    "package_size",
    "read_package_manifest",
    "set_default_layout",
    "use_layout",
    "verify_package",
]
