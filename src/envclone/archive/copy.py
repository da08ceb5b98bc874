"""Copying one archive from a blob store into another (a backup into a repository, a repository's
backup into a second one): only the chunks the destination lacks cross, each verified against its
id on the way in, and the manifest is published last, so a copy cut short leaves no archive that
names a missing chunk and the next copy sends only what is still missing."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from envclone.archive.ids import manifest_key
from envclone.archive.layout import chunks_of
from envclone.archive.negotiate import accept_chunk, chunk_ids, missing_chunks
from envclone.archive.reader import load_manifest
from envclone.blobs import BlobStore

PARALLEL = 4
WINDOW = 64  # chunks in flight at most, so memory stays flat however large the archive


@dataclass
class CopyStats:
    chunks: int = 0
    chunks_sent: int = 0
    bytes_total: int = 0  # logical bytes of the archive
    bytes_sent: int = 0  # stored (compressed) bytes written to the destination
    already: bool = False  # the destination already held the archive


def copy_archive(
    source: BlobStore,
    destination: BlobStore,
    archive_id: str,
    on_done: Callable[[int], None] = lambda n: None,
    check: Callable[[], None] = lambda: None,
) -> CopyStats:
    """``on_done(n)`` counts logical bytes done (those the destination had included); ``check``
    may raise to stop (a cancel) between chunks. Raises ChunkMissing or ChunkCorrupt when the
    source is damaged: nothing damaged is copied."""
    manifest = load_manifest(source, archive_id)
    sizes = {ref.id: ref.size for _, entry in manifest.entries() for ref in entry.chunks}
    ids = chunk_ids(manifest)
    stats = CopyStats(chunks=len(ids), bytes_total=sum(sizes.values()))
    if destination.exists(manifest_key(archive_id)):
        stats.already = True
        on_done(stats.bytes_total)
        return stats
    missing = missing_chunks(destination, ids)
    absent = set(missing)
    on_done(sum(size for cid, size in sizes.items() if cid not in absent))
    reader = chunks_of(source)

    def move(cid: str) -> int:
        blob = reader.get(cid)
        accept_chunk(destination, cid, sizes[cid], blob, manifest.algorithms.hash)
        return len(blob)

    with ThreadPoolExecutor(PARALLEL, thread_name_prefix="archive-copy") as pool:
        for start in range(0, len(missing), WINDOW):
            batch = missing[start : start + WINDOW]
            for cid, sent in zip(batch, pool.map(move, batch), strict=True):
                stats.chunks_sent += 1
                stats.bytes_sent += sent
                on_done(sizes[cid])
            check()
    chunks_of(destination).sync()
    destination.put(manifest_key(archive_id), manifest.to_blob())
    return stats
