"""Have/want negotiation: the chunk ids an archive needs, which of them a store lacks (so a
transfer sends only the missing chunks), and the receiving side that verifies what arrives."""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

from envclone.archive.errors import ArchiveError
from envclone.archive.ids import DEFAULT_HASH, manifest_key
from envclone.archive.layout import chunks_of
from envclone.archive.manifest import ChunkRef, Manifest
from envclone.archive.reader import verify_chunk
from envclone.blobs import BlobStore


def chunk_ids(manifest: Manifest) -> list[str]:
    """Every chunk id the archive refers to, once each, in first-use order."""
    seen: dict[str, None] = {}
    for _, entry in manifest.entries():
        for ref in entry.chunks:
            seen.setdefault(ref.id, None)
    return list(seen)


def missing_chunks(store: BlobStore, ids: Iterable[str], *, workers: int = 8) -> list[str]:
    """The ids (in the given order, once each) whose chunk ``store`` does not hold. Existence checks
    run concurrently because a remote store answers each with a round trip."""
    unique = list(dict.fromkeys(ids))
    chunks = chunks_of(store)

    def absent(run: list[str]) -> list[str]:
        return [cid for cid in run if not chunks.exists(cid)]

    # A few runs of ids per worker, not one task per id: a future costs more than a look in an
    # index held in memory (a pack store's), and as many checks still run at once on a remote one.
    with ThreadPoolExecutor(max(1, workers)) as pool:

        def look(wanted: list[str]) -> list[str]:
            size = max(1, -(-len(wanted) // (max(1, workers) * 4)))
            runs = [wanted[i : i + size] for i in range(0, len(wanted), size)]
            return [cid for found in pool.map(absent, runs) for cid in found]

        missing = look(unique)
        if missing and chunks.refresh():  # another process sharing the store may hold some by now
            missing = look(missing)
    return missing


def missing_for(store: BlobStore, manifest: Manifest) -> list[str]:
    return missing_chunks(store, chunk_ids(manifest))


def accept_chunk(store: BlobStore, chunk_id: str, size: int, blob: bytes, hash_name: str = DEFAULT_HASH) -> bool:
    """Receive a stored chunk blob from a peer: decode it, check it is the chunk its id names, and
    store it unless already present. Raises ChunkCorrupt; returns whether it was new."""
    chunks = chunks_of(store)
    if chunks.exists(chunk_id):  # also validates the id
        return False
    verify_chunk(blob, ChunkRef(chunk_id, size), None, hash_name)
    # Made durable with the others by ``accept_manifest``: a chunk lost in a crash before then is
    # simply wanted again, and a pack store would otherwise seal one pack per chunk.
    chunks.put(chunk_id, blob, sync=False)
    return True


def accept_manifest(store: BlobStore, blob: bytes) -> Manifest:
    """Receive a manifest from a peer once all its chunks are here; publish it last, as a writer
    does. Raises ManifestCorrupt, or ArchiveError naming how many chunks are still missing."""
    manifest = Manifest.from_blob(blob)
    missing = missing_for(store, manifest)
    if missing:
        raise ArchiveError(f"archive {manifest.archive_id} is incomplete: {len(missing)} chunk(s) not received")
    chunks_of(store).sync()
    store.put(manifest_key(manifest.archive_id), blob)
    return manifest
