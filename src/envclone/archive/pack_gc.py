"""Garbage collection of pack files, after gc (gc.py) marked deleted the chunks no kept archive
needs: at pack granularity, as restic's prune; and the move of a one-blob-per-chunk store into
packs. Part of the pack store split out for size; it works on PackChunkStore's state and follows
its order of writes (packs, then index, then deletions)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from envclone.archive.errors import ChunkMissing
from envclone.archive.pack_store import PackChunkStore
from envclone.archive.packs import PACK_PREFIX
from envclone.archive.writer import DEFAULT_GRACE_SECONDS
from envclone.blobs.store import read_range

# A pack whose garbage (deleted or superseded chunks) is more than this share of it is rewritten.
DEFAULT_REPACK_RATIO = 0.5
# More index blobs than this and daily maintenance compacts the store (one full index) even when
# nothing was pruned, so that loading stays quick. A writer never merges index blobs itself: they
# may be another process's (restic's rule: only prune rewrites the index).
MAX_INDEX_BLOBS = 256
# Stored bytes moved into packs between two syncs of a migration: what a crash makes it redo.
MIGRATION_BATCH_BYTES = 256 * 1024 * 1024


@dataclass
class CompactResult:
    dropped_packs: list[str] = field(default_factory=list)
    repacked_packs: list[str] = field(default_factory=list)
    young_packs: int = 0  # left alone, younger than the grace period
    migrated_chunks: int = 0
    reclaimed_bytes: int = 0


def compact_packs(
    chunks: PackChunkStore,
    *,
    repack_ratio: float = DEFAULT_REPACK_RATIO,
    grace_seconds: float = DEFAULT_GRACE_SECONDS,
    dry_run: bool = False,
) -> CompactResult:
    """At pack granularity, after gc deleted the chunks it may: drop packs with no live chunk,
    rewrite those whose garbage exceeds ``repack_ratio``, move chunks of the one-blob-per-chunk
    layout into packs, and replace every index blob by one full index. Runs under gc's rules
    (no session active), so only rewrites by writers that saw gc's marker race with it.

    A pack created less than ``grace_seconds`` ago is neither dropped nor rewritten (the age
    margin kopia's maintenance keeps before deleting blobs, rustic's ``keep-pack``; restic locks
    the repository instead): another process may have just stored it, and its index blob,
    naming its chunks as live, may not be written or seen yet."""
    chunks.refresh()  # other processes' packs and deletions count
    chunks.sync()
    st = chunks._st
    result = CompactResult()
    now = time.time()
    with st.lock:
        sealed = [(n, p) for n, p in enumerate(st.packs) if p.key is not None and n not in st.buffers]
        old = [(n, p) for n, p in sealed if now - p.created >= grace_seconds]
        result.young_packs = len(sealed) - len(old)
        drop = {n for n, p in old if p.live == 0}
        repack = {n for n, p in old if p.live > 0 and p.body - p.live > repack_ratio * p.body}
    if dry_run:
        result.dropped_packs = sorted(str(st.packs[n].key) for n in drop)
        result.repacked_packs = sorted(str(st.packs[n].key) for n in repack)
        return result
    _move_live(chunks, repack)
    result.migrated_chunks = migrate_legacy(chunks)
    with st.lock:
        gone = {n for n in drop | repack if st.packs[n].live == 0}
        result.reclaimed_bytes = sum(st.packs[n].body for n in gone)
        result.dropped_packs = sorted(str(st.packs[n].key) for n in gone & drop)
        result.repacked_packs = sorted(str(st.packs[n].key) for n in gone & repack)
    chunks._write_full(gone)
    for n in sorted(gone):
        key = st.packs[n].key
        if key is not None:
            chunks.blobs.delete(key)
        with st.lock:
            st.packs[n].key = None
            st.numbers.pop(key.removeprefix(PACK_PREFIX) if key else "", None)
    return result


def needs_compaction(chunks: PackChunkStore) -> bool:
    """Whether a compaction is due though nothing was pruned: chunks still one blob each (they
    move into packs), or so many index blobs that loading slows."""
    chunks.refresh()
    return chunks.holds_blob_chunks or chunks.index_blobs > MAX_INDEX_BLOBS


def _move_live(chunks: PackChunkStore, numbers: set[int]) -> None:
    """Rewrite the live chunks of these packs into new ones (the old copies become garbage)."""
    if not numbers:
        return
    st = chunks._st
    with st.lock:
        moves = [row for row in st.table.rows() if row[1] in numbers]
        keys = {n: st.packs[n].key for n in numbers}
    for raw, number, offset, length in moves:
        key = keys[number]
        data = read_range(chunks.blobs, key, offset, length) if key is not None else b""
        if len(data) != length:
            continue  # a damaged pack keeps its chunks where they are, for verify to report
        if chunks._where(raw) == (number, offset, length):
            chunks.put(raw.hex(), data, sync=False)
    chunks.sync()


def migrate_legacy(chunks: PackChunkStore, *, batch_bytes: int = MIGRATION_BATCH_BYTES) -> int:
    """Move every one-blob-per-chunk chunk into packs; returns how many moved. The blobs of a batch
    are deleted only once the packs and index blobs holding their chunks are durable (``sync``), so
    a crash at any point loses nothing, and the next run resumes: a chunk found in a pack already
    is not packed again, only its blob deleted. Bytes move as stored, unverified: a damaged chunk
    stays damaged in its pack, where verify names it as before. Needs no gc rule: every chunk
    stays readable throughout (a reader that misses a blob finds the pack through the index)."""
    st = chunks._st
    chunks._ensure_loaded()
    if not st.has_legacy:
        return 0
    moved = 0
    batch: list[str] = []
    size = 0

    def finish_batch() -> None:
        nonlocal size
        chunks.sync()  # packed and indexed durably before any blob of the batch goes
        for cid in batch:
            chunks._legacy.delete(cid)
        batch.clear()
        size = 0

    for cid in list(chunks._legacy.ids()):
        if chunks._where(bytes.fromhex(cid)) is None:
            try:
                blob = chunks._legacy.get(cid)
            except ChunkMissing:
                continue  # deleted meanwhile (gc), or moved by another process's migration
            chunks.put(cid, blob, sync=False)
            size += len(blob)
        batch.append(cid)
        moved += 1
        if size >= batch_bytes:
            finish_batch()
    finish_batch()
    st.has_legacy = next(iter(chunks._legacy.ids()), None) is not None
    return moved
