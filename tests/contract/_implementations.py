"""Every implementation the contract suites run on. Adding a store is one line: a BlobStore to
BLOB_STORES (BlobChunkStore then runs over it too), any other ChunkStore to CHUNK_STORES."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from envclone.archive import BlobChunkStore, ChunkStore, PackChunkStore
from envclone.blobs import BlobStore, LocalBlobStore
from envclone.blobs.overlay import OverlayBlobStore
from tests.s3_server import shared_s3_server

# Each factory makes an empty store in a fresh temporary directory of its own.
BlobStoreFactory = Callable[[Path], BlobStore]
ChunkStoreFactory = Callable[[Path], ChunkStore]


def local_blob_store(tmp: Path) -> BlobStore:
    return LocalBlobStore(tmp / "blobs")


def overlay_blob_store(tmp: Path) -> BlobStore:
    """A dry run's store: an empty base seen through a scratch store (blobs/overlay.py)."""
    return OverlayBlobStore(LocalBlobStore(tmp / "base"), LocalBlobStore(tmp / "scratch"))


def s3_blob_store(tmp: Path) -> BlobStore:
    """An object store over real HTTP (moto's S3 server on loopback), below a prefix of its own in
    a bucket that other stores share: the suite's listings also prove the prefix isolates it."""
    return shared_s3_server().store()


BLOB_STORES: dict[str, BlobStoreFactory] = {
    "local": local_blob_store,
    "overlay": overlay_blob_store,
    "s3": s3_blob_store,
}


def _blob_chunks_over(make_blobs: BlobStoreFactory) -> ChunkStoreFactory:
    return lambda tmp: BlobChunkStore(make_blobs(tmp))


def _pack_chunks_over(make_blobs: BlobStoreFactory, target_size: int) -> ChunkStoreFactory:
    return lambda tmp: PackChunkStore(make_blobs(tmp), target_size=target_size)


CHUNK_STORES: dict[str, ChunkStoreFactory] = {
    **{f"blob-chunks-over-{name}": _blob_chunks_over(make) for name, make in BLOB_STORES.items()},
    **{f"pack-chunks-over-{name}": _pack_chunks_over(make, 16 * 1024 * 1024) for name, make in BLOB_STORES.items()},
    # Packs of a few KB: every few puts seal one, so sealing races with reads and puts.
    "small-pack-chunks-over-local": _pack_chunks_over(local_blob_store, 4096),
}
