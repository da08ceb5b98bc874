"""Garbage collection of pack files, after gc (gc.py) marked deleted the chunks no kept archive
needs: at pack granularity, as restic's prune. Part of the pack store split out for size; it works
on PackChunkStore's state and follows its order of writes (packs, then index, then deletions)."""

from __future__ import annotations

from dataclasses import dataclass, field

from envclone.archive.errors import ChunkMissing
from envclone.archive.pack_store import PackChunkStore
from envclone.archive.packs import PACK_PREFIX
from envclone.blobs.store import read_range

# A pack whose garbage (deleted or superseded chunks) is more than this share of it is rewritten.
DEFAULT_REPACK_RATIO = 0.5


@dataclass
class CompactResult:
    dropped_packs: list[str] = field(default_factory=list)
    repacked_packs: list[str] = field(default_factory=list)
    migrated_chunks: int = 0
    reclaimed_bytes: int = 0


def compact_packs(
    chunks: PackChunkStore, *, repack_ratio: float = DEFAULT_REPACK_RATIO, dry_run: bool = False
) -> CompactResult:
    """At pack granularity, after gc deleted the chunks it may: drop packs with no live chunk,
    rewrite those whose garbage exceeds ``repack_ratio``, move chunks of the one-blob-per-chunk
    layout into packs, and replace every index blob by one full index. Runs under gc's rules
    (no session active), so only rewrites by writers that saw gc's marker race with it."""
    chunks.sync()
    st = chunks._st
    result = CompactResult()
    with st.lock:
        sealed = [(n, p) for n, p in enumerate(st.packs) if p.key is not None and n not in st.buffers]
        drop = {n for n, p in sealed if p.live == 0}
        repack = {n for n, p in sealed if p.live > 0 and p.body - p.live > repack_ratio * p.body}
    if dry_run:
        result.dropped_packs = sorted(str(st.packs[n].key) for n in drop)
        result.repacked_packs = sorted(str(st.packs[n].key) for n in repack)
        return result
    _move_live(chunks, repack)
    result.migrated_chunks = _migrate_legacy(chunks)
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


def _migrate_legacy(chunks: PackChunkStore) -> int:
    """Move every one-blob-per-chunk chunk into packs, deleting each blob once packed."""
    st = chunks._st
    if not st.has_legacy:
        return 0
    moved: list[str] = []
    for cid in list(chunks._legacy.ids()):
        if chunks._where(bytes.fromhex(cid)) is None:
            try:
                chunks.put(cid, chunks._legacy.get(cid), sync=False)
            except ChunkMissing:
                continue
        moved.append(cid)
    chunks.sync()  # packed and indexed before any blob goes
    for cid in moved:
        chunks._legacy.delete(cid)
    st.has_legacy = next(iter(chunks._legacy.ids()), None) is not None
    return len(moved)
