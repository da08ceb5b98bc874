"""Ways to damage one stored chunk in a local blob store, whatever its chunk layout (one blob per
chunk, or a slice of a pack file), for the tests that check damage is reported by chunk name."""

from __future__ import annotations

from pathlib import Path

from envclone.archive import BlobChunkStore, PackChunkStore, chunks_of
from envclone.blobs import LocalBlobStore


def chunk_bytes(store: LocalBlobStore, cid: str) -> tuple[Path, int, int]:
    """The file holding the chunk's stored form, its offset there and its length."""
    chunks = chunks_of(store)
    if isinstance(chunks, PackChunkStore) and (where := chunks.location(cid)) is not None:
        key, offset, length = where
        return store.path(key), offset, length
    path = store.path(BlobChunkStore.key(cid))
    return path, 0, path.stat().st_size


def flip_bit(store: LocalBlobStore, cid: str, position: int = -1, bit: int = 0) -> None:
    """Flip one bit of the chunk's stored form (``position`` counts from its end if negative)."""
    path, offset, length = chunk_bytes(store, cid)
    data = bytearray(path.read_bytes())
    data[offset + position % length] ^= 1 << bit
    path.write_bytes(bytes(data))


def lose(store: LocalBlobStore, cid: str) -> None:
    """Make the chunk missing, as a lost file would."""
    chunks = chunks_of(store)
    if isinstance(chunks, PackChunkStore) and chunks.location(cid) is not None:
        chunks.delete(cid)  # a pack holds others too: only this chunk goes
    else:
        store.path(BlobChunkStore.key(cid)).unlink()
