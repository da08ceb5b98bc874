"""Moving a one-blob-per-chunk store into packs (pack_gc.migrate_legacy, run by daily maintenance):
archives stay readable and verifiable throughout, a blob goes only once the pack and index blob
holding its chunk are durable, and a migration cut short anywhere resumes without loss."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from envclone.archive import (
    ArchiveReader,
    BlobChunkStore,
    ChunkLayout,
    Manifest,
    PackChunkStore,
    chunk_id,
    chunk_ids,
    chunks_of,
    compaction_due,
    migrate_chunks,
    set_default_layout,
    use_layout,
)
from envclone.archive.compress import DEFAULT_COMPRESSION, compression, encode
from envclone.archive.layout import default_layout
from envclone.archive.pack_gc import migrate_legacy
from envclone.archive.pack_index import INDEX_PREFIX, decode_index
from envclone.archive.packs import PACK_PREFIX
from envclone.blobs import BlobWriter, LocalBlobStore
from tests.s3_server import shared_s3_server

from ._helpers import write_archive
from .conftest import pseudo_random

CODEC = compression(DEFAULT_COMPRESSION)


@pytest.fixture
def old_store(tmp_path: Path) -> Iterator[tuple[LocalBlobStore, dict[str, dict[str, bytes]]]]:
    """A store written one blob per chunk (as before packs), holding three archives."""
    before = default_layout()
    set_default_layout(ChunkLayout.BLOBS)
    store = LocalBlobStore(tmp_path / "blobs")
    archives = {f"arch-{n}": {"a": pseudo_random(60_000, bytes([n])), "b": b"shared " * 4000} for n in range(3)}
    for archive_id, entries in archives.items():
        write_archive(store, entries, archive_id)
    set_default_layout(ChunkLayout.PACKS)
    yield store, archives
    set_default_layout(before)


def blob_chunks(store: LocalBlobStore) -> list[str]:
    return sorted(store.list("chunks/"))


def all_sound(root: Path, archives: dict[str, dict[str, bytes]]) -> None:
    """Every archive reads back whole and verifies, seen by a fresh process."""
    fresh = LocalBlobStore(root)
    for archive_id, entries in archives.items():
        with ArchiveReader.open(fresh, archive_id) as reader:
            assert reader.check() == [], archive_id
            for name, data in entries.items():
                assert reader.read_bytes("files", name) == data


def test_a_store_of_blobs_reads_through_packs_and_moves_into_them(
    old_store: tuple[LocalBlobStore, dict[str, dict[str, bytes]]],
) -> None:
    store, archives = old_store
    legacy = blob_chunks(store)
    assert legacy and not list(store.list(PACK_PREFIX))
    use_layout(store, ChunkLayout.PACKS)  # what a server with the default layout does at start
    assert isinstance(chunks_of(store), PackChunkStore) and compaction_due(store)
    all_sound(store.root, archives)  # before: verify reads the blobs
    moved = migrate_chunks(store)
    assert moved == len(legacy) and blob_chunks(store) == []
    assert list(store.list(PACK_PREFIX)) and not compaction_due(LocalBlobStore(store.root))
    all_sound(store.root, archives)  # after: verify reads the packs
    assert migrate_chunks(LocalBlobStore(store.root)) == 0


class WatchedStore(LocalBlobStore):
    """Records, at each chunk blob's deletion, whether a durable index blob names a pack holding
    that chunk; can crash (raise) at the n-th deletion or at a pack's commit."""

    def __init__(self, root: Path, *, crash_at_delete: int | None = None, crash_at_commit: int | None = None) -> None:
        super().__init__(root)
        self.synced_index: set[str] = set()
        self.deleted_unsafely: list[str] = []
        self.deletes = 0
        self.commits = 0
        self.crash_at_delete, self.crash_at_commit = crash_at_delete, crash_at_commit

    def sync(self) -> None:
        super().sync()
        self.synced_index = set(self.list(INDEX_PREFIX))

    def delete(self, key: str) -> None:
        cid = BlobChunkStore.id_of(key)
        if cid is not None:
            self.deletes += 1
            if self.deletes == self.crash_at_delete:
                raise OSError("crash while deleting blobs")
            if not any(self.exists(PACK_PREFIX + pack_id) for pack_id in self._durably_indexed(cid)):
                self.deleted_unsafely.append(cid)
        super().delete(key)

    def _durably_indexed(self, cid: str) -> set[str]:
        """Packs that index blobs present at the last sync place the chunk in."""
        raw, packs = bytes.fromhex(cid), set()
        for index_key in self.synced_index:
            if self.exists(index_key):
                blob = decode_index(self.get(index_key))
                packs |= {blob.packs[pack].pack_id for row, pack, _, _ in blob.entries if row == raw and pack >= 0}
        return packs

    def writer(self) -> BlobWriter:
        inner = super().writer()
        self.commits += 1
        if self.commits == self.crash_at_commit:

            class Crashing:
                def write(self, data: bytes) -> None:
                    inner.write(data)

                def commit(self, key: str) -> None:
                    inner.abort()
                    raise OSError("crash while storing a pack")

                def abort(self) -> None:
                    inner.abort()

            return Crashing()
        return inner


def test_a_blob_goes_only_once_its_chunk_is_durably_packed(
    old_store: tuple[LocalBlobStore, dict[str, dict[str, bytes]]],
) -> None:
    store, archives = old_store
    watched = WatchedStore(store.root)
    use_layout(watched, ChunkLayout.PACKS)
    # Small batches: several rounds of pack, index, sync, delete.
    assert migrate_legacy(PackChunkStore(watched, target_size=20_000), batch_bytes=30_000) > 0
    assert watched.deletes > 0 and watched.deleted_unsafely == []
    all_sound(store.root, archives)


@pytest.mark.parametrize("crash", [{"crash_at_commit": 2}, {"crash_at_delete": 3}, {"crash_at_delete": 1}])
def test_a_migration_cut_short_resumes_without_loss(
    old_store: tuple[LocalBlobStore, dict[str, dict[str, bytes]]], crash: dict[str, int]
) -> None:
    store, archives = old_store
    legacy = blob_chunks(store)
    crashing = WatchedStore(store.root, **crash)
    use_layout(crashing, ChunkLayout.PACKS)
    with pytest.raises(OSError, match="crash"):
        migrate_legacy(PackChunkStore(crashing, target_size=20_000), batch_bytes=30_000)
    assert crashing.deleted_unsafely == []
    left = blob_chunks(store)
    assert left and len(left) <= len(legacy)
    all_sound(store.root, archives)  # half moved: every archive still whole
    resumed = LocalBlobStore(store.root)  # the next maintenance, in a new process
    assert migrate_chunks(resumed) == len(left)
    assert blob_chunks(store) == []
    all_sound(store.root, archives)
    expected = {cid for archive_id in archives for cid in chunk_ids(_manifest(store, archive_id))}
    assert set(chunks_of(LocalBlobStore(store.root)).ids()) == expected


def _manifest(store: LocalBlobStore, archive_id: str) -> Manifest:
    with ArchiveReader.open(LocalBlobStore(store.root), archive_id) as reader:
        return reader.manifest


def test_a_store_of_blobs_on_s3_moves_into_packs() -> None:
    s3 = shared_s3_server()
    prefix = f"t-migrate-{time.time_ns()}/"
    made = {chunk_id(data): encode(data, CODEC) for data in (pseudo_random(5000, bytes([n])) for n in range(12))}
    legacy = BlobChunkStore(s3.store(prefix))
    for cid, blob in made.items():
        legacy.put(cid, blob)
    other = PackChunkStore(s3.store(prefix))  # another process, loaded while the blobs are there
    assert sorted(other.ids()) == sorted(made)
    assert migrate_legacy(PackChunkStore(s3.store(prefix), target_size=20_000)) == len(made)
    store = s3.store(prefix)
    assert list(store.list("chunks/")) == [] and list(store.list(PACK_PREFIX))
    assert all(PackChunkStore(s3.store(prefix)).get(cid) == blob for cid, blob in made.items())
    # The process loaded before finds each chunk in its pack once its blob is gone.
    assert all(other.get(cid) == blob for cid, blob in made.items())
