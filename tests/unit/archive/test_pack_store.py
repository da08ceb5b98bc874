"""PackChunkStore's own layout: packs and index blobs, what survives a crash between them, index
loss and rebuild, repacking, and stores that still hold chunks one blob per chunk. Its ChunkStore
behaviour is held by tests/contract/test_chunk_store_contract.py."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from envclone.archive import BlobChunkStore, ChunkMissing, PackChunkStore, chunk_id, compact_packs, pack_gc, pack_store
from envclone.archive.compress import DEFAULT_COMPRESSION, compression, encode
from envclone.archive.pack_gc import needs_compaction
from envclone.archive.pack_index import INDEX_PREFIX, decode_index
from envclone.archive.packs import LAYOUT_KEY, PACK_PREFIX
from envclone.blobs import BlobStore, BlobWriter, LocalBlobStore

from .conftest import pseudo_random

CODEC = compression(DEFAULT_COMPRESSION)


def stored(n: int, size: int = 3000) -> tuple[str, bytes]:
    content = pseudo_random(size, n.to_bytes(4, "big"))
    return chunk_id(content), encode(content, CODEC)


def reopen(store: LocalBlobStore, target: int = 8192) -> PackChunkStore:
    """A new process's view of the same directory: nothing shared with earlier stores."""
    return PackChunkStore(LocalBlobStore(store.root), target_size=target)


def keys(store: BlobStore, prefix: str) -> list[str]:
    return sorted(store.list(prefix))


class FailingIndexPuts(LocalBlobStore):
    """A crash right after a pack was stored: every index blob put fails."""

    def put(self, key: str, data: bytes, *, sync: bool = True) -> None:
        if key.startswith(INDEX_PREFIX):
            raise OSError("crash before the index")
        super().put(key, data, sync=sync)


def test_chunks_go_to_packs_of_about_the_target_size(store: LocalBlobStore) -> None:
    chunks = PackChunkStore(store, target_size=8192)
    made = dict(stored(n) for n in range(10))
    for cid, blob in made.items():
        chunks.put(cid, blob, sync=False)
    chunks.sync()
    packs = keys(store, PACK_PREFIX)
    assert 3 <= len(packs) <= 5  # about 3 chunks of 3 KB a pack
    assert not list(store.list("chunks/"))
    assert all(store.size(key) < 8192 + 3100 + 200 for key in packs)
    again = reopen(store)
    assert sorted(again.ids()) == sorted(made)
    assert all(again.get(cid) == blob for cid, blob in made.items())


def test_a_pack_stored_without_its_index_is_found_again(tmp_path: Path) -> None:
    crashing = FailingIndexPuts(tmp_path / "blobs")
    cid, blob = stored(1)
    with pytest.raises(OSError, match="crash before the index"):
        PackChunkStore(crashing).put(cid, blob)
    assert len(keys(crashing, PACK_PREFIX)) == 1 and not keys(crashing, INDEX_PREFIX)
    again = reopen(crashing)
    assert again.get(cid) == blob
    assert list(again.ids()) == [cid]


def test_a_pack_stored_without_its_index_is_collected_as_garbage(tmp_path: Path) -> None:
    crashing = FailingIndexPuts(tmp_path / "blobs")
    cid, blob = stored(1)
    with pytest.raises(OSError):
        PackChunkStore(crashing).put(cid, blob)
    again = reopen(crashing)
    again.delete(cid)  # what gc does to an unreferenced chunk
    result = compact_packs(again, grace_seconds=0)
    assert result.dropped_packs and not keys(crashing, PACK_PREFIX)
    assert not reopen(crashing).exists(cid)


def test_a_damaged_pack_is_reported_and_never_read_as_chunks(store: LocalBlobStore) -> None:
    chunks = PackChunkStore(store)
    cid, blob = stored(1)
    chunks.put(cid, blob)
    for key in keys(store, INDEX_PREFIX):
        store.delete(key)
    (pack,) = keys(store, PACK_PREFIX)
    data = bytearray(store.get(pack))
    data[-40] ^= 0xFF  # inside the table's hash: the table cannot be trusted
    store.put(pack, bytes(data))
    again = reopen(store)
    assert again.damaged == [pack]
    assert not again.exists(cid)
    with pytest.raises(ChunkMissing):
        again.get(cid)


def test_lost_index_is_rebuilt_from_the_packs(store: LocalBlobStore) -> None:
    chunks = PackChunkStore(store, target_size=8192)
    made = dict(stored(n) for n in range(12))
    for cid, blob in made.items():
        chunks.put(cid, blob, sync=False)
    chunks.sync()
    for key in keys(store, INDEX_PREFIX):
        store.delete(key)
    again = reopen(store)
    assert sorted(again.ids()) == sorted(made)
    assert all(again.get(cid) == blob for cid, blob in made.items())
    compact_packs(again, grace_seconds=0)  # persists the rebuilt index
    assert len(keys(store, INDEX_PREFIX)) == 1
    assert decode_index(store.get(keys(store, INDEX_PREFIX)[0])).full


def test_a_damaged_index_blob_is_ignored_and_its_packs_read_again(store: LocalBlobStore) -> None:
    chunks = PackChunkStore(store, target_size=8192)
    made = dict(stored(n) for n in range(6))
    for cid, blob in made.items():
        chunks.put(cid, blob, sync=False)
    chunks.sync()
    first = keys(store, INDEX_PREFIX)[0]
    data = bytearray(store.get(first))
    data[10] ^= 1
    store.put(first, bytes(data))
    again = reopen(store)
    assert again.damaged == [first]
    assert sorted(again.ids()) == sorted(made)
    compact_packs(again, grace_seconds=0)
    assert first not in keys(store, INDEX_PREFIX)


def test_deletions_are_kept_in_the_index(store: LocalBlobStore) -> None:
    chunks = PackChunkStore(store)
    (a, blob_a), (b, blob_b) = stored(1), stored(2)
    chunks.put(a, blob_a)
    chunks.put(b, blob_b)
    chunks.delete(a)
    chunks.sync()
    again = reopen(store)
    assert list(again.ids()) == [b]
    assert not again.exists(a)
    again.put(a, blob_a)  # and a later put wins over the deletion
    assert sorted(reopen(store).ids()) == sorted([a, b])


def test_repack_rewrites_mostly_garbage_packs_and_drops_empty_ones(store: LocalBlobStore) -> None:
    chunks = PackChunkStore(store, target_size=16_000)
    made = dict(stored(n) for n in range(30))
    for cid, blob in made.items():
        chunks.put(cid, blob, sync=False)
    chunks.sync()
    before = keys(store, PACK_PREFIX)
    ids = list(made)
    kept = {ids[0], ids[10], ids[20]}  # one chunk in each of three packs; every other pack empties
    for cid in ids:
        if cid not in kept:
            chunks.delete(cid)
    dry = compact_packs(chunks, grace_seconds=0, dry_run=True)
    assert dry.dropped_packs and dry.repacked_packs
    assert keys(store, PACK_PREFIX) == before
    result = compact_packs(chunks, grace_seconds=0)
    assert set(result.dropped_packs) | set(result.repacked_packs) == set(before)
    assert result.reclaimed_bytes > 0
    after = keys(store, PACK_PREFIX)
    assert not set(after) & set(before) and len(after) == 1
    assert len(keys(store, INDEX_PREFIX)) == 1
    for view in (chunks, reopen(store)):
        assert sorted(view.ids()) == sorted(kept)
        assert all(view.get(cid) == made[cid] for cid in kept)


def test_a_full_index_names_a_chunk_rewritten_into_an_open_pack_where_it_was(store: LocalBlobStore) -> None:
    chunks = PackChunkStore(store)
    cid, blob = stored(1)
    chunks.put(cid, blob)
    (pack,) = keys(store, PACK_PREFIX)
    chunks.put(cid, blob, sync=False)  # a writer's rewrite while gc runs, not yet sealed
    with chunks._st.lock:  # the snapshot gc's full index takes, had the rewrite raced its seal
        full = chunks._full_index(set())
    # A crash before the open pack is stored must not lose a chunk that was durable before.
    assert [(raw.hex(), full.packs[n].pack_id) for raw, n, _, _ in full.entries] == [
        (cid, pack.removeprefix(PACK_PREFIX))
    ]


def test_old_one_blob_per_chunk_stores_stay_readable_and_move_into_packs(store: LocalBlobStore) -> None:
    old = dict(stored(n) for n in range(5))
    legacy = BlobChunkStore(store)
    for cid, blob in old.items():
        legacy.put(cid, blob)
    chunks = PackChunkStore(store)
    new = dict(stored(n) for n in range(100, 103))
    for cid, blob in new.items():
        chunks.put(cid, blob)
    assert list(store.list("chunks/"))
    assert sorted(chunks.ids()) == sorted({**old, **new})
    assert all(chunks.get(cid) == blob for cid, blob in {**old, **new}.items())
    gone = next(iter(old))
    chunks.delete(gone)
    assert not chunks.exists(gone) and not legacy.exists(gone)
    result = compact_packs(chunks, grace_seconds=0)
    assert result.migrated_chunks == 4
    assert list(store.list("chunks/")) == []
    survivors = {cid: blob for cid, blob in {**old, **new}.items() if cid != gone}
    for view in (chunks, reopen(store)):
        assert sorted(view.ids()) == sorted(survivors)
        assert all(view.get(cid) == blob for cid, blob in survivors.items())


def test_concurrent_puts_reads_and_syncs(store: LocalBlobStore) -> None:
    chunks = PackChunkStore(store, target_size=20_000)
    made = dict(stored(n, 2000) for n in range(300))
    items = list(made.items())
    errors: list[BaseException] = []
    stop = threading.Event()

    def reader() -> None:
        try:
            while not stop.is_set():
                for cid in list(chunks.ids()):
                    assert chunks.get(cid) == made[cid]
        except BaseException as exc:  # reported below
            errors.append(exc)

    def put(n: int) -> None:
        cid, blob = items[n]
        chunks.put(cid, blob, sync=n % 37 == 0)

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(put, range(len(items))))
        chunks.sync()
    finally:
        stop.set()
        thread.join()
    assert errors == []
    again = reopen(store)
    assert sorted(again.ids()) == sorted(made)
    assert all(again.get(cid) == blob for cid, blob in items)


def test_a_pack_removed_under_a_reader_is_read_where_the_chunk_moved(
    store: LocalBlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    chunks = PackChunkStore(store)
    (a, blob_a), (b, blob_b) = stored(1), stored(2)
    chunks.put(a, blob_a, sync=False)
    chunks.put(b, blob_b, sync=False)
    chunks.sync()
    chunks.delete(b)
    (old_pack,) = keys(store, PACK_PREFIX)
    real = pack_store.read_range
    raced: list[str] = []

    def read_racing_repack(blobs: BlobStore, key: str, offset: int, length: int) -> bytes:
        if not raced:  # between the reader's lookup and its read, a gc repacks the pack
            raced.append(key)
            assert compact_packs(chunks, repack_ratio=0.25, grace_seconds=0).repacked_packs == [old_pack]
        return real(blobs, key, offset, length)

    monkeypatch.setattr(pack_store, "read_range", read_racing_repack)
    assert chunks.get(a) == blob_a
    assert raced == [old_pack] and old_pack not in keys(store, PACK_PREFIX)


def test_shared_stores_see_one_index(store: LocalBlobStore) -> None:
    first, second = PackChunkStore.shared(store), PackChunkStore.shared(store)
    cid, blob = stored(1)
    first.put(cid, blob, sync=False)
    assert second.get(cid) == blob  # before any sync: one open pack per BlobStore


def test_another_process_writes_are_seen_on_a_miss(store: LocalBlobStore) -> None:
    reader = PackChunkStore(store)
    assert list(reader.ids()) == []
    cid, blob = stored(1)
    reopen(store).put(cid, blob)
    assert reader.get(cid) == blob


def test_many_small_index_blobs_are_merged_by_compaction_only(
    store: LocalBlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pack_gc, "MAX_INDEX_BLOBS", 4)
    chunks = PackChunkStore(store)
    made = dict(stored(n) for n in range(7))
    for n, (cid, blob) in enumerate(made.items()):
        chunks.put(cid, blob)  # a pack and an index blob each, never merged by a writer's sync
        assert len(keys(store, INDEX_PREFIX)) == n + 1
    assert needs_compaction(chunks)
    compact_packs(chunks, grace_seconds=0)
    assert len(keys(store, INDEX_PREFIX)) == 1 and not needs_compaction(reopen(store))
    assert sorted(reopen(store).ids()) == sorted(made)


class RefusingWriter:
    def __init__(self, inner: BlobWriter) -> None:
        self.inner = inner

    def write(self, data: bytes) -> None:
        self.inner.write(data)

    def commit(self, key: str) -> None:
        self.inner.abort()
        raise OSError("disk full")

    def abort(self) -> None:
        self.inner.abort()


class FailingPackCommits(LocalBlobStore):
    """A pack store whose next pack cannot be stored (a full disk)."""

    fail = False

    def writer(self) -> BlobWriter:  # type: ignore[override]
        inner = super().writer()
        return RefusingWriter(inner) if self.fail else inner


def test_a_pack_that_cannot_be_stored_leaves_earlier_copies_in_place(tmp_path: Path) -> None:
    blobs = FailingPackCommits(tmp_path / "blobs")
    chunks = PackChunkStore(blobs)
    (a, blob_a), (b, blob_b) = stored(1), stored(2)
    chunks.put(a, blob_a)
    blobs.fail = True
    chunks.put(a, blob_a, sync=False)  # rewritten, as during a gc
    chunks.put(b, blob_b, sync=False)
    with pytest.raises(OSError, match="disk full"):
        chunks.sync()
    assert chunks.get(a) == blob_a  # still in its first pack
    assert not chunks.exists(b)  # never stored: not claimed
    assert list(chunks.ids()) == [a]


def test_a_pack_the_background_sealer_cannot_store_fails_the_next_sync(tmp_path: Path) -> None:
    blobs = FailingPackCommits(tmp_path / "blobs")
    blobs.fail = True
    chunks = PackChunkStore(blobs, target_size=4000)
    made = dict(stored(n) for n in range(4))  # every second put fills a pack
    for cid, blob in made.items():
        chunks.put(cid, blob, sync=False)
    assert chunks._st.sealing  # the filled packs went to the background sealer
    with pytest.raises(OSError, match="disk full"):
        chunks.sync()
    assert list(chunks.ids()) == []  # nothing claimed that was never stored
    blobs.fail = False
    chunks.sync()  # the failure was reported once; the store goes on


class FailingMarker(LocalBlobStore):
    def put(self, key: str, data: bytes, *, sync: bool = True) -> None:
        if key == LAYOUT_KEY:
            raise OSError("read-only")
        super().put(key, data, sync=sync)


def test_a_pack_whose_marker_cannot_be_written_claims_none_of_its_chunks(tmp_path: Path) -> None:
    chunks = PackChunkStore(FailingMarker(tmp_path / "blobs"))
    cid, blob = stored(1)
    with pytest.raises(OSError, match="read-only"):
        chunks.put(cid, blob)
    assert not chunks.exists(cid)  # else a writer would reuse a chunk that is in memory only
    assert chunks._st.buffers == {}


def test_a_pack_open_too_long_is_sealed_at_the_next_put(store: LocalBlobStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pack_store, "MAX_OPEN_SECONDS", 0.05)
    chunks = PackChunkStore(store)  # packs of 16 MiB: size alone would seal none here
    (a, blob_a), (b, blob_b), (c, blob_c) = stored(1), stored(2), stored(3)
    chunks.put(a, blob_a, sync=False)
    time.sleep(0.1)
    chunks.put(b, blob_b, sync=False)  # a slow stream: the pack, open too long, is sealed with it
    chunks.put(c, blob_c, sync=False)  # into a new pack
    for work in list(chunks._st.sealing):
        work.result(10)
    # A process killed here (no sync) keeps ``a`` and ``b``, stored with their index; ``c`` is lost.
    crashed = reopen(store)
    assert sorted(crashed.ids()) == sorted([a, b]) and crashed.get(a) == blob_a and crashed.get(b) == blob_b


class CountingWriters(LocalBlobStore):
    """Counts the bytes each pack writer has been given, committed or not."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.written: list[int] = []

    def writer(self) -> BlobWriter:  # type: ignore[override]
        inner, index = super().writer(), len(self.written)
        self.written.append(0)
        store = self

        class Counting:
            def write(self, data: bytes) -> None:
                store.written[index] += len(data)
                inner.write(data)

            def commit(self, key: str) -> None:
                inner.commit(key)

            def abort(self) -> None:
                inner.abort()

        return Counting()


def test_an_open_pack_is_written_as_chunks_arrive_and_stored_only_when_sealed(tmp_path: Path) -> None:
    blobs = CountingWriters(tmp_path / "blobs")
    chunks = PackChunkStore(blobs)  # 16 MiB packs: these few chunks leave it open
    made = dict(stored(n) for n in range(5))
    for cid, blob in made.items():
        chunks.put(cid, blob, sync=False)
    # Every chunk went to the pack's writer as it came (a pack never sits whole in memory) ...
    assert blobs.written == [8 + sum(map(len, made.values()))]
    assert keys(blobs, PACK_PREFIX) == [] and keys(blobs, INDEX_PREFIX) == []  # ... yet no pack is visible
    cid = next(iter(made))
    assert chunks.get(cid) == made[cid]  # a read of one of its chunks seals it first
    assert len(keys(blobs, PACK_PREFIX)) == 1 and len(keys(blobs, INDEX_PREFIX)) == 1
    assert all(reopen(blobs).get(c) == b for c, b in made.items())
