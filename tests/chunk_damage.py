"""Ways to damage one stored chunk in a local blob store, whatever its chunk layout (one blob per
chunk, or a slice of a pack file), for the tests that check damage is reported by chunk name."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
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


@contextmanager
def damaged(root: Path, cid: str) -> Iterator[None]:
    """One byte in the middle of the chunk's stored form flipped for the block (inside its pack,
    whose other chunks stay sound), put back afterwards. ``root`` is a local blob store's folder,
    read afresh, so a server's latest packs and index are seen."""
    path, offset, length = chunk_bytes(LocalBlobStore(root), cid)
    original = path.read_bytes()
    spoiled = bytearray(original)
    spoiled[offset + length // 2] ^= 0xFF
    path.write_bytes(bytes(spoiled))
    try:
        yield
    finally:
        path.write_bytes(original)


def damage_every_chunk(root: Path) -> int:
    """Overwrite the middle byte of every stored chunk (in packs and in one-blob-per-chunk files);
    returns how many were damaged."""
    store = LocalBlobStore(root)
    count = 0
    for cid in list(chunks_of(store).ids()):
        path, offset, length = chunk_bytes(store, cid)
        data = bytearray(path.read_bytes())
        data[offset + length // 2] ^= 0xFF
        path.write_bytes(bytes(data))
        count += 1
    return count


def lose(store: LocalBlobStore, cid: str) -> None:
    """Make the chunk missing, as a lost file would."""
    chunks = chunks_of(store)
    if isinstance(chunks, PackChunkStore) and chunks.location(cid) is not None:
        chunks.delete(cid)  # a pack holds others too: only this chunk goes
        chunks.sync()  # recorded in the index, so that a fresh reader of the store misses it too
    else:
        store.path(BlobChunkStore.key(cid)).unlink()
