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
    with ThreadPoolExecutor(max(1, workers)) as pool:
        present = list(pool.map(chunks.exists, unique))
        missing = [cid for cid, have in zip(unique, present, strict=True) if not have]
        if missing and chunks.refresh():  # another process sharing the store may hold some by now
            again = list(pool.map(chunks.exists, missing))
            missing = [cid for cid, have in zip(missing, again, strict=True) if not have]
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
