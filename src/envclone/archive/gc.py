"""Garbage collection: delete the chunks (and old manifests) that no kept archive refers to.

Safety rule with concurrent writers, in three parts:
1. Grace: a chunk blob younger than ``grace_seconds`` is never deleted, nor is a manifest created
   within it. A writer's new chunks are young until it publishes its manifest, so writers (and
   imports) must finish within the grace period (default one day).
2. Sessions: a writer reuses an existing chunk without rewriting it, relying on an old blob. So each
   writer puts ``sessions/<archive-id>`` before its first existence check (and each reader
   ``sessions/read-<uuid>`` while it reads, so that a pruned archive's chunks outlive a stream of
   it that had begun), and gc puts
   ``gc/active`` before it reads the sessions, and sweeps nothing while a session younger than
   ``session_timeout`` (default one day) exists. Whichever comes second sees the other: gc skips
   the sweep, or the writer rewrites every chunk instead of reusing it (making them young again).
3. Age is read again just before each delete, keeping the window with a writer's rewrite minimal.
With pack files (pack_store.py) a deleted chunk is only marked so, dated with gc's start: the
deletion covers no copy stored since (by a writer that began after gc read the sessions, and so
rewrote what it reused), in this process or any other that loads the index. ``pack_gc.compact_packs``
then works at pack granularity: it drops packs left with no live chunk, rewrites those mostly
garbage (packs younger than the grace period excepted: another process may have just stored one),
moves chunks still stored one blob per chunk into packs, and writes one full index.
Chunk age comes from the ChunkStore (for one blob per chunk: the BlobStore's ``mtime(key)`` if it
has one, else the file under ``path(key)``); a chunk or manifest whose age cannot be known is never
deleted.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from envclone.archive._age import blob_age
from envclone.archive._session import GC_MARKER, SESSION_PREFIX, marker_age, put_marker
from envclone.archive.errors import ArchiveError
from envclone.archive.ids import manifest_key
from envclone.archive.layout import chunks_of
from envclone.archive.manifest import Manifest
from envclone.archive.pack_gc import CompactResult, compact_packs, migrate_legacy, needs_compaction
from envclone.archive.pack_store import PackChunkStore
from envclone.archive.reader import list_archives, load_manifest
from envclone.archive.writer import DEFAULT_GRACE_SECONDS
from envclone.blobs import BlobStore


@dataclass
class GcResult:
    kept_archives: list[str] = field(default_factory=list)
    deleted_archives: list[str] = field(default_factory=list)
    referenced_chunks: int = 0
    deleted_chunks: list[str] = field(default_factory=list)
    young_chunks: int = 0
    skipped: str | None = None
    packs: CompactResult | None = None  # what was done to pack files, for a pack store


def gc(
    store: BlobStore,
    keep_manifests: Iterable[str],
    *,
    grace_seconds: float = DEFAULT_GRACE_SECONDS,
    session_timeout: float = DEFAULT_GRACE_SECONDS,
    dry_run: bool = False,
) -> GcResult:
    """Delete what no kept archive refers to, following the rule in this module's docstring. A kept
    archive whose manifest is missing or damaged aborts the run: its chunks cannot be known.
    Session markers older than ``session_timeout`` are taken for crashed writers and ignored."""
    result = GcResult()
    started = time.time()  # before the marker: a writer gc does not see as a session began later
    put_marker(store, GC_MARKER)
    try:
        live = [
            k for k in store.list(SESSION_PREFIX) if (age := marker_age(store, k)) is not None and age < session_timeout
        ]
        if live:
            result.skipped = f"{len(live)} reader(s) or writer(s) active: {', '.join(sorted(live)[:5])}"
            return result
        keep = set(keep_manifests)
        referenced: set[str] = set()
        now = time.time()
        for archive_id in sorted(keep | set(list_archives(store))):
            if archive_id in keep:
                manifest: Manifest | None = load_manifest(store, archive_id)
            else:
                manifest = _try_load(store, archive_id)
                age = blob_age(store, manifest_key(archive_id), now)
                fresh = manifest is not None and now - manifest.created_at.timestamp() < grace_seconds
                if not fresh and age is not None and age >= grace_seconds:
                    result.deleted_archives.append(archive_id)
                    if not dry_run:
                        store.delete(manifest_key(archive_id))
                    continue
            result.kept_archives.append(archive_id)
            if manifest is not None:
                referenced.update(ref.id for _, entry in manifest.entries() for ref in entry.chunks)
        result.referenced_chunks = len(referenced)
        chunks = chunks_of(store)
        if isinstance(chunks, PackChunkStore):
            chunks.refresh()  # chunks other processes stored count, and their ages
        for cid in list(chunks.ids()):
            if cid in referenced:
                continue
            age = chunks.age(cid, time.time())
            if age is None or age < grace_seconds:
                result.young_chunks += 1
                continue
            result.deleted_chunks.append(cid)
            if dry_run:
                continue
            if isinstance(chunks, PackChunkStore):
                chunks.delete(cid, before=started)
            else:
                chunks.delete(cid)
        if isinstance(chunks, PackChunkStore):
            result.packs = compact_packs(chunks, grace_seconds=grace_seconds, dry_run=dry_run)
        return result
    finally:
        store.delete(GC_MARKER)


def compaction_due(store: BlobStore) -> bool:
    """Whether a pack store wants gc's compaction though nothing was pruned: it still holds chunks
    one blob per chunk, or many index blobs. Always False for a store of one blob per chunk."""
    chunks = chunks_of(store)
    return isinstance(chunks, PackChunkStore) and needs_compaction(chunks)


def migrate_chunks(store: BlobStore) -> int:
    """Move a pack store's remaining one-blob-per-chunk chunks into packs (``pack_gc.migrate_legacy``:
    safe to interrupt, resumed by the next call); how many moved. Needs none of gc's rules, so
    daily maintenance runs it even when active sessions make gc skip its sweep."""
    chunks = chunks_of(store)
    return migrate_legacy(chunks) if isinstance(chunks, PackChunkStore) else 0


def _try_load(store: BlobStore, archive_id: str) -> Manifest | None:
    try:
        return load_manifest(store, archive_id)
    except ArchiveError:
        return None
